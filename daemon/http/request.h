/*
 * request: what a handler sees of one HTTP request, and how it answers.
 *
 * A handler runs on its worker's loop, may start asynchronous work
 * (pg_submit) and must eventually call exactly one of request_respond,
 * request_json or request_problem; after that it must not touch the
 * request. If the client went away meanwhile, the answer is dropped and
 * the connection freed: handlers need not care.
 */
#ifndef MEDAID_REQUEST_H
#define MEDAID_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/coverage.h"
#include "proto/date.h"
#include "proto/problem.h"
#include "http/http_parse.h"
#include "auth/principal.h"

struct request;
struct worker;
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
struct worker *request_worker(const struct request *r);
/* the database handle of the worker serving the request (db/db.h) */
struct db *request_db(const struct request *r);
/* the configuration in force */
const struct config *request_config(const struct request *r);
enum lang request_lang(const struct request *r);
/* the registry's calendar date (configured time zone) when the request came */
pdate request_today(const struct request *r);
/* prefix for log lines about this request ("w0 c7 r=..."), never NULL */
const char *request_log_prefix(const struct request *r);

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
 * begin, then write as long as request_stream_room() says so; when it
 * does not, ask to be called back once the client has read
 * (request_stream_on_drain); end exactly once. If the client goes away,
 * request_stream_gone() turns true and a pending drain callback is still
 * called, so the producer can stop and end.
 */
void request_stream_begin(struct request *r, int status, const char *content_type);
void request_stream_write(struct request *r, const char *data, size_t len);
/* data and a newline, as one piece (NDJSON) */
void request_stream_line(struct request *r, const char *data, size_t len);
bool request_stream_room(const struct request *r);
bool request_stream_gone(const struct request *r);
void request_stream_on_drain(struct request *r, void (*cb)(void *arg), void *arg);
void request_stream_end(struct request *r);

#endif
