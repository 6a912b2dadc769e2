/*
 * Unit tests of base/sign with proto/answer_sig: an answer signed as the
 * daemon signs it verifies over its canonical form and not once changed;
 * the public key read from PEM, and made PEM from its raw form, is the same
 * key with the same id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "../tap.h"
#include "proto/answer_sig.h"
#include "base/sign.h"

static char dir[] = "/tmp/medaid-sign-XXXXXX";

static void write_keys(const char *priv, const char *pub)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    FILE *f = fopen(priv, "w");
    FILE *g = fopen(pub, "w");
    if (!k || !f || !g || PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) != 1 ||
        PEM_write_PUBKEY(g, k) != 1)
        abort();
    fclose(f);
    fclose(g);
    EVP_PKEY_free(k);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    char priv[64], pub[64], err[256];
    snprintf(priv, sizeof priv, "%s/k.pem", dir);
    snprintf(pub, sizeof pub, "%s/p.pem", dir);
    write_keys(priv, pub);
    struct sign_key *k = sign_key_load(priv, err, sizeof err);
    ok(k != NULL, "the private key loads");
    if (!k)
        return done_testing();

    const char *answer = "{\"agreement\":\"A2026-00000001\",\"covered\":true,\"totals\":"
                         "{\"fee_cents\":3000,\"ocmw_cents\":600}}";
    char *payload = answer_sig_payload(answer, strlen(answer));
    char sig[SIGN_B64_LEN + 1];
    ok(payload && sign_data(k, payload, strlen(payload), sig), "signed");
    char *sent = answer_sig_attach(answer, sign_key_id(k), sig);
    char kid[80], val[100];
    ok(sent && answer_sig_get(sent, strlen(sent), kid, sizeof kid, val, sizeof val) &&
           strcmp(kid, sign_key_id(k)) == 0,
       "the answer names its key");
    char *again = answer_sig_payload(sent, strlen(sent));
    ok(again && sign_verify(k, again, strlen(again), val), "it verifies over its payload");
    char *changed = strdup(sent);
    changed[strstr(changed, "600") - changed] = '7';
    char *bad = answer_sig_payload(changed, strlen(changed));
    ok(bad && !sign_verify(k, bad, strlen(bad), val), "one changed digit does not verify");

    char id[SIGN_KEY_ID_LEN + 1], b64[SIGN_PUB_B64_LEN + 1];
    ok(sign_public_load(pub, id, b64, err, sizeof err) && strcmp(id, sign_key_id(k)) == 0 &&
           strcmp(b64, sign_key_public_b64(k)) == 0,
       "the public key file has the private key's id and raw key");
    ok(!sign_public_load(priv, id, b64, err, sizeof err), "a private key is not a public key file");
    char *pem = sign_public_pem(sign_key_public_b64(k));
    BIO *bio = pem ? BIO_new_mem_buf(pem, -1) : NULL;
    EVP_PKEY *p = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    unsigned char raw[32], raw_b64[48];
    size_t rl = sizeof raw;
    ok(p && EVP_PKEY_get_raw_public_key(p, raw, &rl) == 1 && rl == 32 &&
           EVP_EncodeBlock(raw_b64, raw, 32) == 44 &&
           strcmp((char *)raw_b64, sign_key_public_b64(k)) == 0,
       "the PEM made from the raw key is that key");
    ok(sign_public_pem("not base64") == NULL, "a raw key that is not one: no PEM");

    EVP_PKEY_free(p);
    BIO_free(bio);
    free(pem);
    free(payload);
    free(sent);
    free(again);
    free(changed);
    free(bad);
    sign_key_free(k);
    unlink(priv);
    unlink(pub);
    rmdir(dir);
    return done_testing();
}
