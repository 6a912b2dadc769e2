/*
 * cmd_beneficiary: beneficiary decisions (a person's decisions).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "args.h"
#include "cmd.h"

int cmd_beneficiary_decisions(struct ctx *c)
{
    const char *ssin = c->pos[0];
    char *path = NULL;
    if (!*ssin)
        return usage_error("beneficiary decisions: empty SSIN");
    if (!is_digits(ssin, 11))
        fprintf(stderr, "medaid: warning: SSIN '%s' is not 11 digits\n", ssin);
    char *e = api_escape_segment(ssin);
    if (!e || asprintf(&path, "/v1/beneficiaries/%s/decisions", e) < 0) {
        free(e);
        return local_error("out of memory");
    }
    free(e);
    struct api_request rq = {.method = "GET", .path = path};
    int rc = exchange_and_print(c, &rq, output_decision_list_table);
    free(path);
    return rc;
}
