/*
 * exchange: what http/'s own modules share about a request in progress
 * (framing.c reads it, request.c owns it, router.c routes it). Not for
 * handlers: they see http/request.h.
 */
#ifndef MEDAID_HTTP_EXCHANGE_H
#define MEDAID_HTTP_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/request.h"

struct conn;
struct http_conn;
struct evbuffer;

/* ---- request.c, for framing.c ---- */
/* A request starts (its first byte arrived): id, today, log prefix. */
struct request *request_new(struct conn *c, struct http_conn *hc);
/* The one place a request is freed (with its arena). */
void request_free(struct request *r);
/* Take the head parsed in buf[0..h->head_len): copied into the arena, h
 * rebased onto the copy; then the headers are interpreted. On false, *p
 * and detail say what to answer. */
bool request_take_head(struct request *r, const char *buf, const struct http_head *h,
                       enum problem *p, char *detail, size_t detail_len);
uint64_t request_content_length(const struct request *r);
/* the client asked for 100 Continue */
bool request_expects_continue(const struct request *r);
/* read the body (content_length bytes) from in */
void request_take_body(struct request *r, struct evbuffer *in);
/* answer an error found while reading, and close afterwards (lingering) */
void request_early_problem(struct request *r, enum problem p, const char *detail);
/* after the answer: close the connection? linger first? */
bool request_close_after(const struct request *r);
bool request_lingers(const struct request *r);
/* the client read a streamed answer down to the low mark */
void request_stream_drained(struct request *r);
/* the client left while the request was streamed: wake the producer */
void request_client_left(struct request *r);

/* ---- query parameters (request.c), for router.c ---- */
size_t request_n_query(struct request *r);
/* the name of the i-th parameter (raw, as sent), NUL-terminated */
const char *request_query_name(struct request *r, size_t i);
/* captured path segments (router.c) */
void request_set_params(struct request *r, const char *const *params, int n);
char *request_arena_strndup(struct request *r, const char *s, size_t n);

/* ---- framing.c, for request.c ---- */
/* what a connection keeps across its requests */
struct http_conn_keep {
    struct principal principal;
    bool principal_known;
    void *auth_data; /* the authenticator's; auth_free(auth_data) with the connection */
    void (*auth_free)(void *data);
};
struct http_conn_keep *http_conn_keep(struct http_conn *hc);
/* An orphaned request (client gone) was answered: free it, close. */
void http_conn_finish(struct http_conn *hc);

#endif
