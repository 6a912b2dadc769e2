/*
 * cmd_tree: the audit trail as a Merkle tree (auditor): `audit tree-head`
 * (save a signed tree head), `audit prove AGREEMENT --head FILE` (the
 * agreement's record is in the tree that head signed) and `audit
 * consistent OLD NEW` (the later head's tree extends the earlier's).
 *
 * Every check is made here, with proto/merkle.c and the head's Ed25519
 * signature (OpenSSL), never taken from the server's word: exit 0 when it
 * holds, 5 when it does not (docs/medaid.1.md).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "merkle.h"

#include "args.h"
#include "cmd.h"
#include "hex.h"

#define HEAD_FILE_MAX 65536

struct head {
    uint64_t size;
    merkle_hash root;
    char root_hex[65];
    char key_id[65];
    unsigned char public_key[32];
};

/* a saved head's file, parsed; NULL after a message (rc) */
static cJSON *read_head_file(const char *opt, const char *path, int *rc)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *rc = local_error("%s %s: %s", opt, path, strerror(errno));
        return NULL;
    }
    char *b = malloc(HEAD_FILE_MAX + 1);
    size_t n = b ? fread(b, 1, HEAD_FILE_MAX + 1, f) : 0;
    bool err = ferror(f);
    fclose(f);
    cJSON *doc = (!b || err || n > HEAD_FILE_MAX) ? NULL : cJSON_ParseWithLength(b, n);
    free(b);
    if (!doc)
        *rc = local_error("%s %s: not a saved tree head ('medaid audit tree-head')", opt, path);
    return doc;
}

static const char *str_of(const cJSON *o, const char *name)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

static bool u64_of(const cJSON *o, const char *name, uint64_t *out)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble > 9.0e15 ||
        x->valuedouble != (double)(uint64_t)x->valuedouble)
        return false;
    *out = (uint64_t)x->valuedouble;
    return true;
}

static bool b64_decode(const char *in, unsigned char *out, size_t want)
{
    size_t n = strlen(in);
    unsigned char tmp[128];
    if (n == 0 || n > 4 * sizeof tmp / 3 || n % 4)
        return false;
    int got = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)n);
    size_t pad = (in[n - 1] == '=') + (n > 1 && in[n - 2] == '=');
    if (got < 0 || (size_t)got - pad != want)
        return false;
    memcpy(out, tmp, want);
    return true;
}

/* The head's signature: by the public key it names, whose SHA-256 is its
 * key_id. A message names what fails. */
static bool head_signed(const cJSON *doc, const char *name, struct head *h)
{
    const char *at = str_of(doc, "created_at"), *pub = str_of(doc, "public_key"),
               *sig = str_of(doc, "signature");
    unsigned char raw[32], s[64], id[32];
    char id_hex[65], text[512];
    unsigned int idn = 0;
    if (!at || !pub || !sig || !b64_decode(pub, raw, sizeof raw) || !b64_decode(sig, s, sizeof s)) {
        fprintf(stderr, "medaid: %s: no created_at, public_key or signature\n", name);
        return false;
    }
    if (EVP_Digest(raw, sizeof raw, id, &idn, EVP_sha256(), NULL) != 1 || idn != 32)
        return false;
    hex_encode(id, sizeof id, id_hex);
    if (strcmp(id_hex, h->key_id) != 0) {
        fprintf(stderr, "medaid: %s: key_id is not the SHA-256 of public_key\n", name);
        return false;
    }
    memcpy(h->public_key, raw, sizeof raw);
    size_t len = merkle_head_text(at, h->key_id, h->size, h->root_hex, text, sizeof text);
    EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, sizeof raw);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = len > 0 && k && ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k) == 1 &&
              EVP_DigestVerify(ctx, s, sizeof s, (const unsigned char *)text, len) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(k);
    if (!ok)
        fprintf(stderr, "medaid: %s: the signature does not match the head\n", name);
    return ok;
}

__attribute__((format(printf, 1, 2))) static int proof_fails(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "medaid: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return EXIT_NOT_COVERED;
}

/* The head is signed by the registry's audit key as the auditor knows it
 * (key_path: its public key in PEM, obtained outside the registry): without
 * it, a head is only checked against the public key it carries itself. */
static int head_key_is(const char *path, const struct head *h, const char *key_path)
{
    FILE *f = fopen(key_path, "rb");
    if (!f)
        return local_error("--public-key %s: %s", key_path, strerror(errno));
    EVP_PKEY *k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    unsigned char raw[32];
    size_t n = sizeof raw;
    bool ok = k && EVP_PKEY_is_a(k, "ED25519") && EVP_PKEY_get_raw_public_key(k, raw, &n) == 1 &&
              n == sizeof raw;
    EVP_PKEY_free(k);
    if (!ok)
        return local_error("--public-key %s: not an Ed25519 public key in PEM", key_path);
    if (memcmp(raw, h->public_key, sizeof raw) != 0)
        return proof_fails("%s: signed by key %s, not by the key of %s", path, h->key_id, key_path);
    return EXIT_OK;
}

