/*
 * principals: the principal store, by certificate fingerprint.
 */
#ifndef MEDAID_DB_PRINCIPALS_H
#define MEDAID_DB_PRINCIPALS_H

#include "base/principal.h"
#include "db/db.h"

enum principal_found {
    PRINCIPAL_FOUND,    /* *p is the principal */
    PRINCIPAL_NONE,     /* no principal has that certificate */
    PRINCIPAL_REVOKED,  /* it has been revoked */
    PRINCIPAL_BAD_ROLE, /* the stored role is not one we know */
};

/* outcome != PG_OK: the database failed (found is PRINCIPAL_NONE); else
 * found says what was found. Called once, later, from the loop; *p is valid
 * during the call only. */
typedef void (*principal_found_cb)(void *arg, enum pg_outcome outcome, enum principal_found found,
                                   const struct principal *p);

void principals_by_fingerprint(struct db *db, const char *fingerprint, principal_found_cb cb,
                               void *arg);

#endif
