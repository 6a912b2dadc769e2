/*
 * cmd_coverage: coverage (one question) and coverage-batch (NDJSON in and out).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "args.h"
#include "cmd.h"
#include "input.h"
#include "jsonspan.h"

#include "coverage.h" /* proto: care types, nomenclature codes */

enum { COV_SSIN, COV_DATE, COV_CARE_TYPE, COV_ITEM };
const struct opt_def coverage_opts[] = {
    {"ssin", 0, "SSIN", "beneficiary's national register or BIS number (11 digits)"},
    {"date", 0, "YYYY-MM-DD", "service date"},
    {"care-type", 0, "TYPE", "one of the eight care types"},
    {"item", 0, "CODE[:QTY[:SUPPL[:STYPE]]]",
     "a billed code, its quantity, supplements asked (cents) and their type; repeatable"},
    {NULL, 0, NULL, NULL},
};

enum { CB_PROGRESS, CB_BATCH_SIZE };
const struct opt_def coverage_batch_opts[] = {
    {"progress", 0, NULL, "report progress on stderr even when it is not a terminal"},
    {"batch-size", 0, "N", "questions per request, 1 to 1000 (default 1000)"},
    {NULL, 0, NULL, NULL},
};

/*
 * One --item CODE[:QUANTITY[:SUPPLEMENTS_CENTS[:SUPPLEMENT_TYPE]]] as
 * {"code", "quantity", "supplements_cents", "supplement_type"}, with only
 * the members given; appended to items.
 */
