/*
 * tree: signed tree heads and the proofs of the trail's Merkle tree.
 */
#include "db/tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/merkle.h"
#include "base/mem.h"
#include "base/sign.h"
#include "db/checkpoint.h"
#include "db/db_internal.h"
#include "db/store.h"

/* ---- heads ----------------------------------------------------------------------------- */

struct tree_make {
    struct db *db;
    int64_t interval_s; /* 0: on demand */
    db_tree_head_cb cb;
    void *arg;
    char *answer; /* without id */
};

void db_tree_make_free(struct tree_make *m)
{
    if (!m)
        return;
    free(m->answer);
    free(m);
}

static void head_insert_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct tree_make *m = arg;
    o = store_outcome(&Q_AUDIT_TREE_HEAD_INSERT, o, res);
    if (o != PG_OK) {
        m->cb(m->arg, o, NULL);
    } else if (PQntuples(res) != 1) {
        m->cb(m->arg, PG_OK, NULL); /* this interval has its head */
    } else {
        char *json =
            xasprintf("{\"id\":%s,%s", PQgetvalue(res, 0, store_col(res, "id")), m->answer + 1);
        m->cb(m->arg, PG_OK, json);
        free(json);
    }
    db_tree_make_free(m);
}

static void extend_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct tree_make *m = arg;
    o = store_outcome(&Q_AUDIT_TREE_EXTEND, o, res);
    if (o == PG_OK && PQntuples(res) != 1)
        o = PG_ERROR;
    const struct sign_key *key = db_checkpoint_key(m->db);
    if (o == PG_OK && !key)
        o = PG_ERROR;
    if (o != PG_OK) {
        m->cb(m->arg, o, NULL);
        db_tree_make_free(m);
        return;
    }
    const char *size = PQgetvalue(res, 0, store_col(res, "tree_size"));
    const char *root = PQgetvalue(res, 0, store_col(res, "root_hash"));
    const char *at = PQgetvalue(res, 0, store_col(res, "at"));
    uint64_t n = 0;
    char text[512], sig[SIGN_B64_LEN + 1];
    size_t len = merkle_parse_u64(size, &n)
                     ? merkle_head_text(at, sign_key_id(key), n, root, text, sizeof text)
                     : 0;
    if (len == 0 || strlen(root) != 64 || !sign_data(key, text, len, sig)) {
        m->cb(m->arg, PG_ERROR, NULL);
        db_tree_make_free(m);
        return;
    }
    m->answer = xasprintf("{\"created_at\":\"%s\",\"key_id\":\"%s\",\"public_key\":\"%s\","
                          "\"tree_size\":%s,\"root_hash\":\"%s\",\"signature\":\"%s\"}",
                          at, sign_key_id(key), sign_key_public_b64(key), size, root, sig);
    char interval[24];
    snprintf(interval, sizeof interval, "%lld", (long long)m->interval_s);
    const char *params[] = {
        m->interval_s > 0 ? interval : NULL, size, root, sign_key_id(key), text, sig, m->answer};
    pg_submit(m->db->pool, &Q_AUDIT_TREE_HEAD_INSERT, params, head_insert_cb, m);
}

struct tree_make *db_tree_head_make(struct db *db, int64_t interval_s, db_tree_head_cb cb,
                                    void *arg)
{
    struct tree_make *m = xcalloc(1, sizeof *m);
    m->db = db;
    m->interval_s = interval_s;
    m->cb = cb;
    m->arg = arg;
    char max[24];
    snprintf(max, sizeof max, "%d", TREE_EXTEND_MAX);
    const char *params[] = {max};
    pg_submit(db->pool, &Q_AUDIT_TREE_EXTEND, params, extend_cb, m);
    return m;
}

void db_tree_head_latest(struct db *db, db_tree_head_cb cb, void *arg)
{
    db_signed_latest(db, &Q_AUDIT_TREE_HEAD_LATEST, cb, arg);
}

/* ---- proofs ---------------------------------------------------------------------------- */

struct inclusion_call {
    db_tree_inclusion_cb cb;
    void *arg;
};

static const char *or_null(const PGresult *res, int col)
{
    return PQgetisnull(res, 0, col) ? NULL : PQgetvalue(res, 0, col);
}

static void inclusion_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct inclusion_call call = *(struct inclusion_call *)arg;
    free(arg);
    o = store_outcome(&Q_AUDIT_TREE_INCLUSION, o, res);
    if (o == PG_OK && PQntuples(res) != 1)
        o = PG_ERROR;
    if (o != PG_OK) {
        call.cb(call.arg, o, NULL);
        return;
    }
    struct tree_inclusion p = {0};
    int seq = store_col(res, "seq"), idx = store_col(res, "idx");
    p.tree_size = store_int(res, 0, store_col(res, "size"));
    p.found = !PQgetisnull(res, 0, seq);
    if (p.found)
        p.seq = store_int(res, 0, seq);
    p.in_tree = !PQgetisnull(res, 0, idx);
    if (p.in_tree)
        p.leaf_index = store_int(res, 0, idx);
    p.record = or_null(res, store_col(res, "canonical"));
    p.leaf_hash = or_null(res, store_col(res, "leaf_hash"));
    p.path = or_null(res, store_col(res, "path"));
    call.cb(call.arg, PG_OK, &p);
}

void db_tree_inclusion(struct db *db, const char *seq, const char *agreement, const char *size,
                       db_tree_inclusion_cb cb, void *arg)
{
    struct inclusion_call *call = xmalloc(sizeof *call);
    call->cb = cb;
    call->arg = arg;
    const char *params[] = {seq, agreement, size};
    pg_submit(db->pool, &Q_AUDIT_TREE_INCLUSION, params, inclusion_cb, call);
}

struct consistency_call {
    db_tree_consistency_cb cb;
    void *arg;
};

static void consistency_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct consistency_call call = *(struct consistency_call *)arg;
    free(arg);
    o = store_outcome(&Q_AUDIT_TREE_CONSISTENCY, o, res);
    if (o == PG_OK && PQntuples(res) != 1)
        o = PG_ERROR;
    if (o != PG_OK) {
        call.cb(call.arg, o, NULL);
        return;
    }
    struct tree_consistency p = {
        .tree_size = store_int(res, 0, store_col(res, "size")),
        .first_root = or_null(res, store_col(res, "first_root")),
        .second_root = or_null(res, store_col(res, "second_root")),
        .path = or_null(res, store_col(res, "path")),
    };
    call.cb(call.arg, PG_OK, &p);
}

void db_tree_consistency(struct db *db, const char *first, const char *second,
                         db_tree_consistency_cb cb, void *arg)
{
    struct consistency_call *call = xmalloc(sizeof *call);
    call->cb = cb;
    call->arg = arg;
    const char *params[] = {first, second};
    pg_submit(db->pool, &Q_AUDIT_TREE_CONSISTENCY, params, consistency_cb, call);
}
