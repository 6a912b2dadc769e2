/*
 * cmd_verify: agreement verify FILE --keys KEYS.json, offline.
 *
 * FILE is a saved coverage answer (one object: `medaid coverage`'s output,
 * `medaid agreement show`'s, or one answer of a batch); KEYS.json is what
 * GET /v1/keys answered. The answer's signature object names its key; the
 * signature is checked (Ed25519, OpenSSL) over the answer's RFC 8785 form
 * without its signature member (proto/answer_sig.h, the daemon's code).
 * Nothing is sent anywhere. Exit 0: valid; 5: not valid (altered, unsigned,
 * or signed by a key KEYS.json does not list); 1: a file cannot be read or
 * KEYS.json is not a key list.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "answer_sig.h"
#include "args.h"
#include "cmd.h"
#include "hex.h"

#define VERIFY_MAX_FILE (16u * 1024u * 1024u)

enum { AV_KEYS };
const struct opt_def agreement_verify_opts[] = {
    {"keys", 0, "KEYS.json", "the public keys, as GET /v1/keys gives them (required)"},
    {NULL, 0, NULL, NULL},
};

/* the whole of path ("-": stdin), malloc'd and NUL-terminated; NULL after a message */
static char *slurp(const char *what, const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        local_error("%s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    char *b = malloc(VERIFY_MAX_FILE + 1);
    size_t n = b ? fread(b, 1, VERIFY_MAX_FILE + 1, f) : 0;
    bool err = ferror(f);
    if (f != stdin)
        fclose(f);
    if (!b || err || n > VERIFY_MAX_FILE) {
        local_error("%s %s: %s", what, path,
                    !b    ? "out of memory"
                    : err ? "cannot be read"
                          : "larger than 16 MiB");
        free(b);
        return NULL;
    }
    b[n] = '\0';
    *len = n;
    return b;
}

__attribute__((format(printf, 1, 2))) static int invalid(const char *fmt, ...)
{
    fputs("medaid: agreement verify: NOT VALID: ", stderr);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_NOT_COVERED;
}

/* raw 32-byte key from base64; false when it is not one */
static bool decode_key(const char *b64, unsigned char out[32])
{
    unsigned char raw[33];
    return b64 && strlen(b64) == 44 && b64[43] == '=' &&
           EVP_DecodeBlock(raw, (const unsigned char *)b64, 44) == 33 && memcpy(out, raw, 32);
}

static bool ed25519_ok(const unsigned char pub[32], const char *sig_b64, const char *msg)
{
    unsigned char sig[66];
    if (strlen(sig_b64) != 88 || sig_b64[86] != '=' || sig_b64[87] != '=' ||
        EVP_DecodeBlock(sig, (const unsigned char *)sig_b64, 88) != 66)
        return false;
    EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
    EVP_MD_CTX *ctx = pkey ? EVP_MD_CTX_new() : NULL;
    bool ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
              EVP_DigestVerify(ctx, sig, 64, (const unsigned char *)msg, strlen(msg)) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return ok;
}

int cmd_agreement_verify(struct ctx *c)
{
    const char *keys_path = c->opt[AV_KEYS];
    if (!keys_path)
        return usage_error("agreement verify: --keys KEYS.json is required");
    size_t alen, klen;
    char *answer = slurp("agreement verify:", c->pos[0], &alen);
    if (!answer)
        return EXIT_USAGE;
    char *keys_text = slurp("agreement verify: --keys", keys_path, &klen);
    if (!keys_text) {
        free(answer);
        return EXIT_USAGE;
    }
    int rc = EXIT_OK;
    cJSON *keys = cJSON_ParseWithLength(keys_text, klen);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(keys, "keys");
    char key_id[80], value[100];
    char *payload = NULL;
    if (!cJSON_IsArray(list)) {
        rc = local_error("agreement verify: --keys %s: not a key list ({\"keys\": [...]})",
                         keys_path);
    } else if (!answer_sig_get(answer, alen, key_id, sizeof key_id, value, sizeof value)) {
        rc = invalid("%s has no Ed25519 signature object", c->pos[0]);
    } else if (!(payload = answer_sig_payload(answer, alen))) {
        rc = invalid("%s is not a JSON object with a canonical form", c->pos[0]);
    } else {
        const cJSON *k = NULL, *e;
        unsigned char pub[32];
        cJSON_ArrayForEach(e, list)
        {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "key_id");
            if (cJSON_IsString(id) && strcmp(id->valuestring, key_id) == 0)
                k = e;
        }
        const cJSON *pk = k ? cJSON_GetObjectItemCaseSensitive(k, "public_key") : NULL;
        char id_hex[2 * SHA256_DIGEST_LENGTH + 1];
        unsigned char digest[SHA256_DIGEST_LENGTH];
        if (!k) {
            rc = invalid("signed by key %s, which the key list does not have", key_id);
        } else if (!cJSON_IsString(pk) || !decode_key(pk->valuestring, pub)) {
            rc = local_error("agreement verify: --keys %s: key %s has no Ed25519 public_key",
                             keys_path, key_id);
        } else if (SHA256(pub, 32, digest), hex_encode(digest, sizeof digest, id_hex),
                   strcmp(id_hex, key_id) != 0) {
            rc = invalid("the key list's key %s is not the key of that id", key_id);
        } else if (!ed25519_ok(pub, value, payload)) {
            rc = invalid("the signature of %s does not match its content", c->pos[0]);
        } else {
            cJSON *doc = cJSON_ParseWithLength(answer, alen);
            const cJSON *num = cJSON_GetObjectItemCaseSensitive(doc, "agreement");
            cJSON *out = cJSON_CreateObject();
            cJSON_AddBoolToObject(out, "valid", true);
            if (cJSON_IsString(num))
                cJSON_AddStringToObject(out, "agreement", num->valuestring);
            cJSON_AddStringToObject(out, "key_id", key_id);
            rc = emit_json_value(out, NULL, 0);
            cJSON_Delete(out);
            cJSON_Delete(doc);
        }
    }
    free(payload);
    cJSON_Delete(keys);
    free(keys_text);
    free(answer);
    return rc;
}
