/*
 * h_tree: GET/POST /v1/audit/tree-head, GET /v1/audit/proof/inclusion and
 * /v1/audit/proof/consistency (role auditor).
 *
 * The proofs are the database's (schema/012_merkle.sql); an inclusion
 * answer carries the record's canonical text and leaf hash as its columns
 * are now, so that a record changed since a head was signed fails against
 * that head. Nothing here is recorded as a read: the answers name no
 * person but by the record's text, which an auditor may read anyway.
 */
#include "api/tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "proto/merkle.h"
#include "api/common.h"
#include "base/mem.h"
#include "db/checkpoint.h"
#include "db/tree.h"

const char *const tree_inclusion_params[] = {"record", "agreement", "tree_size", NULL};
const char *const tree_consistency_params[] = {"first", "second", NULL};

/* ---- heads ----------------------------------------------------------------------------- */

static void head_cb(void *arg, enum pg_outcome o, const char *json)
{
    struct request *r = arg;
    if (o != PG_OK) {
        api_db_error(r, o);
        return;
    }
    if (!json) {
        request_problem(r, PROBLEM_NOT_FOUND, "no tree head has been signed yet", NULL, NULL);
        return;
    }
    request_json(r, request_method(r) == HM_POST ? 201 : 200, xstrdup(json));
}

static bool signing_on(struct request *r)
{
    if (db_checkpoints_enabled(request_db(r)))
        return true;
    request_problem(r, PROBLEM_CHECKPOINTS_DISABLED,
                    "this registry has no audit_signing_key: it signs no tree heads", NULL, NULL);
    return false;
}

void h_audit_tree_head_get(struct request *r)
{
    if (signing_on(r))
        db_tree_head_latest(request_db(r), head_cb, r);
}

void h_audit_tree_head_make(struct request *r)
{
    if (signing_on(r))
        (void)db_tree_head_make(request_db(r), 0, head_cb, r);
}

/* ---- proofs ---------------------------------------------------------------------------- */

/* hex hashes joined by ',' as a JSON array into o */
static bool add_path(cJSON *o, const char *name, const char *path)
{
    cJSON *a = cJSON_AddArrayToObject(o, name);
    if (!a)
        return false;
    for (const char *p = path; *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char h[65];
        if (n != 64)
            return false;
        memcpy(h, p, 64);
        h[64] = 0;
        if (!cJSON_AddItemToArray(a, cJSON_CreateString(h)))
            return false;
        p += n + (e ? 1 : 0);
    }
    return true;
}

static void answer_doc(struct request *r, cJSON *o, bool ok)
{
    char *json = ok ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!json) {
        api_db_error(r, PG_ERROR);
        return;
    }
    request_json(r, 200, xstrdup(json));
    cJSON_free(json);
}

/* a size or index parameter: NULL (answered) when missing or bad */
static bool size_param(struct request *r, struct verrs *e, const char *name, uint64_t lo,
                       uint64_t *out)
{
    const char *v = request_query(r, name);
    if (!v) {
        verrs_add(e, name, "required", "%s is required", name);
        return false;
    }
    if (!merkle_parse_u64(v, out) || *out < lo) {
        verrs_add(e, name, "invalid_value", "%s must be a whole number from %llu", name,
                  (unsigned long long)lo);
        return false;
    }
    return true;
}

static bool agreement_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > 40 || s[0] != 'A')
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

struct inclusion {
    struct request *r;
    uint64_t tree_size;
};

