/*
 * h_tariff: PUT /v1/tariffs replaces the whole tariff table with the
 * import (CSV or JSON), all or nothing, in one statement; GET
 * /v1/tariffs/{code}[?date=] returns the lines of one code.
 */
#include "api/tariffs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "base/hex.h"
#include "proto/tariff.h"
#include "base/log.h"
#include "db/db.h"
#include "db/pg.h"
#include "db/pgarray.h"
#include "db/queries.h"
#include "http/router.h"
#include "net/server.h"

static void import_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct request *r = arg;
    if (o == PG_ERROR && strcmp(pg_sqlstate(res), "23P01") == 0) {
        /* the parser refuses overlaps; this is a safety net */
        request_problem(r, PROBLEM_VALIDATION_FAILED, "two lines of one code overlap", NULL, NULL);
        return;
    }
    if (o != PG_OK || PQntuples(res) != 1) {
        request_db_error(r, o == PG_OK ? PG_ERROR : o, res);
        return;
    }
    log_ctx(LOG_INFO, request_log_prefix(r), "tariffs imported: %s lines", PQgetvalue(res, 0, 0));
    char *body = malloc(48);
    if (body)
        snprintf(body, 48, "{\"imported\":%s}", PQgetvalue(res, 0, 0));
    request_json(r, 200, body);
}

void h_tariff_import(struct request *r)
{
    size_t len;
    const char *body = request_body(r, &len);
    bool csv = request_body_is_csv(r);
    struct tariff_set set = {0, NULL};
    struct verrs errs;
    verrs_init(&errs);
    switch (tariff_parse(body, len, csv, &set, &errs)) {
    case PARSE_MALFORMED:
        request_problem(r, PROBLEM_MALFORMED_JSON, "the body is not a JSON array of tariffs", NULL,
                        NULL);
        return;
    case PARSE_INVALID:
        tariff_set_free(&set);
        request_problem(r, PROBLEM_VALIDATION_FAILED,
                        "the import breaks one or more rules; nothing was imported", &errs, NULL);
        return;
    case PARSE_OK:
        break;
    }
    struct pgarray a[6];
    for (int k = 0; k < 6; k++)
        pgarray_init(&a[k]);
    for (size_t i = 0; i < set.n; i++) {
        const struct tariff *t = &set.lines[i];
        char start[PDATE_STRLEN + 1], end[PDATE_STRLEN + 1], fee[24], share[24], types[160] = "";
        date_format(t->period.start, start);
        date_format(t->period.end, end);
        snprintf(fee, sizeof fee, "%lld", (long long)t->fee_cents);
        snprintf(share, sizeof share, "%lld", (long long)t->patient_share_cents);
        for (int c = 0; c < CT__COUNT; c++) {
            if (t->care_types & (1u << c)) {
                size_t l = strlen(types);
                snprintf(types + l, sizeof types - l, "%s%s", l ? "|" : "",
                         care_type_name((enum care_type)c));
            }
        }
        pgarray_add(&a[0], t->code);
        pgarray_add(&a[1], start);
        pgarray_add(&a[2], end);
        pgarray_add(&a[3], fee);
        pgarray_add(&a[4], share);
        pgarray_add(&a[5], types);
    }
    char sha[SHA256_HEX_LEN + 1], pid[24], lines[24];
    sha256_hex(body, len, sha);
    snprintf(pid, sizeof pid, "%lld", (long long)request_principal(r)->id);
    snprintf(lines, sizeof lines, "%zu", set.n);
    const char *params[9];
    bool ok = true;
    for (int k = 0; k < 6; k++)
        ok = (params[k] = pgarray_finish(&a[k])) != NULL && ok;
    params[6] = pid;
    params[7] = lines;
    params[8] = sha;
    if (ok)
        pg_submit(db_pool(request_db(r)), &Q_TARIFF_IMPORT, params, import_cb, r);
    for (int k = 0; k < 6; k++)
        pgarray_free(&a[k]);
    tariff_set_free(&set);
    if (!ok)
        request_problem(r, PROBLEM_INTERNAL_ERROR, "out of memory", NULL, NULL);
}

static void get_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct request *r = arg;
    if (o != PG_OK) {
        request_db_error(r, o, res);
        return;
    }
    int n = PQntuples(res);
    if (n == 0) {
        request_problem(r, PROBLEM_NOT_FOUND, "no tariff for this code (on that date)", NULL, NULL);
        return;
    }
    /* the rows are CSV lines: parse them as an import to encode them */
    static const char header[] = "code,start,end,fee_cents,patient_share_cents,care_types\n";
    size_t total = sizeof header;
    for (int i = 0; i < n; i++)
        total += (size_t)PQgetlength(res, i, 0) + 1;
    char *csv = malloc(total);
    if (!csv) {
        request_problem(r, PROBLEM_INTERNAL_ERROR, "out of memory", NULL, NULL);
        return;
    }
    size_t o2 = sizeof header - 1;
    memcpy(csv, header, o2);
    for (int i = 0; i < n; i++) {
        size_t l = (size_t)PQgetlength(res, i, 0);
        memcpy(csv + o2, PQgetvalue(res, i, 0), l);
        o2 += l;
        csv[o2++] = '\n';
    }
    struct tariff_set set = {0, NULL};
    struct verrs errs;
    bool ok = tariff_parse(csv, o2, true, &set, &errs) == PARSE_OK;
    free(csv);
    cJSON *root = ok ? cJSON_CreateObject() : NULL;
    cJSON *list = root && cJSON_AddStringToObject(root, "code", request_param(r, 0))
                      ? cJSON_AddArrayToObject(root, "tariffs")
                      : NULL;
    ok = list != NULL;
    for (size_t i = 0; ok && i < set.n; i++) {
        char *one = tariff_encode(&set.lines[i]);
        cJSON *raw = one ? cJSON_CreateRaw(one) : NULL;
        free(one);
        ok = raw && cJSON_AddItemToArray(list, raw);
        if (!ok)
            cJSON_Delete(raw);
    }
    tariff_set_free(&set);
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    request_json(r, 200, text);
}

void h_tariff_get(struct request *r)
{
    const char *code = request_param(r, 0);
    bool ok = code && strlen(code) == 6;
    for (int i = 0; ok && i < 6; i++)
        ok = code[i] >= '0' && code[i] <= '9';
    if (!ok) {
        request_problem(r, PROBLEM_NOT_FOUND, "a nomenclature code has 6 digits", NULL, NULL);
        return;
    }
    const char *date = request_query(r, "date");
    pdate d;
    if (date && !date_parse(date, strlen(date), &d)) {
        request_problem(r, PROBLEM_INVALID_PARAMETER, "date must be YYYY-MM-DD", NULL, NULL);
        return;
    }
    const char *params[] = {code, date};
    pg_submit(db_pool(request_db(r)), &Q_TARIFF_GET, params, get_cb, r);
}
