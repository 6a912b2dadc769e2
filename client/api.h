/*
 * api: one HTTP/1.1 exchange with medaidd over mutual TLS (libcurl).
 *
 * The caller gives a method, a path under the base URL, an optional body
 * and extra headers; it gets the status, the content type, the body (capped)
 * and the few response headers the client reports. Transport failures are
 * sorted into "unreachable" (the server could not be reached or the TLS
 * handshake failed) and "local" (our own files or options are wrong).
 *
 * The process exit codes live here too, in one enum, because the mapping
 * from an HTTP outcome to an exit code is this module's business.
 */
#ifndef MEDAID_CLIENT_API_H
#define MEDAID_CLIENT_API_H

#include <stdbool.h>
#include <stddef.h>

/* Documented in `medaid --help` and docs/medaid.1.md; keep the three in step. */
enum exit_code {
    EXIT_OK = 0,          /* success (coverage: covered) */
    EXIT_USAGE = 1,       /* usage or local error */
    EXIT_REFUSED = 2,     /* refused by the server (4xx) */
    EXIT_UNREACHABLE = 3, /* connect, DNS, TLS handshake, timeout */
    EXIT_SERVER = 4,      /* server error or unavailable (5xx), or a bad answer */
    EXIT_NOT_COVERED = 5, /* a negative answer: "covered": false (coverage, audit as-of),
                             or "intact": false (audit verify) */
};

#define API_MAX_RESPONSE (64u * 1024u * 1024u) /* response body cap */

struct api_options {
    const char *url;          /* base URL, e.g. https://localhost:8443 */
    const char *cert;         /* client certificate (PEM), may be NULL */
    const char *key;          /* client private key (PEM), may be NULL */
    const char *ca;           /* CA that signed the server certificate, may be NULL */
    const char *lang;         /* Accept-Language value, may be NULL */
    const char *request_id;   /* X-Request-Id to send, may be NULL */
    long timeout;             /* seconds, whole exchange */
    bool verbose;             /* status and request id on stderr */
    const char *cert_type;    /* "PEM" (default when NULL) or "P12" (cert and key in one file) */
    const char *key_password; /* pass phrase of an encrypted key or PKCS#12 file, may be NULL */
    int retry;                /* extra attempts on 503, 429 and connection failures */
};

/*
 * A streamed body: called with the bytes of a 2xx answer as they arrive, with
 * the answer's media type (lower case, no parameters; NULL when none). Return
 * false to stop the transfer.
 */
typedef bool (*api_body_fn)(void *arg, const char *media_type, const char *data, size_t n);

struct api_request {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* "/v1/health", already escaped */
    const char *body;   /* may be NULL */
    size_t body_len;
    const char *content_type;   /* of body; may be NULL */
    const char *accept;         /* Accept value; NULL -> application/json */
    const char *const *headers; /* extra "Name: value" lines, NULL-terminated; may be NULL */
    const char *capture;        /* a response header to return in res->captured; may be NULL */
    /* When set, the body of a 2xx answer goes to on_body as it arrives instead
     * of res->body (no size cap), and the timeout is the longest wait for data
     * (connection included) instead of the whole exchange. A 2xx answer cut
     * off after its headers is API_BAD_ANSWER. Other answers are kept in
     * res->body as usual. */
    api_body_fn on_body;
    void *on_body_arg;
};

enum api_outcome {
    API_ANSWERED,    /* the server answered: see status */
    API_UNREACHABLE, /* could not talk to the server (exit 3) */
    API_LOCAL,       /* our side is wrong: options, files, memory (exit 1) */
    API_BAD_ANSWER,  /* the answer was unusable, e.g. over the size cap (exit 4) */
};

struct api_response {
    enum api_outcome outcome;
    long status;        /* HTTP status when answered */
    char *content_type; /* lower-case media type without parameters, or NULL */
    char *body;         /* NUL-terminated (the NUL is not counted in len) */
    size_t len;
    char *request_id;  /* X-Request-Id of the answer, or NULL */
    char *retry_after; /* Retry-After of the answer, or NULL */
    char *captured;    /* the value of the request's `capture` header, or NULL */
    bool stopped;      /* on_body returned false (outcome API_LOCAL) */
    size_t streamed;   /* bytes handed to on_body */
    char error[320];   /* why, when not answered */
};

/* Once per process, before any exchange / after the last. */
bool api_global_init(void);
void api_global_cleanup(void);
/* "libcurl/7.88.1 OpenSSL/3.0.x ..." */
const char *api_backend_version(void);

/* Perform one exchange. Always fills *res (free it with api_response_free).
 * With o->retry > 0, a 503, a 429 or a failure to reach the server is tried
 * again up to o->retry times, after an exponential backoff with jitter (or
 * the answer's Retry-After), when the request is safe to repeat: a GET, or
 * a write that carries an Idempotency-Key (the same key each time). A stream
 * that already handed bytes to on_body is never repeated. */
void api_exchange(const struct api_options *o, const struct api_request *rq,
                  struct api_response *res);
void api_response_free(struct api_response *res);

/* exit code for an HTTP status: 2xx -> 0, 4xx -> 2, else 4 */
enum exit_code api_exit_for_status(long status);
/* exit code for a non-answered outcome */
enum exit_code api_exit_for_outcome(enum api_outcome o);

/* true when the media type is application/json or application/problem+json */
bool api_is_json(const struct api_response *res);
bool api_is_problem(const struct api_response *res);

/* Percent-escape one path segment (malloc'd; NULL on failure). */
char *api_escape_segment(const char *s);

#endif
