/*
 * principals: SELECT by fingerprint, typed.
 */
#include "db/principals.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "db/store.h"

struct lookup {
    principal_found_cb cb;
    void *arg;
};

static void lookup_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct lookup l = *(struct lookup *)arg;
    free(arg);
    o = store_outcome(&Q_PRINCIPAL_BY_FINGERPRINT, o, res);
    if (o != PG_OK || PQntuples(res) != 1) {
        l.cb(l.arg, o, PRINCIPAL_NONE, NULL);
        return;
    }
    struct principal p = {0};
    if (!role_from_name(store_val(res, 0, store_col(res, "role")), &p.role)) {
        l.cb(l.arg, o, PRINCIPAL_BAD_ROLE, NULL);
        return;
    }
    if (strcmp(store_val(res, 0, store_col(res, "revoked")), "t") == 0) {
        l.cb(l.arg, o, PRINCIPAL_REVOKED, NULL);
        return;
    }
    p.id = store_int(res, 0, store_col(res, "id"));
    snprintf(p.org, sizeof p.org, "%s", store_val(res, 0, store_col(res, "organisation")));
    /* a provider without a kind it may ask nothing about: refused, not let through */
    if (p.role == ROLE_PROVIDER &&
        !provider_kind_from_name(store_val(res, 0, store_col(res, "kind")), &p.kind)) {
        l.cb(l.arg, o, PRINCIPAL_BAD_ROLE, NULL);
        return;
    }
    l.cb(l.arg, o, PRINCIPAL_FOUND, &p);
}

void principals_by_fingerprint(struct db *db, const char *fingerprint, principal_found_cb cb,
                               void *arg)
{
    struct lookup *l = xmalloc(sizeof *l);
    l->cb = cb;
    l->arg = arg;
    const char *params[] = {fingerprint};
    pg_submit(db->pool, &Q_PRINCIPAL_BY_FINGERPRINT, params, lookup_cb, l);
}
