/*
 * principals: SELECT by fingerprint, typed.
 */
#include "db/principals.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "db/db.h"
#include "db/queries.h"

struct lookup {
    principal_found_cb cb;
    void *arg;
};

static void lookup_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct lookup l = *(struct lookup *)arg;
    free(arg);
    struct principal p = {0};
    if (o != PG_OK) {
        l.cb(l.arg, o, res, PRINCIPAL_NONE, NULL);
        return;
    }
    if (PQntuples(res) != 1) {
        l.cb(l.arg, o, res, PRINCIPAL_NONE, NULL);
        return;
    }
    if (!role_from_name(PQgetvalue(res, 0, 1), &p.role)) {
        l.cb(l.arg, o, res, PRINCIPAL_BAD_ROLE, NULL);
        return;
    }
    if (strcmp(PQgetvalue(res, 0, 3), "t") == 0) {
        l.cb(l.arg, o, res, PRINCIPAL_REVOKED, NULL);
        return;
    }
    p.id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    snprintf(p.org, sizeof p.org, "%s", PQgetvalue(res, 0, 2));
    l.cb(l.arg, o, res, PRINCIPAL_FOUND, &p);
}

void principals_by_fingerprint(struct db *db, const char *fingerprint, principal_found_cb cb,
                               void *arg)
{
    struct lookup *l = xmalloc(sizeof *l);
    l->cb = cb;
    l->arg = arg;
    const char *params[] = {fingerprint};
    pg_submit(db_pool(db), &Q_PRINCIPAL_BY_FINGERPRINT, params, lookup_cb, l);
}
