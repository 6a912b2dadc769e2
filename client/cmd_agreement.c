/*
 * cmd_agreement: agreement show, agreement void.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "args.h"
#include "cmd.h"

const struct opt_def agreement_void_opts[] = {
    OPT_IDEMPOTENCY_KEY,
    {NULL, 0, NULL, NULL},
};

/* "/v1/agreements/NUMBER" + suffix, NUMBER escaped; NULL (after a message) on failure */
static char *agreement_path(const char *what, const char *number, const char *suffix, int *rc)
{
    return cmd_path(what, "/v1/agreements", "NUMBER", number, suffix, rc);
}

/* an agreement is the recorded coverage answer */
static void agreement_table(FILE *out, const cJSON *doc)
{
    if (cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(doc, "covered")))
        output_coverage_table(out, doc);
    else
        output_generic_table(out, doc);
}

/* The body is printed as received; a void is said by the header
 * Agreement-Voided-At: on stderr, and as "voided at" in the table. */
int cmd_agreement_show(struct ctx *c)
{
    int rc;
    char *path = agreement_path("agreement show", c->pos[0], "", &rc);
    if (!path)
        return rc;
    struct api_request rq = {.method = "GET", .path = path, .capture = "Agreement-Voided-At"};
    struct api_response res;
    cJSON *doc = NULL;
    api_exchange(&c->api, &rq, &res);
    free(path);
    rc = receive(c, &res, &doc);
    if (rc == EXIT_OK) {
        if (res.captured) {
            fputs("medaid: this agreement was voided at ", stderr);
            for (const char *p = res.captured; *p; p++)
                fputc((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p, stderr);
            fputc('\n', stderr);
            if (cJSON_IsObject(doc) && !cJSON_GetObjectItemCaseSensitive(doc, "voided_at"))
                cJSON_AddStringToObject(doc, "voided_at", res.captured);
        }
        emit(c, &res, doc, agreement_table);
    }
    cJSON_Delete(doc);
    api_response_free(&res);
    return rc;
}

int cmd_agreement_void(struct ctx *c)
{
    struct write w;
    int rc = write_prepare(c, "agreement void", false, &w);
    if (rc != EXIT_OK)
        return rc;
    char *path = agreement_path("agreement void", c->pos[0], "/void", &rc);
    if (!path)
        return rc;
    rc = write_send_as(c, &w, "POST", path, "{}", 2, output_generic_table);
    free(path);
    return rc;
}
