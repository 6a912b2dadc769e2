/*
 * audit_query: the query parameters of the auditors' lists and question
 * (GET /v1/audit/consultations, /v1/audit/decisions, /v1/audit/coverage-as-of;
 * docs/protocol.md "Filters"). Pure: the daemon's HTTP layer decodes the
 * query string and refuses unknown and repeated names; this module checks the
 * values.
 */
#ifndef MEDAID_PROTO_AUDIT_QUERY_H
#define MEDAID_PROTO_AUDIT_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "date.h"
#include "decision.h"
#include "problem.h"

/* one query parameter as the HTTP layer decoded it */
struct audit_param {
    const char *name;
    const char *value; /* NULL: the name was sent without a value (absent) */
};

#define AUDIT_LIMIT_DEFAULT 100
#define AUDIT_LIMIT_MAX     1000

enum audit_query_kind { AQ_CONSULTATIONS, AQ_DECISIONS, AQ_AS_OF, AQ_READS };

/* The parameters of each kind, in the order of their SQL parameters. */
enum {
    AQC_SSIN,
    AQC_PROVIDER,
    AQC_OCMW,
    AQC_SERVICE_FROM,
    AQC_SERVICE_TO,
    AQC_RECORDED_FROM,
    AQC_RECORDED_TO,
    AQC_OUTCOME,
    AQC__COUNT
};
enum { AQD_OCMW, AQD_SSIN, AQD_CHANGED_SINCE, AQD_STATUS, AQD__COUNT };
enum {
    AQA_SSIN,
    AQA_SERVICE_DATE,
    AQA_CARE_TYPE,
    AQA_KNOWN_AT,
    AQA_PROVIDER,
    AQA_ITEMS, /* the question's items (coverage_items_from_query) */
    AQA__COUNT
};
enum { AQR_SSIN, AQR__COUNT };

#define AUDIT_QUERY_MAX_PARAMS 8

struct audit_query {
    enum audit_query_kind kind;
    int n_params; /* AQC__COUNT, AQD__COUNT, AQA__COUNT or AQR__COUNT */
    /* NULL when not given; else the value, pointing into the pairs */
    const char *param[AUDIT_QUERY_MAX_PARAMS];
    /* the lists */
    int limit;          /* AUDIT_LIMIT_DEFAULT when not given */
    bool has_cursor;    /* a valid cursor was given */
    char cursor[3][80]; /* consultations: [0] the agreement number;
                         * decisions: recorded_at (UTC, microseconds), decision, version;
                         * reads: [0] the audit sequence number */
    /* as-of */
    pdate service_date;
    enum care_type care_type;
};

/*
 * The parameters kind takes, by index: audit_query_name(kind, 0), (kind, 1),
 * ... until NULL (at most AUDIT_QUERY_MAX_NAMES).
 */
#define AUDIT_QUERY_MAX_NAMES 10
const char *audit_query_name(enum audit_query_kind kind, size_t i);

/* The outcome filter of the consultations: covered, not_covered, or the code of
 * a reason a whole answer is refused for (not unknown_code, which refuses items). */
bool audit_outcome_valid(const char *s);

/*
 * Check the values of pairs[0..n) for kind into *q. Which names a request may
 * send, and each only once, is the HTTP router's rule (it answers 400
 * unknown_parameter or repeated_parameter before a handler runs): here a
 * name kind does not take is ignored, a pair with a NULL value is absent,
 * and of a name given twice the first value counts.
 * Returns true when every value is valid. Else *problem (400
 * invalid_parameter) and *detail ("a filter is not valid" for the lists, "the
 * question is incomplete" for as-of) say how to answer, with errs, which
 * are added in the order of the parameters below: error code invalid_value,
 * or required for an as-of parameter that is missing.
 * Consultations take ssin, provider, ocmw, service_from, service_to,
 * recorded_from, recorded_to, outcome, limit, cursor; decisions ocmw, ssin,
 * changed_since, status, limit, cursor; as-of ssin, service_date, care_type,
 * known_at (all four required), provider and items (as
 * coverage_items_from_query reads them); reads ssin (required), limit,
 * cursor.
 */
bool audit_query_parse(enum audit_query_kind kind, const struct audit_param *pairs, size_t n,
                       struct audit_query *q, struct verrs *errs, enum problem *problem,
                       const char **detail);

#endif
