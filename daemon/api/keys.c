/*
 * h_keys: every Ed25519 public key that signs or signed coverage answers,
 * with its id (SHA-256 of the raw key, hex), the raw key in base64 and as
 * PEM (SubjectPublicKeyInfo), and when it was in use: from its first use to
 * the next key's first use (db_agreement_keys). What `medaid agreement
 * verify --keys` and the openssl commands of docs/verifying.md take.
 */
#include "api/keys.h"

#include <stdlib.h>

#include <cjson/cJSON.h>

#include "proto/answer_sig.h"
#include "proto/jsonx.h"
#include "api/common.h"
#include "base/mem.h"
#include "base/sign.h"
#include "db/agreements.h"

static bool add_time(cJSON *o, const char *name, const char *ts)
{
    return ts[0] ? jx_add_str(o, name, ts) : jx_add_null(o, name);
}

static void keys_cb(void *arg, enum pg_outcome o, const struct agreement_pubkey *k, size_t n)
{
    struct request *r = arg;
    if (o != PG_OK) {
        api_db_error(r, o);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *keys = cJSON_AddArrayToObject(root, "keys");
    bool ok = keys != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        char *pem = sign_public_pem(k[i].public_key);
        cJSON *e = cJSON_CreateObject();
        ok = pem && e && cJSON_AddItemToArray(keys, e) && jx_add_str(e, "key_id", k[i].key_id) &&
             jx_add_str(e, "algorithm", ANSWER_SIG_ALGORITHM) &&
             jx_add_str(e, "public_key", k[i].public_key) && jx_add_str(e, "public_key_pem", pem) &&
             add_time(e, "valid_from", k[i].valid_from) &&
             add_time(e, "valid_until", k[i].valid_until) &&
             jx_add_bool(e, "current", k[i].current);
        free(pem);
    }
    if (!ok) {
        cJSON_Delete(root);
        request_problem(r, PROBLEM_INTERNAL_ERROR, "a recorded key cannot be given", NULL, NULL);
        return;
    }
    request_json(r, 200, jx_print_free(root));
}

void h_keys(struct request *r)
{
    db_agreement_keys(request_db(r), keys_cb, r);
}
