/*
 * cmd_card: medaid card SSIN --date D | --from F --to T: the provider's
 * view of a person's card (GET /v1/beneficiaries/{ssin}/card).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "date.h" /* proto */
#include "args.h"
#include "cmd.h"

enum { CA_DATE, CA_FROM, CA_TO };
const struct opt_def card_opts[] = {
    {"date", 0, "YYYY-MM-DD", "the card on this date"},
    {"from", 0, "YYYY-MM-DD", "the first day of a period (with --to; at most 31 days)"},
    {"to", 0, "YYYY-MM-DD", "the last day of the period"},
    {NULL, 0, NULL, NULL},
};

static const char *str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static const char *yes(const cJSON *o, const char *name)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, name)) ? "yes" : "no";
}

static void render_card(FILE *out, const cJSON *doc)
{
    fprintf(out, "consultation %s: %s from %s to %s, as %s\n", str(doc, "consultation"),
            str(doc, "ssin"), str(doc, "from"), str(doc, "to"), str(doc, "provider_kind"));
    const cJSON *e;
    const cJSON *covers = cJSON_GetObjectItemCaseSensitive(doc, "covers");
    fprintf(out, "%-20s %-10s %-10s %-23s %-6s %-6s %-6s %-10s %s\n", "care type", "from", "to",
            "cover period", "presc", "conv", "urgent", "designated", "decision / ocmw");
    cJSON_ArrayForEach(e, covers)
    {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "period");
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "decision");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, "version");
        char period[32];
        snprintf(period, sizeof period, "%s..%s", str(p, "start"), str(p, "end"));
        fprintf(out, "%-20s %-10s %-10s %-23s %-6s %-6s %-6s %-10s %s v%d / %s\n",
                str(e, "care_type"), str(e, "from"), str(e, "to"), period,
                yes(e, "prescription_required"), yes(e, "convention"),
                yes(e, "urgent_attestation_required"), yes(e, "designated"), str(d, "id"),
                cJSON_IsNumber(v) ? v->valueint : 0, str(d, "ocmw"));
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "not_covered"))
    {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(e, "reason");
        fprintf(out, "%-20s %-10s %-10s not covered: %s (%s)\n", str(e, "care_type"),
                str(e, "from"), str(e, "to"), str(r, "code"), str(r, "message"));
    }
}

static int check_date(const char *opt, const char *v)
{
    if (v && !date_parse(v, strlen(v), &(pdate){0}))
        return usage_error("--%s: expected a calendar date YYYY-MM-DD, not '%s'", opt, v);
    return EXIT_OK;
}

int cmd_card(struct ctx *c)
{
    const char *ssin = c->pos[0], *date = c->opt[CA_DATE], *from = c->opt[CA_FROM],
               *to = c->opt[CA_TO];
    int rc;
    if (!*ssin)
        return usage_error("card: empty SSIN");
    if (date ? (from || to) : !(from && to))
        return usage_error("card: give --date, or --from and --to");
    if ((rc = check_date("date", date)) != EXIT_OK || (rc = check_date("from", from)) != EXIT_OK ||
        (rc = check_date("to", to)) != EXIT_OK)
        return rc;
    if (!is_digits(ssin, 11))
        fprintf(stderr, "medaid: warning: SSIN '%s' is not 11 digits\n", ssin);
    char *e = api_escape_segment(ssin), *path = NULL;
    int n = !e     ? -1
            : date ? asprintf(&path, "/v1/beneficiaries/%s/card?date=%s", e, date)
                   : asprintf(&path, "/v1/beneficiaries/%s/card?from=%s&to=%s", e, from, to);
    free(e);
    if (n < 0)
        return local_error("out of memory");
    struct api_request rq = {.method = "GET", .path = path};
    rc = exchange_and_print(c, &rq, render_card);
    free(path);
    return rc;
}
