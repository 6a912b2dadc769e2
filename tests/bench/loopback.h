/*
 * loopback: what the bench tools share: an https://HOST:PORT target that
 * is on the loopback interface only (127.0.0.1, localhost, ::1), and a
 * mutual-TLS client context and connection for it.
 */
#ifndef MEDAID_BENCH_LOOPBACK_H
#define MEDAID_BENCH_LOOPBACK_H

#include <stdbool.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

struct loopback_target {
    char host[256];
    char host_hdr[300]; /* for the Host header: "127.0.0.1:8443", "[::1]:8443" */
    bool host_is_ip;
    struct sockaddr_storage addr;
    socklen_t addr_len;
};

/* https://HOST:PORT[/] with HOST 127.0.0.1, localhost, ::1 or [::1]; any
 * other host is refused. prog names the tool in the messages (stderr). */
bool loopback_parse_url(const char *prog, const char *url, struct loopback_target *t);
/* TLS 1.2+, the client certificate and key, the CA to verify the server
 * with; NULL (the errors printed) when one of them does not load */
SSL_CTX *loopback_client_ctx(const char *cert, const char *key, const char *ca);
/* a client SSL that checks the server's name or address against t */
SSL *loopback_ssl(SSL_CTX *ctx, const struct loopback_target *t);

#endif
