/*
 * sign: Ed25519 signatures (OpenSSL 3 EVP) for the audit checkpoints.
 *
 * A key is read from a PEM file (openssl genpkey -algorithm ed25519); its
 * id is the SHA-256, in hex, of its raw 32-byte public key. Signatures are
 * carried in base64 (64 bytes, 88 characters).
 */
#ifndef MEDAID_BASE_SIGN_H
#define MEDAID_BASE_SIGN_H

#include <stdbool.h>
#include <stddef.h>

#define SIGN_KEY_ID_LEN  64 /* hex */
#define SIGN_B64_LEN     88 /* base64 of a 64-byte signature */
#define SIGN_PUB_B64_LEN 44 /* base64 of a 32-byte public key */

struct sign_key;

/* The Ed25519 private key in PEM file path; NULL with err filled
 * (no secret in it) when the file is missing or is not such a key. */
struct sign_key *sign_key_load(const char *path, char *err, size_t n);
void sign_key_free(struct sign_key *k);
/* SHA-256 of the raw public key, hex, NUL-terminated */
const char *sign_key_id(const struct sign_key *k);
/* The raw public key in base64, NUL-terminated */
const char *sign_key_public_b64(const struct sign_key *k);

/* An Ed25519 public key in PEM file path (SubjectPublicKeyInfo, as
 * `openssl pkey -pubout` writes it): its id (SIGN_KEY_ID_LEN + 1 bytes) and
 * raw key in base64 (SIGN_PUB_B64_LEN + 1 bytes). false with err filled. */
bool sign_public_load(const char *path, char *id, char *pub_b64, char *err, size_t n);
/* The PEM (SubjectPublicKeyInfo) of a raw Ed25519 public key given in
 * base64; malloc'd, NULL when it is not one. */
char *sign_public_pem(const char *pub_b64);

/* Sign data; out holds SIGN_B64_LEN + 1 bytes. false on failure (logged). */
bool sign_data(const struct sign_key *k, const void *data, size_t len, char *out);
/* true when sig_b64 is k's signature of data */
bool sign_verify(const struct sign_key *k, const void *data, size_t len, const char *sig_b64);

#endif
