/*
 * tariffs: the store of the tariff table.
 * Every call ends in exactly one callback, later, from the worker's loop.
 */
#ifndef MEDAID_DB_TARIFFS_H
#define MEDAID_DB_TARIFFS_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/date.h"
#include "proto/tariff.h"
#include "db/db.h"

/* A version of the tariff table: the number of its import and the moment
 * it is in force from (RFC 3339 UTC, microseconds). */
struct tariff_version {
    int64_t id;
    char in_force_at[40];
};

/* overlap: the database refused two lines of one code that share a day
 * (nothing imported); else imported is the number of lines written, *v the
 * new version (valid during the callback). */
typedef void (*db_tariff_import_cb)(void *arg, enum pg_outcome o, bool overlap, int64_t imported,
                                    const struct tariff_version *v);
/* Add set as a new version of the table, all or nothing (earlier versions
 * are kept); sha256: of the import as received, recorded with who imported
 * it. */
void db_tariff_import(struct db *db, const struct tariff_set *set, int64_t principal,
                      const char *sha256, db_tariff_import_cb cb, void *arg);

/* Fill *out (the caller's, empty) with the lines of code in the version in
 * force at known_at (an RFC 3339 timestamp or a date; NULL: the newest
 * version), those valid on *date when date is not NULL, oldest first; and
 * *version with that version (id 0 when out is left empty). */
void db_tariff_get(struct db *db, const char *code, const pdate *date, const char *known_at,
                   struct tariff_set *out, struct tariff_version *version, db_done_cb cb,
                   void *arg);

/* Parse tariff lines as the database gives them (CSV without its header,
 * db/statements.h and schema/009 tariff_lines) into *out (empty). */
bool db_tariffs_from_csv(const char *csv, struct tariff_set *out);

#endif
