/*
 * h_tariff: PUT /v1/tariffs adds the import (CSV or JSON) as a new version
 * of the tariff table, all or nothing, in one statement (earlier versions
 * are kept); GET /v1/tariffs/{code}[?date=][&known_at=] returns the lines
 * of one code in the version in force at known_at (default: the newest).
 */
#include "api/tariffs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "proto/tariff.h"
#include "api/common.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/mem.h"
#include "db/tariffs.h"

static void import_cb(void *arg, enum pg_outcome o, bool overlap, int64_t imported,
                      const struct tariff_version *v)
{
    struct request *r = arg;
    if (o != PG_OK) {
        api_db_error(r, o);
        return;
    }
    if (overlap) {
        /* the parser refuses overlaps; this is a safety net */
        request_problem(r, PROBLEM_VALIDATION_FAILED, "two lines of one code overlap", NULL, NULL);
        return;
    }
    log_ctx(LOG_INFO, request_log_prefix(r), "tariffs imported: %lld lines, version %lld",
            (long long)imported, (long long)v->id);
    request_json(r, 200,
                 xasprintf("{\"imported\":%lld,\"version\":%lld,\"in_force_at\":\"%s\"}",
                           (long long)imported, (long long)v->id, v->in_force_at));
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
    char sha[SHA256_HEX_LEN + 1];
    sha256_hex(body, len, sha);
    db_tariff_import(request_db(r), &set, request_principal(r)->id, sha, import_cb, r);
    tariff_set_free(&set);
}

struct tariff_get {
    struct request *r;
    struct tariff_set set;
    struct tariff_version version;
};

static void get_cb(void *arg, enum pg_outcome o)
{
    struct tariff_get *g = arg;
    struct request *r = g->r;
    if (o != PG_OK) {
        tariff_set_free(&g->set);
        free(g);
        api_db_error(r, o);
        return;
    }
    if (g->set.n == 0) {
        tariff_set_free(&g->set);
        free(g);
        request_problem(r, PROBLEM_NOT_FOUND,
                        "no tariff for this code (on that date, in the version in force then)",
                        NULL, NULL);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "code", request_param(r, 0));
    cJSON_AddNumberToObject(root, "version", (double)g->version.id);
    cJSON_AddStringToObject(root, "in_force_at", g->version.in_force_at);
    cJSON *list = cJSON_AddArrayToObject(root, "tariffs");
    for (size_t i = 0; i < g->set.n; i++) {
        char *one = tariff_encode(&g->set.lines[i]);
        ASSERT(one != NULL);
        cJSON_AddItemToArray(list, cJSON_CreateRaw(one));
        free(one);
    }
    tariff_set_free(&g->set);
    free(g);
    char *text = cJSON_PrintUnformatted(root);
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
    /* the version in force at that moment (default: the newest) */
    const char *known_at = request_query(r, "known_at");
    if (known_at && !timestamp_valid(known_at, strlen(known_at))) {
        request_problem(r, PROBLEM_INVALID_PARAMETER,
                        "known_at must be an RFC 3339 timestamp (or a date)", NULL, NULL);
        return;
    }
    struct tariff_get *g = xcalloc(1, sizeof *g);
    g->r = r;
    db_tariff_get(request_db(r), code, date ? &d : NULL, known_at, &g->set, &g->version, get_cb, g);
}
