/*
 * tls: the server's mutual-TLS context.
 *
 * The SSL_CTX is built aside and installed only when complete; a reload
 * that fails leaves the previous context in force. Connections keep the
 * context they started with (SSL_new takes a reference).
 */
#ifndef MEDAID_TLS_H
#define MEDAID_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "base/config.h"

#define TLS_FINGERPRINT_LEN 64 /* hex SHA-256 */

/* Build a context from the config and install it (first load or reload). */
bool tls_load(const struct config *c, char *err, size_t n);
/* A new server-side SSL object from the current context, or NULL. */
SSL *tls_new_ssl(void);
void tls_cleanup(void);

/* Hex SHA-256 of the DER encoding of a certificate; out holds 65 bytes. */
void tls_cert_fingerprint(X509 *cert, char *out);
/* Fingerprint and subject of the first certificate in a PEM file. */
bool tls_file_fingerprint(const char *path, char *fp, char *subject, size_t subject_len, char *err,
                          size_t n);

#endif
