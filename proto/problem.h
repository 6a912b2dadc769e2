/*
 * problem: the stable error codes of the wire contract (RFC 9457 problem
 * details) and the per-field validation error list.
 * Shared by the daemon (to answer) and the client (to explain).
 */
#ifndef MEDAID_PROTO_PROBLEM_H
#define MEDAID_PROTO_PROBLEM_H

#include <stdbool.h>
#include <stddef.h>

#include "messages.h"

enum problem {
    PROBLEM_BAD_REQUEST,            /* 400 malformed HTTP request */
    PROBLEM_MALFORMED_JSON,         /* 400 body is not JSON */
    PROBLEM_INVALID_PARAMETER,      /* 400 bad path or query parameter */
    PROBLEM_PRINCIPAL_UNKNOWN,      /* 403 certificate not registered */
    PROBLEM_PRINCIPAL_REVOKED,      /* 403 principal revoked */
    PROBLEM_FORBIDDEN,              /* 403 role may not do this */
    PROBLEM_NOT_FOUND,              /* 404 */
    PROBLEM_METHOD_NOT_ALLOWED,     /* 405 */
    PROBLEM_REQUEST_TIMEOUT,        /* 408 request not received in time */
    PROBLEM_LENGTH_REQUIRED,        /* 411 body without Content-Length */
    PROBLEM_BODY_TOO_LARGE,         /* 413 */
    PROBLEM_UNSUPPORTED_MEDIA_TYPE, /* 415 not application/json */
    PROBLEM_VALIDATION_FAILED,      /* 422 with errors[] */
    PROBLEM_HEADERS_TOO_LARGE,      /* 431 */
    PROBLEM_INTERNAL_ERROR,         /* 500 */
    PROBLEM_NOT_IMPLEMENTED,        /* 501 unknown method / transfer coding */
    PROBLEM_DATABASE_UNAVAILABLE,   /* 503 + Retry-After */
    PROBLEM_SHUTTING_DOWN,          /* 503 daemon is stopping */
    PROBLEM_DECISION_OVERLAP,       /* 409 another decision covers those days */
    PROBLEM_INVALID_STATUS,         /* 409 not possible in the decision's status */
    PROBLEM_VERSION_MISMATCH,       /* 412 If-Match is not the current version */
    PROBLEM_PRECONDITION_REQUIRED,  /* 428 If-Match missing */
    PROBLEM_IDEMPOTENCY_KEY_REUSED, /* 422 same key, different request */
    PROBLEM_UNKNOWN_PARAMETER,      /* 400 a query parameter the endpoint does not take */
    PROBLEM_DATABASE_TIMEOUT,       /* 503 + Retry-After: the database did not answer in time */
    PROBLEM_RATE_LIMITED,           /* 429 + Retry-After: the principal's rate limit */
    PROBLEM_CHECKPOINTS_DISABLED,   /* 503 no audit_signing_key configured */
    PROBLEM_CHECKPOINT_INVALID,     /* 422 a checkpoint not signed by this registry's key */
    PROBLEM_AGREEMENT_BILLED,    /* 409 an accepted invoice line: the agreement cannot be voided */
    PROBLEM_PAYMENT_EXCEEDS_DUE, /* 409 payments would exceed the invoice's accepted state share */
    PROBLEM_PAYMENT_DUPLICATE,   /* 409 a payment with this reference is recorded for the invoice */
    PROBLEM__COUNT
};

const char *problem_code(enum problem p);  /* "malformed_json" */
int problem_status(enum problem p);        /* 400 */
const char *problem_title(enum problem p); /* "Malformed JSON" */
/* true for the problems a client should retry later (the answer carries
 * Retry-After): the database unavailable or too slow, a daemon shutting
 * down, a rate limit */
bool problem_retry_later(enum problem p);
/* inverse of problem_code; false when unknown */
bool problem_from_code(const char *code, enum problem *out);

/* Per-field validation errors, in the order found. Bounded: past
 * VERRS_MAX the list is marked truncated and further errors are dropped. */
#define VERRS_MAX 32
struct verr {
    char field[96]; /* JSON path: "covers[0].period.end", "" for the body */
    char code[40];  /* stable: "invalid_ssin", "unknown_field", ... */
    char message[200];
};
struct verrs {
    struct verr items[VERRS_MAX];
    int n;
    bool truncated;
};

void verrs_init(struct verrs *e);
void verrs_add(struct verrs *e, const char *field, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Encode a problem+json document. detail may be NULL (title is used).
 * errs may be NULL. extra, when not NULL, is a cJSON object whose members
 * are copied into the document (e.g. "conflict"). Returns a malloc'd string. */
struct cJSON;
char *problem_encode(enum problem p, const char *detail, const struct verrs *errs,
                     const struct cJSON *extra);
/* problem_encode with the title in l (proto/messages.c) and "messages"
 * holding the title in nl, fr and de; detail stays as given. */
char *problem_encode_lang(enum problem p, const char *detail, const struct verrs *errs,
                          const struct cJSON *extra, enum lang l);

#endif