static void inclusion_cb(void *arg, enum pg_outcome o, const struct tree_inclusion *p)
{
    struct inclusion q = *(struct inclusion *)arg;
    free(arg);
    struct request *r = q.r;
    if (o != PG_OK) {
        api_db_error(r, o);
        return;
    }
    if (!p->found) {
        request_problem(r, PROBLEM_NOT_FOUND, "no such audit record", NULL, NULL);
        return;
    }
    if (!p->in_tree) {
        request_problem(r, PROBLEM_NOT_FOUND,
                        "the record is not in the tree yet: it is added at the next tree head",
                        NULL, NULL);
        return;
    }
    if (q.tree_size > (uint64_t)p->tree_size || (uint64_t)p->leaf_index >= q.tree_size ||
        !p->path) {
        struct verrs e;
        verrs_init(&e);
        if (q.tree_size > (uint64_t)p->tree_size)
            verrs_add(&e, "tree_size", "out_of_range", "the tree has %lld leaves",
                      (long long)p->tree_size);
        else
            verrs_add(&e, "tree_size", "out_of_range",
                      "the record is leaf %lld: it is not in the first %llu",
                      (long long)p->leaf_index, (unsigned long long)q.tree_size);
        request_problem(r, PROBLEM_INVALID_PARAMETER, "no inclusion proof for that tree size", &e,
                        NULL);
        return;
    }
    cJSON *d = cJSON_CreateObject();
    bool ok = d && cJSON_AddNumberToObject(d, "tree_size", (double)q.tree_size) &&
              cJSON_AddNumberToObject(d, "leaf_index", (double)p->leaf_index) &&
              cJSON_AddNumberToObject(d, "seq", (double)p->seq) &&
              cJSON_AddStringToObject(d, "record", p->record ? p->record : "") &&
              cJSON_AddStringToObject(d, "leaf_hash", p->leaf_hash ? p->leaf_hash : "") &&
              add_path(d, "inclusion_path", p->path);
    answer_doc(r, d, ok);
}

void h_audit_proof_inclusion(struct request *r)
{
    struct verrs e;
    verrs_init(&e);
    const char *rec = request_query(r, "record"), *agr = request_query(r, "agreement");
    uint64_t seq = 0, size = 0;
    if (rec && agr)
        verrs_add(&e, "record", "invalid_value", "give record or agreement, not both");
    else if (!rec && !agr)
        verrs_add(&e, "record", "required", "record (a seq) or agreement is required");
    else if (rec && (!merkle_parse_u64(rec, &seq) || seq < 1))
        verrs_add(&e, "record", "invalid_value",
                  "record must be a record's seq (a whole number from 1)");
    else if (agr && !agreement_ok(agr))
        verrs_add(&e, "agreement", "invalid_value", "agreement must be an agreement number");
    size_param(r, &e, "tree_size", 1, &size);
    if (e.n > 0) {
        request_problem(r, PROBLEM_INVALID_PARAMETER, "a parameter is not a valid value", &e, NULL);
        return;
    }
    struct inclusion *q = xmalloc(sizeof *q);
    q->r = r;
    q->tree_size = size;
    db_tree_inclusion(request_db(r), rec, rec ? NULL : agr, request_query(r, "tree_size"),
                      inclusion_cb, q);
}

struct consistency {
    struct request *r;
    uint64_t first, second;
};

static void consistency_cb(void *arg, enum pg_outcome o, const struct tree_consistency *p)
{
    struct consistency q = *(struct consistency *)arg;
    free(arg);
    struct request *r = q.r;
    if (o != PG_OK) {
        api_db_error(r, o);
        return;
    }
    if (q.second > (uint64_t)p->tree_size || !p->path || !p->first_root || !p->second_root) {
        struct verrs e;
        verrs_init(&e);
        verrs_add(&e, "second", "out_of_range", "the tree has %lld leaves",
                  (long long)p->tree_size);
        request_problem(r, PROBLEM_INVALID_PARAMETER, "no consistency proof for those sizes", &e,
                        NULL);
        return;
    }
    cJSON *d = cJSON_CreateObject();
    bool ok = d && cJSON_AddNumberToObject(d, "first", (double)q.first) &&
              cJSON_AddNumberToObject(d, "second", (double)q.second) &&
              cJSON_AddStringToObject(d, "first_root", p->first_root) &&
              cJSON_AddStringToObject(d, "second_root", p->second_root) &&
              add_path(d, "consistency_path", p->path);
    answer_doc(r, d, ok);
}

void h_audit_proof_consistency(struct request *r)
{
    struct verrs e;
    verrs_init(&e);
    uint64_t first = 0, second = 0;
    bool f = size_param(r, &e, "first", 1, &first);
    bool s = size_param(r, &e, "second", 1, &second);
    if (f && s && first > second)
        verrs_add(&e, "first", "out_of_range", "first must not be larger than second");
    if (e.n > 0) {
        request_problem(r, PROBLEM_INVALID_PARAMETER, "a parameter is not a valid value", &e, NULL);
        return;
    }
    struct consistency *q = xmalloc(sizeof *q);
    q->r = r;
    q->first = first;
    q->second = second;
    db_tree_consistency(request_db(r), request_query(r, "first"), request_query(r, "second"),
                        consistency_cb, q);
}
