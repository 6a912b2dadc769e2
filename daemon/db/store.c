/*
 * store: named columns and the decoding of decision rows.
 */
#include "db/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"

int store_col(const PGresult *res, const char *name)
{
    int c = PQfnumber(res, name);
    if (c < 0) {
        char what[96];
        snprintf(what, sizeof what, "a result without its column %s", name);
        die_impossible(__FILE__, __LINE__, what);
    }
    return c;
}

const char *store_val(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

int64_t store_int(const PGresult *res, int row, int col)
{
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

void decision_cols_find(const PGresult *res, struct decision_cols *c)
{
    c->id = PQfnumber(res, "id");
    if (c->id < 0)
        c->id = store_col(res, "decision_id");
    c->version = store_col(res, "version");
    c->status = store_col(res, "status");
    c->ocmw = store_col(res, "ocmw");
    c->body = store_col(res, "body");
    c->recorded_at = store_col(res, "recorded_at");
}

bool decision_from_row(const PGresult *res, int row, const struct decision_cols *c,
                       struct decision *d)
{
    const char *st = PQgetvalue(res, row, c->status);
    if (!decision_parse_stored(PQgetvalue(res, row, c->body),
                               (size_t)PQgetlength(res, row, c->body), d) ||
        !decision_status_from_name(st, strlen(st), &d->status)) {
        log_error("db: stored decision %s does not parse", PQgetvalue(res, row, c->id));
        return false;
    }
    d->has_meta = true;
    snprintf(d->id, sizeof d->id, "%s", PQgetvalue(res, row, c->id));
    d->version = atoi(PQgetvalue(res, row, c->version));
    snprintf(d->ocmw, sizeof d->ocmw, "%s", PQgetvalue(res, row, c->ocmw));
    snprintf(d->recorded_at, sizeof d->recorded_at, "%s", PQgetvalue(res, row, c->recorded_at));
    return true;
}

bool decisions_known_from_rows(const PGresult *res, struct decision **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    int rows = PQntuples(res);
    if (rows == 0)
        return true;
    struct decision_cols c;
    decision_cols_find(res, &c);
    int death = store_col(res, "death_date"), stop = store_col(res, "before_stop");
    if (PQgetisnull(res, 0, c.id))
        return true; /* the one row of "no decision" */
    struct decision *ds = xcalloc((size_t)rows, sizeof *ds);
    for (int i = 0; i < rows; i++) {
        struct decision *d = &ds[i];
        if (!decision_from_row(res, i, &c, d)) {
            free(ds);
            return false;
        }
        /* a death is a fact, not a change: the latest knowledge applies to
         * every service date */
        d->has_death_date = !PQgetisnull(res, i, death) &&
                            date_parse(PQgetvalue(res, i, death),
                                       (size_t)PQgetlength(res, i, death), &d->death_date);
        /* stopped while suspended: still no guarantee until the end */
        const char *before = store_val(res, i, stop);
        if (d->status == DS_STOPPED && before && strcmp(before, "suspended") == 0)
            d->status = DS_SUSPENDED;
    }
    *out = ds;
    *n_out = (size_t)rows;
    return true;
}

enum pg_outcome store_outcome(const struct pg_stmt *s, enum pg_outcome o, const PGresult *res)
{
    if (o == PG_ERROR)
        log_error("db: %s failed: SQLSTATE %s", s->name, pg_sqlstate(res));
    return o;
}
