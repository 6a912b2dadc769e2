/*
 * coverage: the provider's question and the registry's answer
 * (DOMAIN.md "The provider's question"). Pure: the daemon fetches the
 * person's decisions, this module decides.
 */
#ifndef MEDAID_PROTO_COVERAGE_H
#define MEDAID_PROTO_COVERAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "date.h"
#include "decision.h"
#include "problem.h"

enum lang { LANG_EN, LANG_NL, LANG_FR };

/* Pick en, nl or fr from an Accept-Language header value (q-values honoured,
 * "nl-BE" matches nl, "*" and anything else -> en). NULL -> en. */
enum lang lang_from_accept(const char *hdr);
const char *lang_tag(enum lang l); /* "en", "nl", "fr" */

/* Refusal reasons, in their order of precedence. */
enum refusal {
    RF_NONE = 0,
    RF_INVALID_SSIN,
    RF_SERVICE_DATE_IN_FUTURE,
    RF_SERVICE_DATE_TOO_OLD,
    RF_DECEASED,
    RF_NO_DECISION,
    RF_NO_ACTIVE_DECISION,
    RF_SUSPENDED,
    RF_CARE_TYPE_ABSENT,
    RF_CARE_TYPE_INACTIVE,
    RF_PROVIDER_NOT_DESIGNATED,
    RF__COUNT
};
const char *refusal_code(enum refusal r);                 /* "no_active_decision" */
const char *refusal_message(enum refusal r, enum lang l); /* readable, in that language */

struct coverage_question {
    char ssin[12];   /* as asked, when it was 11 chars or fewer (else truncated) */
    bool ssin_valid; /* false -> the answer is invalid_ssin (200, not a 422) */
    pdate service_date;
    enum care_type care_type;
};

/*
 * Parse {"ssin": "...", "service_date": "YYYY-MM-DD", "care_type": "..."}.
 * ssin must be a string (any content: a bad number is an answer, not an
 * error); service_date a valid date; care_type one of the eight.
 * Unknown fields and duplicate keys are refused (PARSE_INVALID).
 */
enum parse_result coverage_parse_question(const char *buf, size_t len,
                                          struct coverage_question *q, struct verrs *errs);

struct coverage_result {
    enum refusal reason;               /* RF_NONE when covered */
    const struct decision *decision;   /* the decision that answered, or NULL */
    const struct cover *cover;         /* the cover that answered, or NULL */
};

/*
 * Decide. decisions[0..n) are all current versions of the person's
 * decisions (principle and coverage, any status). provider is the asking
 * provider's organisation number (NIHII or KBO). today is the registry's
 * calendar date.
 *
 * Order: invalid_ssin; service_date_in_future (> today); service_date_too_old
 * (< today - 2 calendar months, date_add_months); deceased (any decision's
 * death_date <= service_date); no_decision (n == 0); no_active_decision (no
 * coverage decision whose period contains the date); suspended (that
 * decision is suspended); care_type_absent; care_type_inactive (cover period
 * does not contain the date); provider_not_designated (non-empty list
 * without the provider). A stopped decision covers its period (its end is
 * the stop date) like an active one.
 * result->decision and ->cover point into decisions[] (valid while it is).
 */
void coverage_evaluate(const struct coverage_question *q, const struct decision *decisions,
                       size_t n, const char *provider, pdate today,
                       struct coverage_result *result);

/*
 * Encode the answer WITHOUT the agreement number; the daemon prepends
 * "agreement" when it records it. Shape (DESIGN.md):
 * covered: {"covered":true,"decision":{"id","version","ocmw","period"},
 *           "cover":{"care_type","period","prescription_required",
 *                    "convention","urgent_attestation_required"}}
 * refused: {"covered":false,"reason":{"code","message"}} plus "decision"
 *          (id, version, ocmw, period) when one decision was found for the
 *          date (suspended, care_type_*, provider_not_designated).
 * Returns malloc'd JSON text starting with '{', or NULL on allocation failure.
 */
char *coverage_encode_answer(const struct coverage_result *r, enum lang l);

#endif
