/*
 * loopback: the bench tools' loopback-only target and TLS client set-up.
 */
#include "loopback.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

bool loopback_parse_url(const char *prog, const char *url, struct loopback_target *t)
{
    memset(t, 0, sizeof *t);
    if (strncmp(url, "https://", 8) != 0) {
        fprintf(stderr, "%s: --url must start with https://\n", prog);
        return false;
    }
    const char *p = url + 8, *h_end, *port_s;
    if (*p == '[') {
        h_end = strchr(p, ']');
        if (!h_end)
            return false;
        p++;
        port_s = h_end + 1;
    } else {
        h_end = strchr(p, ':');
        if (!h_end) {
            fprintf(stderr, "%s: --url needs a port\n", prog);
            return false;
        }
        port_s = h_end;
    }
    size_t hl = (size_t)(h_end - p);
    if (hl == 0 || hl >= sizeof t->host || *port_s != ':')
        return false;
    memcpy(t->host, p, hl);
    t->host[hl] = '\0';
    char *end;
    long port = strtol(port_s + 1, &end, 10);
    if (end == port_s + 1 || port < 1 || port > 65535 || (*end != '\0' && strcmp(end, "/") != 0)) {
        fprintf(stderr, "%s: bad port in --url\n", prog);
        return false;
    }
    if (strcmp(t->host, "127.0.0.1") == 0 || strcmp(t->host, "localhost") == 0) {
        struct sockaddr_in *a = (struct sockaddr_in *)&t->addr;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        t->addr_len = sizeof *a;
    } else if (strcmp(t->host, "::1") == 0) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&t->addr;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        a->sin6_addr = in6addr_loopback;
        t->addr_len = sizeof *a;
    } else {
        fprintf(stderr, "%s: refusing host \"%s\": loopback only (127.0.0.1, localhost, ::1)\n",
                prog, t->host);
        return false;
    }
    t->host_is_ip = strcmp(t->host, "localhost") != 0;
    snprintf(t->host_hdr, sizeof t->host_hdr, strchr(t->host, ':') ? "[%s]:%ld" : "%s:%ld", t->host,
             port);
    return true;
}

SSL_CTX *loopback_client_ctx(const char *cert, const char *key, const char *ca)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1 || SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
        ERR_print_errors_fp(stderr);
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return ctx;
}

SSL *loopback_ssl(SSL_CTX *ctx, const struct loopback_target *t)
{
    SSL *ssl = SSL_new(ctx);
    if (!ssl)
        return NULL;
    if (t->host_is_ip) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), t->host);
    } else {
        SSL_set_tlsext_host_name(ssl, t->host);
        SSL_set1_host(ssl, t->host);
    }
    return ssl;
}