static int add_item(cJSON *items, const char *spec)
{
    static const char form[] = "expected CODE[:QUANTITY[:SUPPLEMENTS_CENTS[:SUPPLEMENT_TYPE]]]";
    const char *part[4] = {NULL};
    char buf[128];
    size_t np = 0;

    if (strlen(spec) >= sizeof buf)
        return usage_error("--item '%.40s...': too long; %s", spec, form);
    strcpy(buf, spec);
    for (char *p = buf, *colon;; p = colon + 1) {
        if (np == 4)
            return usage_error("--item '%s': too many parts; %s", spec, form);
        part[np++] = p;
        colon = strchr(p, ':');
        if (!colon)
            break;
        *colon = '\0';
    }
    long quantity = 0, supplements = 0;
    if (!tariff_code_valid(part[0], strlen(part[0])))
        return usage_error("--item '%s': the code must be 6 digits; %s", spec, form);
    if (np > 1 && !parse_long(part[1], 1, ITEM_QUANTITY_MAX, &quantity))
        return usage_error("--item '%s': QUANTITY must be a whole number from 1 to %d", spec,
                           ITEM_QUANTITY_MAX);
    if (np > 2 && !parse_long(part[2], 0, ITEM_SUPPLEMENTS_MAX, &supplements))
        return usage_error("--item '%s': SUPPLEMENTS_CENTS must be whole cents from 0 to %ld", spec,
                           ITEM_SUPPLEMENTS_MAX);
    if (np > 3) {
        size_t n = strlen(part[3]);
        if (n == 0 || n > SUPPLEMENT_TYPE_MAX ||
            strspn(part[3], "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
            return usage_error("--item '%s': SUPPLEMENT_TYPE must be 1 to %d of a-z, 0-9 and _",
                               spec, SUPPLEMENT_TYPE_MAX);
    }

    cJSON *it = cJSON_CreateObject();
    if (!it || !cJSON_AddItemToArray(items, it)) {
        cJSON_Delete(it);
        return local_error("out of memory");
    }
    /* from here on, it belongs to items */
    bool ok = cJSON_AddStringToObject(it, "code", part[0]) != NULL;
    if (ok && np > 1)
        ok = cJSON_AddNumberToObject(it, "quantity", (double)quantity) != NULL;
    if (ok && np > 2)
        ok = cJSON_AddNumberToObject(it, "supplements_cents", (double)supplements) != NULL;
    if (ok && np > 3)
        ok = cJSON_AddStringToObject(it, "supplement_type", part[3]) != NULL;
    return ok ? EXIT_OK : local_error("out of memory");
}

int cmd_coverage(struct ctx *c)
{
    const char *ssin = c->opt[COV_SSIN], *date = c->opt[COV_DATE], *ct = c->opt[COV_CARE_TYPE];
    char *body = NULL;
    size_t len = 0;
    int rc;

    if (ssin || date || ct || c->nall[COV_ITEM]) {
        if (c->npos)
            return usage_error("coverage: give either --ssin/--date/--care-type [--item ...] "
                               "or a FILE, not both");
        if (!ssin || !date || !ct)
            return usage_error("coverage: missing%s%s%s", ssin ? "" : " --ssin",
                               date ? "" : " --date", ct ? "" : " --care-type");
        if (!date_parse(date, strlen(date), &(pdate){0}))
            return usage_error("--date: expected a calendar date YYYY-MM-DD, not '%s'", date);
        if (!care_type_from_name(ct, strlen(ct), &(enum care_type){0}))
            return usage_error("--care-type: unknown '%s' (see 'medaid coverage --help')", ct);
        if (!is_digits(ssin, 11))
            fprintf(stderr,
                    "medaid: warning: SSIN '%s' is not 11 digits; the registry will "
                    "answer invalid_ssin\n",
                    ssin);
        cJSON *q = cJSON_CreateObject();
        cJSON *items = NULL;
        bool ok = q && cJSON_AddStringToObject(q, "ssin", ssin) &&
                  cJSON_AddStringToObject(q, "service_date", date) &&
                  cJSON_AddStringToObject(q, "care_type", ct);
        if (ok && c->nall[COV_ITEM])
            ok = (items = cJSON_AddArrayToObject(q, "items")) != NULL;
        for (int i = 0; ok && i < c->nall[COV_ITEM]; i++) {
            rc = add_item(items, c->all[COV_ITEM][i]);
            if (rc != EXIT_OK) {
                cJSON_Delete(q);
                return rc;
            }
        }
        if (ok)
            body = cJSON_PrintUnformatted(q);
        cJSON_Delete(q);
        if (!body)
            return local_error("out of memory");
        len = strlen(body);
    } else {
        rc = read_json_input(c->npos ? c->pos[0] : NULL, &body, &len);
        if (rc != EXIT_OK)
            return rc;
    }

    struct api_request rq = {
        .method = "POST",
        .path = "/v1/coverage",
        .body = body,
        .body_len = len,
        .content_type = "application/json",
    };
    rc = exchange_yes_no(c, &rq, "covered", output_coverage_table);
    free(body);
    return rc;
}

/* ---- coverage-batch ------------------------------------------------------------- */

/*
 * Send one chunk ({"questions":[...]}, n questions from input lines
 * line_of[0..n)), check the answer, then write its n answers as NDJSON.
 * Nothing of a chunk is written unless all of its answers are usable.
 */
struct batch_tally {
    long refused, first_refused_line; /* questions answered with an "error" */
    long failed;                      /* of which the server failed (status >= 500) */
};

static int batch_send(struct ctx *c, const struct buf *body, int n, const long *line_of,
                      struct batch_tally *t)
{
    struct api_request rq = {
        .method = "POST",
        .path = "/v1/coverage/batch",
        .body = body->p,
        .body_len = body->len,
        .content_type = "application/json",
    };
    struct api_response res;
    struct jsonspan *sp = NULL;
    cJSON *doc = NULL;

    api_exchange(&c->api, &rq, &res);
    int rc = receive(c, &res, &doc);
    if (rc != EXIT_OK)
        goto out;

    const cJSON *answers = cJSON_GetObjectItemCaseSensitive(doc, "answers");
    if (!cJSON_IsArray(answers) || cJSON_GetArraySize(answers) != n) {
        fprintf(stderr, "medaid: %ld answer has no 'answers' array of %d elements\n", res.status,
                n);
        rc = EXIT_SERVER;
        goto out;
    }
    int i = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, answers)
    {
        const cJSON *err = cJSON_GetObjectItemCaseSensitive(a, "error");
        if (cJSON_IsObject(err)) {
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(err, "status");
            if (t->refused++ == 0)
                t->first_refused_line = line_of[i];
            if (cJSON_IsNumber(st) && st->valuedouble >= 500)
                t->failed++;
        } else if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(a, "agreement"))) {
            fprintf(stderr,
                    "medaid: %ld answer %d (line %ld) has neither an 'agreement' nor an 'error'\n",
                    res.status, i + 1, line_of[i]);
            rc = EXIT_SERVER;
            goto out;
        }
        i++;
    }

    /* the answers as sent when each is on one line, else re-encoded on one line */
    sp = calloc((size_t)n, sizeof *sp);
    bool raw = sp && jsonspan_array_elements(res.body, res.len, "answers", sp, n) == n;
    for (int k = 0; raw && k < n; k++)
        raw = !memchr(sp[k].p, '\n', sp[k].n) && !memchr(sp[k].p, '\r', sp[k].n);
    i = 0;
    cJSON_ArrayForEach(a, answers)
    {
        rc = emit_json_value(a, raw ? sp[i].p : NULL, raw ? sp[i].n : 0);
        if (rc != EXIT_OK)
            goto out;
        fputc('\n', stdout);
        i++;
    }
    if (fflush(stdout) != 0)
        rc = output_error();
