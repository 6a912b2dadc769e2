/*
 * tls: build-then-swap SSL_CTX for mutual TLS.
 */
#include "net/tls.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/x509_vfy.h>

#include "base/hex.h"
#include "base/log.h"

static pthread_mutex_t ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static SSL_CTX *current_ctx;

static void ssl_err(char *err, size_t n, const char *what, const char *path)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    snprintf(err, n, "%s %s: %s", what, path ? path : "", buf[0] ? buf : "failed");
    ERR_clear_error();
}

/*
 * OpenSSL fills a certificate's extension cache (key identifiers, purposes) on first
 * use, under the certificate's own lock, while verification elsewhere reads those
 * fields without it. The certificates of a context are shared by every worker, so the
 * cache is filled here, on the thread that builds the context, before any worker can
 * see it (the hand-over below is under ctx_lock): the first handshakes after start-up
 * or a SIGHUP then only read.
 */
static void warm_certificates(SSL_CTX *ctx)
{
    X509 *own = SSL_CTX_get0_certificate(ctx);
    if (own)
        (void)X509_check_purpose(own, -1, 0);
    STACK_OF(X509) *chain = NULL;
    if (SSL_CTX_get0_chain_certs(ctx, &chain) == 1 && chain)
        for (int i = 0; i < sk_X509_num(chain); i++)
            (void)X509_check_purpose(sk_X509_value(chain, i), -1, 0);
    STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
    for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
        X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
        if (x)
            (void)X509_check_purpose(x, -1, 0);
    }
}

static SSL_CTX *build_ctx(const struct config *c, char *err, size_t n)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        ssl_err(err, n, "SSL_CTX_new", NULL);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_COMPRESSION);
    if (SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL") != 1) {
        ssl_err(err, n, "cipher list", NULL);
        goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, c->tls_cert) != 1) {
        ssl_err(err, n, "tls_cert", c->tls_cert);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, c->tls_key, SSL_FILETYPE_PEM) != 1) {
        ssl_err(err, n, "tls_key", c->tls_key);
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        ssl_err(err, n, "tls_key does not match tls_cert", c->tls_key);
        goto fail;
    }
    if (SSL_CTX_load_verify_locations(ctx, c->tls_ca, NULL) != 1) {
        ssl_err(err, n, "tls_ca", c->tls_ca);
        goto fail;
    }
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(c->tls_ca);
    if (!names) {
        ssl_err(err, n, "tls_ca (no certificate)", c->tls_ca);
        goto fail;
    }
    SSL_CTX_set_client_CA_list(ctx, names);
    if (*c->tls_crl) {
        X509_STORE *store = SSL_CTX_get_cert_store(ctx);
        if (X509_STORE_load_file(store, c->tls_crl) != 1) {
            ssl_err(err, n, "tls_crl", c->tls_crl);
            goto fail;
        }
        X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
    }
    /* client certificate required: no certificate, no handshake */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_verify_depth(ctx, 4);
    static const unsigned char sid_ctx[] = "medaidd";
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    warm_certificates(ctx);
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

bool tls_load(const struct config *c, char *err, size_t n)
{
    SSL_CTX *ctx = build_ctx(c, err, n);
    if (!ctx)
        return false;
    pthread_mutex_lock(&ctx_lock);
    SSL_CTX *old = current_ctx;
    current_ctx = ctx;
    pthread_mutex_unlock(&ctx_lock);
    SSL_CTX_free(old); /* live connections hold their own reference */
    return true;
}

SSL *tls_new_ssl(void)
{
    pthread_mutex_lock(&ctx_lock);
    SSL *ssl = current_ctx ? SSL_new(current_ctx) : NULL;
    pthread_mutex_unlock(&ctx_lock);
    return ssl;
}

void tls_cleanup(void)
{
    pthread_mutex_lock(&ctx_lock);
    SSL_CTX_free(current_ctx);
    current_ctx = NULL;
    pthread_mutex_unlock(&ctx_lock);
}

void tls_cert_fingerprint(X509 *cert, char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (X509_digest(cert, EVP_sha256(), md, &len) != 1 || len != 32) {
        out[0] = '\0';
        return;
    }
    hex_encode(md, len, out);
}

bool tls_file_fingerprint(const char *path, char *fp, char *subject, size_t subject_len, char *err,
                          size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, n, "%s: cannot open", path);
        return false;
    }
    X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!cert) {
        ssl_err(err, n, "not a PEM certificate:", path);
        return false;
    }
    tls_cert_fingerprint(cert, fp);
    X509_NAME_oneline(X509_get_subject_name(cert), subject, (int)subject_len);
    X509_free(cert);
    return fp[0] != '\0';
}
