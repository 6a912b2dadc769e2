/*
 * db_internal: the inside of struct db, for the stores of db/ only.
 */
#ifndef MEDAID_DB_DB_INTERNAL_H
#define MEDAID_DB_DB_INTERNAL_H

#include "db/db.h"

struct db {
    const struct config *cfg;
    struct pg_pool *pool;
    struct agreement_queue *agreements; /* group commit of coverage answers */
    struct read_queue *reads;           /* group commit of read records (db/reads.h) */
    struct checkpointer *checkpoints;   /* NULL: no signing key (db/checkpoint.h) */
};

#endif
