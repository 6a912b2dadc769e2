/*
 * conn: one client connection: the socket, its TLS bufferevent and its one
 * timer. The connection knows the states of an HTTP/1.1 exchange (one
 * request at a time) but not HTTP itself: a protocol (http/) registers its
 * callbacks once (conn_set_protocol) and drives the state with
 * conn_set_state(), which checks every transition, arms the right timer and
 * keeps the worker's counters.
 *
 * A connection is never freed inside one of its own callbacks: a closed
 * connection moves to its worker's reap list and is freed after the loop
 * turn (or, when a request is still being handled, once it is answered).
 */
#ifndef MEDAID_NET_CONN_H
#define MEDAID_NET_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct bufferevent;
struct evbuffer;
struct event_base;
struct config;
struct conn;
struct conn_set;
struct worker;

enum conn_state {
    CS_HANDSHAKE,  /* TLS handshake in progress */
    CS_IDLE,       /* between requests */
    CS_READ_HEAD,  /* part of a request head received (a request is in flight) */
    CS_READ_BODY,  /* head parsed, body incomplete */
    CS_DISPATCHED, /* request handed to a handler */
    CS_STREAMING,  /* handler writing a streamed answer */
    CS_WRITING,    /* response queued, not yet flushed */
    CS_LINGER,     /* error answered; discarding what the client still sends */
    CS_ORPHAN,     /* socket gone while a handler runs: freed once it answers */
    CS_CLOSED,     /* socket gone; on the reap list */
};

/* What a protocol sees of its connections. proto is what open() returned. */
struct conn_protocol {
    /* the connection is ready (handshake done, client verified): the
     * protocol's per-connection state, never NULL (the process aborts on
     * OOM) */
    void *(*open)(struct conn *c);
    /* bytes arrived (states IDLE, READ_HEAD, READ_BODY) */
    void (*readable)(void *proto);
    /* STREAMING: the client has read down to the low mark; WRITING: all
     * of the answer is flushed */
    void (*writable)(void *proto);
    /* READ_HEAD / READ_BODY: the request was not received in time */
    void (*timeout)(void *proto);
    /* the socket is gone (state now ORPHAN or CLOSED) */
    void (*closed)(void *proto);
    /* the connection is being freed */
    void (*release)(void *proto);
};

/* Set once, before the workers start. */
void conn_set_protocol(const struct conn_protocol *p);

/* Change state: ASSERTs the transition is possible, arms or stops the
 * timer, counts requests in flight (one place). Entering ORPHAN or CLOSED
 * closes the socket; CLOSED also puts the connection on the reap list. */
void conn_set_state(struct conn *c, enum conn_state s);
enum conn_state conn_state(const struct conn *c);
/* "handshake", "idle", ... (metrics); NULL past CS_CLOSED */
const char *conn_state_name(enum conn_state s);
/* a request is in flight in that state (received, being handled or answered) */
bool conn_state_in_flight(enum conn_state s);
/* Close the socket (logged at debug with reason): ORPHAN when a request is
 * being handled (DISPATCHED, STREAMING), else CLOSED. */
void conn_close(struct conn *c, const char *reason);
/* STREAMING: wait until the client has read (writable() is called then);
 * a client that stops reading is closed after request_timeout_ms. */
void conn_wait_writable(struct conn *c);
/* STREAMING: report writable() once the output is below low (0: never). */
void conn_set_write_low(struct conn *c, size_t low);

struct evbuffer *conn_input(struct conn *c);
struct evbuffer *conn_output(struct conn *c);
size_t conn_output_length(const struct conn *c);
const struct config *conn_config(const struct conn *c);
struct event_base *conn_base(const struct conn *c);
/* the worker's application data (server_set_worker_hooks) */
void *conn_app(const struct conn *c);
/* the worker stops: answers should close their connection */
bool conn_draining(const struct conn *c);
/* "w0 c7 1.2.3.4:5678" */
const char *conn_label(const struct conn *c);
/* a connection or request finished: a draining worker may stop */
void conn_check_drained(struct conn *c);
/* hex SHA-256 of the client certificate */
const char *conn_fingerprint(const struct conn *c);

/* ---- for net/worker.c ---- */
struct conn_set *conn_set_new(struct worker *w);
/* Free every connection, then the set (end of the worker). */
void conn_set_free(struct conn_set *s);
bool conn_set_empty(const struct conn_set *s);
size_t conn_set_in_flight(const struct conn_set *s);
/* open connections (handshakes included), requests received since the start */
size_t conn_set_count(const struct conn_set *s);
uint64_t conn_set_requests(const struct conn_set *s);
/* proxy: from proxy_listen (a PROXY v2 header comes before the TLS) */
void conn_accept(struct worker *w, int fd, const struct sockaddr *sa, int salen, bool proxy);
/* A connection over an already connected bufferevent without TLS (tests and
 * fuzzing): starts IDLE with that fingerprint. The bufferevent is taken. */
struct conn *conn_adopt(struct worker *w, struct bufferevent *bev, const char *peer,
                        const char *fingerprint);
/* Worker is draining: close idle connections, let busy ones finish. */
void conn_drain_all(struct worker *w);
/* Free the connections on the reap list. */
void conn_reap(struct worker *w);

#endif
