/*
 * request: what a handler sees of one HTTP request, and how it answers.
 *
 * A handler runs on its worker's loop, may start asynchronous work and must
 * eventually call exactly one of request_respond, request_json or
 * request_problem (or end a stream); after that it must not touch the
 * request. If the client went away meanwhile, the answer is dropped and the
 * connection freed: handlers need not care. struct request is defined only
 * in http/request.c; everything a request holds (header and query copies,
 * the handler's job from request_alloc) lives in its arena and is freed
 * with it, in one place.
 */
#ifndef MEDAID_REQUEST_H
#define MEDAID_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "base/principal.h"
#include "http/http_parse.h"
#include "proto/coverage.h"
#include "proto/date.h"
#include "proto/problem.h"

struct request;
struct db;
struct config;
struct cJSON;

#define REQUEST_MAX_PARAMS 4

enum http_method request_method(const struct request *r);
/* path without the query string, NUL-terminated */
const char *request_path(const struct request *r);
/* value of a query parameter (percent-decoded), NULL when absent */
const char *request_query(struct request *r, const char *name);
/* header value as a NUL-terminated copy owned by the request, NULL if absent */
const char *request_header(struct request *r, const char *name);
const char *request_body(const struct request *r, size_t *len);
/* true when the body was sent as text/csv (only routes that take CSV see one) */
bool request_body_is_csv(const struct request *r);
/* the i-th "{...}" segment of the matched route */
const char *request_param(const struct request *r, int i);
const struct principal *request_principal(const struct request *r);
/* the database handle of the worker serving the request (db/db.h) */
struct db *request_db(const struct request *r);
/* the configuration in force */
const struct config *request_config(const struct request *r);
enum lang request_lang(const struct request *r);
/* the registry's calendar date (configured time zone) when the request came */
pdate request_today(const struct request *r);
/* prefix for log lines about this request ("w0 c7 r=..."), never NULL */
const char *request_log_prefix(const struct request *r);
/* n bytes (zeroed, aligned for any object) freed with the request: a
 * handler's job. Never NULL. */
void *request_alloc(struct request *r, size_t n);

/* ETag: sends it (a strong entity tag, quoted: "\"3\"") with the answer, and returns
 * true when the request is a GET or HEAD whose If-None-Match names it (or is *): the
 * caller then answers 304 (request_not_modified). Weak comparison, as RFC 9110. */
bool request_etag(struct request *r, const char *etag);
/* 304 Not Modified: no body (the ETag given to request_etag is repeated). */
void request_not_modified(struct request *r);
/* Extra response header (copied), before the answer. */
void request_add_header(struct request *r, const char *name, const char *value);
/* Answer; body is taken over (malloc'd) and may be NULL for no body. */
void request_respond(struct request *r, int status, const char *content_type, char *body,
                     size_t len);
/* Answer with JSON text (taken over); NULL body means allocation failure -> 500. */
void request_json(struct request *r, int status, char *json);
void request_problem(struct request *r, enum problem p, const char *detail,
                     const struct verrs *errs, const struct cJSON *extra);

/*
 * Streamed answers (Transfer-Encoding: chunked; close-delimited for an
 * HTTP/1.0 client), for results that must never sit in memory whole.
 *
 * As a generator: request_stream_produce() sends the head; then, always
 * from the loop, proceed(arg) is called when the client can take more.
 * The producer writes a batch (request_stream_write/line; it may wait for
 * the database first) and then calls request_stream_next() to be called
 * again, or request_stream_end() when it is done. If the client goes
 * away, stop(arg) is called instead of proceed: the producer releases its
 * work and calls request_stream_end().
 */
struct request_producer {
    void (*proceed)(void *arg);
    void (*stop)(void *arg);
};
void request_stream_produce(struct request *r, int status, const char *content_type,
                            const struct request_producer *p, void *arg);
void request_stream_next(struct request *r);
void request_stream_write(struct request *r, const char *data, size_t len);
/* data and a newline, as one piece (NDJSON) */
void request_stream_line(struct request *r, const char *data, size_t len);
void request_stream_end(struct request *r);

/* The older polling form (kept for api/audit.c; same machinery): begin,
 * write while request_stream_room(), else request_stream_on_drain(); when
 * request_stream_gone(), end. */
void request_stream_begin(struct request *r, int status, const char *content_type);
bool request_stream_room(const struct request *r);
bool request_stream_gone(const struct request *r);
void request_stream_on_drain(struct request *r, void (*cb)(void *arg), void *arg);

/* ---- for the authenticator (auth/) ---- */
/* The principal of the connection (kept across its requests); NULL: none
 * known (log lines then carry no principal). */
void request_set_principal(struct request *r, const struct principal *p);
/* the client certificate's hex SHA-256 fingerprint */
const char *request_fingerprint(const struct request *r);
/* Data of the connection's authenticator, freed with the connection. */
void *request_conn_data(const struct request *r);
void request_set_conn_data(struct request *r, void *data, void (*free_fn)(void *data));
/* true when the client went away (the request still has to be answered) */
bool request_client_gone(const struct request *r);

#endif
