/*
 * sign: Ed25519 with OpenSSL's EVP_DigestSign (one-shot: Ed25519 hashes
 * the message itself).
 */
#include "base/sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "base/hex.h"
#include "base/log.h"
#include "base/mem.h"

struct sign_key {
    EVP_PKEY *pkey;
    char id[SIGN_KEY_ID_LEN + 1];
    char pub_b64[48]; /* base64 of 32 bytes: 44 characters */
};

struct sign_key *sign_key_load(const char *path, char *err, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, n, "%s: cannot be read", path);
        return NULL;
    }
    EVP_PKEY *pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    ERR_clear_error();
    if (!pkey || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(pkey);
        snprintf(err, n, "%s: not a PEM Ed25519 private key (openssl genpkey -algorithm ed25519)",
                 path);
        return NULL;
    }
    unsigned char pub[32];
    size_t plen = sizeof pub;
    if (EVP_PKEY_get_raw_public_key(pkey, pub, &plen) != 1 || plen != sizeof pub) {
        EVP_PKEY_free(pkey);
        ERR_clear_error();
        snprintf(err, n, "%s: its public key cannot be derived", path);
        return NULL;
    }
    struct sign_key *k = xcalloc(1, sizeof *k);
    k->pkey = pkey;
    sha256_hex(pub, plen, k->id);
    EVP_EncodeBlock((unsigned char *)k->pub_b64, pub, (int)plen);
    return k;
}

bool sign_public_load(const char *path, char *id, char *pub_b64, char *err, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, n, "%s: cannot be read", path);
        return false;
    }
    EVP_PKEY *pkey = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    unsigned char pub[32];
    size_t plen = sizeof pub;
    bool ok = pkey && EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519 &&
              EVP_PKEY_get_raw_public_key(pkey, pub, &plen) == 1 && plen == sizeof pub;
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    if (!ok) {
        snprintf(err, n, "%s: not a PEM Ed25519 public key (openssl pkey -pubout)", path);
        return false;
    }
    sha256_hex(pub, plen, id);
    EVP_EncodeBlock((unsigned char *)pub_b64, pub, (int)plen);
    return true;
}

char *sign_public_pem(const char *pub_b64)
{
    if (!pub_b64 || strlen(pub_b64) != SIGN_PUB_B64_LEN || pub_b64[43] != '=')
        return NULL;
    unsigned char raw[33]; /* 44 characters decode to 33 bytes, 1 of padding */
    if (EVP_DecodeBlock(raw, (const unsigned char *)pub_b64, SIGN_PUB_B64_LEN) != 33)
        return NULL;
    EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, 32);
    BIO *bio = pkey ? BIO_new(BIO_s_mem()) : NULL;
    char *out = NULL;
    if (bio && PEM_write_bio_PUBKEY(bio, pkey) == 1) {
        char *data;
        long len = BIO_get_mem_data(bio, &data);
        if (len > 0) {
            out = xmalloc((size_t)len + 1);
            memcpy(out, data, (size_t)len);
            out[len] = '\0';
        }
    }
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return out;
}

void sign_key_free(struct sign_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

const char *sign_key_id(const struct sign_key *k)
{
    return k->id;
}

const char *sign_key_public_b64(const struct sign_key *k)
{
    return k->pub_b64;
}

bool sign_data(const struct sign_key *k, const void *data, size_t len, char *out)
{
    unsigned char sig[64];
    size_t slen = sizeof sig;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
              EVP_DigestSign(ctx, sig, &slen, data, len) == 1 && slen == sizeof sig;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        ERR_clear_error();
        log_error("sign: Ed25519 signing failed");
        return false;
    }
    EVP_EncodeBlock((unsigned char *)out, sig, (int)slen);
    return true;
}

bool sign_verify(const struct sign_key *k, const void *data, size_t len, const char *sig_b64)
{
    if (!sig_b64 || strlen(sig_b64) != SIGN_B64_LEN)
        return false;
    unsigned char sig[66]; /* 88 characters decode to 66 bytes, 2 of padding */
    if (EVP_DecodeBlock(sig, (const unsigned char *)sig_b64, SIGN_B64_LEN) != 66 ||
        sig_b64[86] != '=' || sig_b64[87] != '=')
        return false;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
              EVP_DigestVerify(ctx, sig, 64, data, len) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}