out:
    free(sp);
    cJSON_Delete(doc);
    api_response_free(&res);
    return rc;
}

int cmd_coverage_batch(struct ctx *c)
{
    const char *path = c->npos ? c->pos[0] : NULL;
    const char *name = input_name(path);
    long size = BATCH_MAX;
    static const char head[] = "{\"questions\":[";

    if (c->opt[CB_BATCH_SIZE] && !parse_long(c->opt[CB_BATCH_SIZE], 1, BATCH_MAX, &size))
        return usage_error("--batch-size: expected a whole number from 1 to %d, not '%s'",
                           BATCH_MAX, c->opt[CB_BATCH_SIZE]);
    bool progress = c->opt[CB_PROGRESS] || isatty(STDERR_FILENO);

    FILE *f;
    int rc = open_input(path, &f);
    if (rc != EXIT_OK)
        return rc;
    long total = progress ? count_nonblank_lines(f) : -1;

    struct buf body = {0};
    struct ndjson_reader rd = {.f = f, .name = name};
    long line_of[BATCH_MAX];
    long answered = 0;
    struct batch_tally tally = {0, 0, 0};
    bool eof = false;

    while (rc == EXIT_OK && !eof) {
        int n = 0;
        body.len = 0;
        buf_add(&body, head, sizeof head - 1);
        while (n < size) {
            const char *q;
            size_t qlen;
            rc = ndjson_next(&rd, &q, &qlen);
            if (rc != EXIT_OK)
                break;
            if (!q) {
                eof = true;
                break;
            }
            if (n > 0)
                buf_add(&body, ",", 1);
            buf_add(&body, q, qlen);
            line_of[n++] = rd.lineno;
        }
        if (rc != EXIT_OK || n == 0)
            break;
        buf_add(&body, "]}", 2);
        if (body.failed) {
            rc = local_error("out of memory");
            break;
        }
        rc = batch_send(c, &body, n, line_of, &tally);
        if (rc != EXIT_OK)
            break;
        answered += n;
        if (progress) {
            if (total >= 0)
                fprintf(stderr, "medaid: %ld/%ld answered\n", answered, total);
            else
                fprintf(stderr, "medaid: %ld answered\n", answered);
        }
    }
    free(rd.line);
    free(body.p);
    if (f != stdin)
        fclose(f);
    if (rc == EXIT_OK && tally.refused > 0) {
        fprintf(stderr, "medaid: %ld question%s not answered (the first on line %ld)",
                tally.refused, tally.refused == 1 ? "" : "s", tally.first_refused_line);
        if (tally.failed)
            fprintf(stderr, ", %ld by a server error", tally.failed);
        fputs("; see the \"error\" answers\n", stderr);
        rc = tally.failed ? EXIT_SERVER : EXIT_REFUSED;
    }
    return rc;
}
