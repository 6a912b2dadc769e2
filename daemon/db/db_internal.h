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
    /* read_database: the standby's handle, the same as this one but for its
     * pool (the queues above are the primary's: what is written through it
     * goes to the primary); NULL when not configured. Owned. */
    struct db *standby;
    bool is_standby;        /* this is such a handle */
    struct event *ev_probe; /* of the primary's handle: asks the standby's replay time */
    bool probing;           /* a probe is under way */
    char replayed_at[40];   /* of a standby's handle: the commit time of the last
                             * transaction it replayed, RFC 3339 UTC; "": not known
                             * (down, not a standby, nothing replayed yet) */
    char tag[16];           /* the worker's, for logs */
};

#endif
