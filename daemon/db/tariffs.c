/*
 * tariffs: SQL, parameters and rows of the tariff table.
 */
#include "db/tariffs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "db/pgarray.h"
#include "db/store.h"

struct import_call {
    db_tariff_import_cb cb;
    void *arg;
};

static void import_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct import_call call = *(struct import_call *)arg;
    free(arg);
    if (o == PG_ERROR && strcmp(pg_sqlstate(res), "23P01") == 0) {
        call.cb(call.arg, PG_OK, true, 0, NULL);
        return;
    }
    if (o == PG_OK && PQntuples(res) != 1)
        o = PG_ERROR;
    if (o != PG_OK) {
        call.cb(call.arg, store_outcome(&Q_TARIFF_IMPORT, o, res), false, 0, NULL);
        return;
    }
    struct tariff_version v = {.id = store_int(res, 0, store_col(res, "version"))};
    snprintf(v.in_force_at, sizeof v.in_force_at, "%s",
             PQgetvalue(res, 0, store_col(res, "in_force_at")));
    call.cb(call.arg, PG_OK, false, store_int(res, 0, store_col(res, "imported")), &v);
}

void db_tariff_import(struct db *db, const struct tariff_set *set, int64_t principal,
                      const char *sha256, db_tariff_import_cb cb, void *arg)
{
    struct import_call *call = xmalloc(sizeof *call);
    call->cb = cb;
    call->arg = arg;
    struct pgarray a[6];
    for (int k = 0; k < 6; k++)
        pgarray_init(&a[k]);
    for (size_t i = 0; i < set->n; i++) {
        const struct tariff *t = &set->lines[i];
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
    char pid[24], lines[24];
    snprintf(pid, sizeof pid, "%lld", (long long)principal);
    snprintf(lines, sizeof lines, "%zu", set->n);
    const char *params[] = {pgarray_finish(&a[0]),
                            pgarray_finish(&a[1]),
                            pgarray_finish(&a[2]),
                            pgarray_finish(&a[3]),
                            pgarray_finish(&a[4]),
                            pgarray_finish(&a[5]),
                            pid,
                            lines,
                            sha256};
    pg_submit(db->pool, &Q_TARIFF_IMPORT, params, import_cb, call);
    for (int k = 0; k < 6; k++)
        pgarray_free(&a[k]);
}

static const char TARIFF_HEADER[] = "code,start,end,fee_cents,patient_share_cents,care_types\n";

bool db_tariffs_from_csv(const char *csv, struct tariff_set *out)
{
    char *buf = xasprintf("%s%s", TARIFF_HEADER, csv);
    struct verrs errs;
    bool ok = tariff_parse(buf, strlen(buf), true, out, &errs) == PARSE_OK;
    free(buf);
    return ok;
}

struct get_call {
    struct tariff_set *out;
    struct tariff_version *version;
    db_done_cb cb;
    void *arg;
};

static void get_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct get_call call = *(struct get_call *)arg;
    free(arg);
    if (o != PG_OK) {
        call.cb(call.arg, store_outcome(&Q_TARIFF_GET, o, res));
        return;
    }
    int n = PQntuples(res);
    if (n == 0) {
        call.cb(call.arg, PG_OK);
        return;
    }
    call.version->id = store_int(res, 0, store_col(res, "version"));
    snprintf(call.version->in_force_at, sizeof call.version->in_force_at, "%s",
             PQgetvalue(res, 0, store_col(res, "in_force_at")));
    /* the rows are CSV lines: parse them as an import */
    static const char header[] = "code,start,end,fee_cents,patient_share_cents,care_types\n";
    int line = store_col(res, "line");
    size_t total = sizeof header;
    for (int i = 0; i < n; i++)
        total += (size_t)PQgetlength(res, i, line) + 1;
    char *csv = xmalloc(total);
    size_t w = sizeof header - 1;
    memcpy(csv, header, w);
    for (int i = 0; i < n; i++) {
        size_t l = (size_t)PQgetlength(res, i, line);
        memcpy(csv + w, PQgetvalue(res, i, line), l);
        w += l;
        csv[w++] = '\n';
    }
    struct verrs errs;
    bool ok = tariff_parse(csv, w, true, call.out, &errs) == PARSE_OK;
    free(csv);
    if (!ok)
        log_error("db: stored tariffs do not parse");
    call.cb(call.arg, ok ? PG_OK : PG_BAD_DATA);
}

void db_tariff_get(struct db *db, const char *code, const pdate *date, const char *known_at,
                   struct tariff_set *out, struct tariff_version *version, db_done_cb cb, void *arg)
{
    struct get_call *call = xmalloc(sizeof *call);
    memset(version, 0, sizeof *version);
    call->out = out;
    call->version = version;
    call->cb = cb;
    call->arg = arg;
    char d[PDATE_STRLEN + 1];
    if (date)
        date_format(*date, d);
    const char *params[] = {code, date ? d : NULL, known_at};
    pg_submit(db->pool, &Q_TARIFF_GET, params, get_cb, call);
}