/* Read and check a saved head (and its key against key_path's, unless NULL):
 * EXIT_OK, EXIT_USAGE (not a head) or EXIT_NOT_COVERED (a head whose
 * signature fails, or signed by another key) */
static int load_head(const char *opt, const char *path, struct head *h, const char *key_path)
{
    int rc = EXIT_OK;
    cJSON *doc = read_head_file(opt, path, &rc);
    if (!doc)
        return rc;
    const char *root = str_of(doc, "root_hash"), *kid = str_of(doc, "key_id");
    if (!u64_of(doc, "tree_size", &h->size) || !root || !merkle_hash_from_hex(root, h->root) ||
        !kid || strlen(kid) != 64) {
        cJSON_Delete(doc);
        return local_error("%s %s: not a saved tree head (tree_size, root_hash, key_id)", opt,
                           path);
    }
    snprintf(h->root_hex, sizeof h->root_hex, "%s", root);
    snprintf(h->key_id, sizeof h->key_id, "%s", kid);
    rc = head_signed(doc, path, h) ? EXIT_OK : EXIT_NOT_COVERED;
    cJSON_Delete(doc);
    if (rc == EXIT_OK && key_path)
        rc = head_key_is(path, h, key_path);
    return rc;
}

/* a JSON array of hex hashes into p; its length, or -1 */
static long path_of(const cJSON *doc, const char *name, merkle_hash *p)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(doc, name);
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > MERKLE_PATH_MAX)
        return -1;
    long n = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, a)
    {
        if (!cJSON_IsString(x) || !merkle_hash_from_hex(x->valuestring, p[n]))
            return -1;
        n++;
    }
    return n;
}

/* GET the proof at q (its parameters added; freed here): *doc its answer */
static int fetch_proof(struct ctx *c, struct query *q, cJSON **doc)
{
    *doc = NULL;
    if (q->b.failed) {
        free(q->b.p);
        return local_error("out of memory");
    }
    struct api_request rq = {.method = "GET", .path = q->b.p};
    struct api_response res;
    api_exchange(&c->api, &rq, &res);
    int rc = receive(c, &res, doc);
    free(q->b.p);
    api_response_free(&res);
    return rc;
}

/* ---- audit tree-head ------------------------------------------------------------------- */

enum { ATH_NEW };
const struct opt_def audit_tree_head_opts[] = {
    {"new", 0, NULL, "sign a tree head now (else: the latest one)"},
    {NULL, 0, NULL, NULL},
};

int cmd_audit_tree_head(struct ctx *c)
{
    struct api_request rq = {.method = c->opt[ATH_NEW] ? "POST" : "GET",
                             .path = "/v1/audit/tree-head"};
    return exchange_and_print(c, &rq, NULL);
}

/* ---- audit prove ----------------------------------------------------------------------- */

enum { AP_HEAD, AP_KEY };
const struct opt_def audit_prove_opts[] = {
    {"head", 0, "FILE", "the saved tree head to check against ('medaid audit tree-head')"},
    {"public-key", 0, "PEM", "the head must be signed by this key (the registry's audit key)"},
    {NULL, 0, NULL, NULL},
};

/* the canonical text's array: [seq, chain, chain_seq, at, principal, org,
 * action, object, detail]; true when it is the agreement's issue record */
static bool record_is(const char *record, const char *agreement, uint64_t seq)
{
    cJSON *a = cJSON_Parse(record);
    const cJSON *s = cJSON_GetArrayItem(a, 0), *act = cJSON_GetArrayItem(a, 6),
                *obj = cJSON_GetArrayItem(a, 7);
    bool ok = cJSON_IsArray(a) && cJSON_GetArraySize(a) == 9 && cJSON_IsNumber(s) &&
              s->valuedouble == (double)seq && cJSON_IsString(act) &&
              strcmp(act->valuestring, "agreement.issue") == 0 && cJSON_IsString(obj) &&
              strcmp(obj->valuestring, agreement) == 0;
    cJSON_Delete(a);
    return ok;
}

