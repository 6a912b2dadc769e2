/*
 * cmd_tariffs: tariffs import, tariffs show.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "args.h"
#include "cmd.h"
#include "input.h"

#include "tariff.h" /* proto: nomenclature codes, dates */

enum { TI_FORMAT_IN };
const struct opt_def tariffs_import_opts[] = {
    {"format-in", 0, "csv|json", "format of FILE (default: csv when FILE ends in .csv, else json)"},
    {NULL, 0, NULL, NULL},
};

enum { TS_DATE };
const struct opt_def tariffs_show_opts[] = {
    {"date", 0, "YYYY-MM-DD", "only the line valid on that day"},
    {NULL, 0, NULL, NULL},
};

static bool ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

int cmd_tariffs_import(struct ctx *c)
{
    const char *path = c->pos[0], *fmt = c->opt[TI_FORMAT_IN];
    bool csv;
    char *body;
    size_t len;

    if (fmt) {
        if (strcmp(fmt, "csv") != 0 && strcmp(fmt, "json") != 0)
            return usage_error("--format-in: expected csv or json, not '%s'", fmt);
        csv = strcmp(fmt, "csv") == 0;
    } else {
        csv = ends_with_ci(path, ".csv");
    }
    if (!*path)
        return usage_error("tariffs import: empty FILE");
    int rc = read_input(path, &body, &len);
    if (rc != EXIT_OK)
        return rc;
    const char *name = input_name(path);
    if (csv && strspn(body, " \t\r\n") == len)
        rc = local_error("%s: empty; expected CSV tariff lines", name);
    else if (!csv)
        rc = check_json(name, body, len, cJSON_Array, 0);
    if (rc == EXIT_OK) {
        struct api_request rq = {
            .method = "PUT",
            .path = "/v1/tariffs",
            .body = body,
            .body_len = len,
            .content_type = csv ? "text/csv" : "application/json",
        };
        rc = exchange_and_print(c, &rq, NULL);
    }
    free(body);
    return rc;
}

int cmd_tariffs_show(struct ctx *c)
{
    const char *code = c->pos[0], *date = c->opt[TS_DATE];
    if (!*code)
        return usage_error("tariffs show: empty CODE");
    if (date && !date_parse(date, strlen(date), &(pdate){0}))
        return usage_error("--date: expected a calendar date YYYY-MM-DD, not '%s'", date);
    if (!tariff_code_valid(code, strlen(code)))
        fprintf(stderr, "medaid: warning: code '%s' is not 6 digits\n", code);
    char *e = api_escape_segment(code);
    char *path = NULL;
    int n = !e     ? -1
            : date ? asprintf(&path, "/v1/tariffs/%s?date=%s", e, date)
                   : asprintf(&path, "/v1/tariffs/%s", e);
    free(e);
    if (n < 0)
        return local_error("out of memory");
    struct api_request rq = {.method = "GET", .path = path};
    int rc = exchange_and_print(c, &rq, output_tariff_table);
    free(path);
    return rc;
}
