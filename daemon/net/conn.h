/*
 * conn: one client connection: TLS bufferevent, HTTP/1.1 framing, timers,
 * and the request being served. Protocol handlers never touch the socket;
 * they see a struct request (request.h).
 *
 * A connection is never freed inside one of its own callbacks: a closed
 * connection moves to its worker's reap list and is freed after the loop
 * turn (or, when a request is still being handled, once it is answered).
 */
#ifndef MEDAID_CONN_H
#define MEDAID_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "http/http_parse.h"
#include "auth/principal.h"
#include "http/request.h"
#include "net/tls.h"

struct bufferevent;
struct evbuffer;
struct event;

enum conn_state {
    CS_HANDSHAKE,  /* TLS handshake in progress */
    CS_IDLE,       /* between requests */
    CS_READ_HEAD,  /* part of a request head received */
    CS_READ_BODY,  /* head parsed, body incomplete */
    CS_DISPATCHED, /* request handed to a handler */
    CS_STREAMING,  /* handler writing a streamed answer */
    CS_WRITING,    /* response queued, not yet flushed */
    CS_LINGER,     /* error answered; discarding what the client still sends */
    CS_CLOSED,     /* socket gone; struct kept while a handler runs */
};

enum principal_state { PS_NONE, PS_KNOWN, PS_UNKNOWN, PS_REVOKED };

struct request {
    struct conn *conn;
    bool in_flight;
    int64_t start_ms;
    char *head_buf;
    struct http_head head;
    char *path;
    char *query;
    char *body;
    size_t body_len;
    uint64_t content_length;
    bool csv; /* the body is text/csv (else JSON, or none) */
    char request_id[65];
    enum lang lang;
    pdate today;
    const char *params[REQUEST_MAX_PARAMS];
    char *param_buf;
    struct evbuffer *extra_headers;
    char **header_copies; /* request_header results, freed with the request */
    size_t n_header_copies;
    char *query_copies[8];
    size_t n_query_copies;
    char log_prefix[256];
    bool close_after; /* Connection: close, HTTP/1.0, error framing, draining */
    bool chunked;     /* streamed answer in chunks */
    void (*drain_cb)(void *arg);
    void *drain_arg;
    size_t streamed; /* bytes of a streamed body, for the access log */
    int status;
};

struct conn {
    struct worker *w;
    uint64_t id;
    enum conn_state state;
    struct bufferevent *bev;
    struct event *timer;
    char peer[64];
    char fingerprint[TLS_FINGERPRINT_LEN + 1];
    enum principal_state pstate;
    struct principal principal;
    int64_t principal_checked_ms;
    struct request req;
    bool linger; /* after this answer, drain input before closing */
    bool on_reap;
    TAILQ_ENTRY(conn) link;
};

void conn_accept(struct worker *w, int fd, const struct sockaddr *sa, int salen);
/* Worker is draining: close idle connections, let busy ones finish. */
void conn_drain_all(struct worker *w);
/* Free every connection (end of the worker). */
void conn_free_all(struct worker *w);
/* Free the connections on the reap list. */
void conn_reap(struct worker *w);

int64_t mono_ms(void);
/* Rebuild the log prefix after the principal or request id changed. */
void conn_set_prefix(struct conn *c);

#endif