int cmd_audit_prove(struct ctx *c)
{
    const char *agreement = c->pos[0], *file = c->opt[AP_HEAD];
    if (!file)
        return usage_error("audit prove: missing --head FILE");
    if (!*agreement)
        return usage_error("audit prove: empty agreement number");
    struct head h;
    int rc = load_head("--head", file, &h, c->opt[AP_KEY]);
    if (rc != EXIT_OK)
        return rc;
    if (h.size == 0)
        return proof_fails("%s: the head's tree is empty: it holds no record", file);
    struct query q = {0};
    const char *base = "/v1/audit/proof/inclusion";
    buf_add(&q.b, base, strlen(base));
    query_add(&q, "agreement", agreement);
    query_add_long(&q, "tree_size", (long)h.size);
    cJSON *doc = NULL;
    rc = fetch_proof(c, &q, &doc);
    if (rc == EXIT_OK) {
        merkle_hash path[MERKLE_PATH_MAX], leaf, mine;
        uint64_t index = 0, size = 0, seq = 0;
        const char *record = str_of(doc, "record"), *lh = str_of(doc, "leaf_hash");
        long n = path_of(doc, "inclusion_path", path);
        if (!u64_of(doc, "leaf_index", &index) || !u64_of(doc, "tree_size", &size) ||
            !u64_of(doc, "seq", &seq) || !record || !lh || !merkle_hash_from_hex(lh, leaf) ||
            n < 0 || size != h.size) {
            fprintf(stderr, "medaid: the inclusion proof is not one\n");
            rc = EXIT_SERVER;
        } else {
            merkle_leaf_hash(record, strlen(record), mine);
            if (memcmp(mine, leaf, sizeof mine) != 0)
                rc = proof_fails("the record's leaf hash is not SHA-256(0x00 || record)");
            else if (!record_is(record, agreement, seq))
                rc = proof_fails("the record proved is not the issue of %s", agreement);
            else if (!merkle_verify_inclusion(index, size, mine, path, (size_t)n, h.root))
                rc = proof_fails("the record of %s is not in the tree signed in %s", agreement,
                                 file);
            if (rc == EXIT_OK)
                printf("{\"included\":true,\"agreement\":\"%s\",\"seq\":%llu,\"leaf_index\":%llu,"
                       "\"tree_size\":%llu,\"root_hash\":\"%s\",\"key_id\":\"%s\"}\n",
                       agreement, (unsigned long long)seq, (unsigned long long)index,
                       (unsigned long long)size, h.root_hex, h.key_id);
        }
    }
    cJSON_Delete(doc);
    return rc;
}

/* ---- audit consistent ------------------------------------------------------------------ */

enum { AC_KEY };
const struct opt_def audit_consistent_opts[] = {
    {"public-key", 0, "PEM", "both heads must be signed by this key (the registry's audit key)"},
    {NULL, 0, NULL, NULL},
};

int cmd_audit_consistent(struct ctx *c)
{
    struct head a, b;
    int rc = load_head("OLD", c->pos[0], &a, c->opt[AC_KEY]);
    if (rc == EXIT_OK)
        rc = load_head("NEW", c->pos[1], &b, c->opt[AC_KEY]);
    if (rc != EXIT_OK)
        return rc;
    if (strcmp(a.key_id, b.key_id) != 0)
        fprintf(stderr, "medaid: note: the two heads are signed by different keys\n");
    if (a.size > b.size)
        return proof_fails("%s has a larger tree than %s: the tree was cut back", c->pos[0],
                           c->pos[1]);
    merkle_hash path[MERKLE_PATH_MAX];
    long n = 0;
    if (a.size > 0 && a.size < b.size) {
        struct query q = {0};
        const char *base = "/v1/audit/proof/consistency";
        buf_add(&q.b, base, strlen(base));
        query_add_long(&q, "first", (long)a.size);
        query_add_long(&q, "second", (long)b.size);
        cJSON *doc = NULL;
        rc = fetch_proof(c, &q, &doc);
        if (rc == EXIT_OK && (n = path_of(doc, "consistency_path", path)) < 0) {
            fprintf(stderr, "medaid: the consistency proof is not one\n");
            rc = EXIT_SERVER;
        }
        cJSON_Delete(doc);
        if (rc != EXIT_OK)
            return rc;
    }
    if (!merkle_verify_consistency(a.size, b.size, a.root, b.root, path, (size_t)n))
        return proof_fails("the tree of %s does not extend that of %s: records were changed, "
                           "removed or reordered",
                           c->pos[1], c->pos[0]);
    printf("{\"consistent\":true,\"first\":{\"tree_size\":%llu,\"root_hash\":\"%s\"},"
           "\"second\":{\"tree_size\":%llu,\"root_hash\":\"%s\"}}\n",
           (unsigned long long)a.size, a.root_hex, (unsigned long long)b.size, b.root_hex);
    return EXIT_OK;
}
