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

/* overlap: the database refused two lines of one code that share a day
 * (nothing imported); else imported is the number of lines written. */
typedef void (*db_tariff_import_cb)(void *arg, enum pg_outcome o, bool overlap, int64_t imported);
/* Replace the whole table with set, all or nothing; sha256: of the import
 * as received, recorded with who imported it. */
void db_tariff_import(struct db *db, const struct tariff_set *set, int64_t principal,
                      const char *sha256, db_tariff_import_cb cb, void *arg);

/* Fill *out (the caller's, empty) with the lines of code, those valid on
 * *date when date is not NULL, oldest first. */
void db_tariff_get(struct db *db, const char *code, const pdate *date, struct tariff_set *out,
                   db_done_cb cb, void *arg);

#endif
