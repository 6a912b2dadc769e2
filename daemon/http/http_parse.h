/*
 * http_parse: a strict HTTP/1.1 request-head parser.
 *
 * Pure: (pointer, length) in, pointers into the same buffer out; no I/O, no
 * allocation. Fuzzed by tests/fuzz/fuzz_http.c.
 */
#ifndef MEDAID_HTTP_PARSE_H
#define MEDAID_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum http_method { HM_GET, HM_HEAD, HM_POST, HM_PUT, HM_DELETE, HM_PATCH, HM_OPTIONS, HM_OTHER };

#define HTTP_MAX_HEADERS 64

struct http_header {
    const char *name;
    size_t name_len;
    const char *value; /* leading and trailing whitespace removed */
    size_t value_len;
};

struct http_head {
    enum http_method method;
    const char *method_str;
    size_t method_len;
    const char *target;
    size_t target_len;
    int minor_version; /* HTTP/1.<minor>: 0 or 1 */
    size_t n_headers;
    struct http_header headers[HTTP_MAX_HEADERS];
    size_t head_len; /* bytes consumed, blank line included */
};

enum http_parse_status {
    HP_OK,
    HP_INCOMPLETE,       /* need more bytes */
    HP_BAD_REQUEST,      /* 400 */
    HP_TOO_MANY_HEADERS, /* 431 */
    HP_BAD_VERSION,      /* 505 */
};

/* Parse the request line and headers. Leading empty lines are skipped.
 * Lines end in CRLF (a bare LF is accepted). Obsolete line folding,
 * control characters, malformed header names and targets that are not
 * origin-form ("/...") are refused. */
enum http_parse_status http_parse_head(const char *buf, size_t len, struct http_head *h);

/* First header with that name (case-insensitive); NULL when absent. */
const struct http_header *http_find_header(const struct http_head *h, const char *name);
/* Number of headers with that name. */
size_t http_count_header(const struct http_head *h, const char *name);
/* true when the comma-separated value list contains token (case-insensitive) */
bool http_list_has_token(const char *value, size_t len, const char *token);
/* Parse a Content-Length value: digits only, no sign, <= 2^62. */
bool http_parse_content_length(const char *value, size_t len, uint64_t *out);

#endif
