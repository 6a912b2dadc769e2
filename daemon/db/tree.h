/*
 * tree: the audit trail as a Merkle tree (schema/012_merkle.sql): signed
 * tree heads, inclusion and consistency proofs.
 *
 * The database keeps the tree (a leaf per record in seq order, every
 * complete subtree's hash) and makes the proofs; this module extends the
 * tree before signing a head with the checkpoints' key (db/checkpoint.h),
 * at every audit_checkpoint_interval_s and on demand. The signed text is
 * proto/merkle.h's merkle_head_text.
 */
#ifndef MEDAID_DB_TREE_H
#define MEDAID_DB_TREE_H

#include <stdbool.h>
#include <stdint.h>

#include "db/checkpoint.h"
#include "db/db.h"

/* records added to the tree per head, at most (the rest goes in the next) */
#define TREE_EXTEND_MAX 100000

/* json: the head as answered ({"id",...}); NULL with PG_OK when there is
 * none (latest) or when this interval has one already (timer). */
typedef db_checkpoint_cb db_tree_head_cb;

struct tree_make;
/* Extend the tree and sign a head (checkpoints enabled only); interval_s
 * > 0: in that interval's slot (the timer), 0: on demand. The handle is the caller's to free with
 * db_tree_make_free only when the pool dropped it (its worker stopped). */
struct tree_make *db_tree_head_make(struct db *db, int64_t interval_s, db_tree_head_cb cb,
                                    void *arg);
void db_tree_make_free(struct tree_make *m);
void db_tree_head_latest(struct db *db, db_tree_head_cb cb, void *arg);

struct tree_inclusion {
    int64_t tree_size; /* leaves in the tree now */
    bool found;        /* the record exists */
    int64_t seq;
    bool in_tree; /* it has a leaf */
    int64_t leaf_index;
    const char *record;    /* its canonical text, as its columns are now */
    const char *leaf_hash; /* hex, from the same */
    const char *path;      /* hex hashes joined by ','; NULL: no proof for that size */
};
typedef void (*db_tree_inclusion_cb)(void *arg, enum pg_outcome o, const struct tree_inclusion *p);
/* seq (decimal) or, when NULL, the agreement's issue record; size decimal */
void db_tree_inclusion(struct db *db, const char *seq, const char *agreement, const char *size,
                       db_tree_inclusion_cb cb, void *arg);

struct tree_consistency {
    int64_t tree_size;
    const char *first_root, *second_root, *path; /* NULL when second > tree_size */
};
typedef void (*db_tree_consistency_cb)(void *arg, enum pg_outcome o,
                                       const struct tree_consistency *p);
void db_tree_consistency(struct db *db, const char *first, const char *second,
                         db_tree_consistency_cb cb, void *arg);

#endif
