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
#include "messages.h"
#include "problem.h"
#include "provider_kind.h"
#include "split.h"
#include "tariff.h"

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
    RF_UNKNOWN_CODE, /* per item, never for the whole answer */
    /* appended (values are not the order here): judged after
     * service_date_too_old and before deceased, see coverage_evaluate_kind */
    RF_PROVIDER_KIND_MISMATCH,
    RF__COUNT
};
const char *refusal_code(enum refusal r); /* "no_active_decision" */
/* readable, in that language (proto/messages.c) */
const char *refusal_message(enum refusal r, enum lang l);

#define COVERAGE_MAX_ITEMS 64

struct coverage_item {
    char code[7];              /* 6 digits */
    int quantity;              /* 1..999, default 1 */
    int64_t supplements_cents; /* asked, >= 0, default 0 */
    bool has_supplement_type;
    char supplement_type[33]; /* [a-z0-9_]{1,32} */
};

struct coverage_question {
    char ssin[12];   /* as asked, when it was 11 chars or fewer (else truncated) */
    bool ssin_valid; /* false -> the answer is invalid_ssin (200, not a 422) */
    pdate service_date;
    enum care_type care_type;
    int n_items;
    struct coverage_item items[COVERAGE_MAX_ITEMS];
};

/*
 * Parse {"ssin": "...", "service_date": "YYYY-MM-DD", "care_type": "...",
 *        "items": [{"code": "101076", "quantity": 1, "supplements_cents": 0,
 *                   "supplement_type": "room"}]}.
 * ssin must be a string (any content: a bad number is an answer, not an
 * error); service_date a valid date; care_type one of the eight; items
 * optional, 0..64, each with a 6-digit code (invalid_code), quantity
 * 1..999 (default 1), supplements_cents >= 0 and <= 10^9 (default 0),
 * supplement_type optional [a-z0-9_]{1,32} (invalid_supplement_type).
 * Unknown fields and duplicate keys are refused (PARSE_INVALID).
 */
enum parse_result coverage_parse_question(const char *buf, size_t len, struct coverage_question *q,
                                          struct verrs *errs);

/*
 * The items of a question written as one query parameter (coverage as of):
 * "code[:quantity[:supplements_cents[:supplement_type]]]", comma-separated,
 * 1 to 64 of them, with the bounds of the body (quantity 1..999, default 1;
 * supplements 0..10^9, default 0; supplement_type [a-z0-9_]{1,32}). Sets
 * q->items and q->n_items; false (q's items unspecified) when malformed.
 */
bool coverage_items_from_query(const char *s, struct coverage_question *q);

struct item_answer {
    bool refused; /* unknown_code: no tariff for it on the service date and care type */
    struct split_result split;
};

struct coverage_result {
    enum refusal reason;             /* RF_NONE when covered */
    const struct decision *decision; /* the decision that answered, or NULL */
    const struct cover *cover;       /* the cover that answered, or NULL */
    int n_items;                     /* set by coverage_split */
    struct item_answer items[COVERAGE_MAX_ITEMS];
    struct split_result totals; /* over the items not refused */
    int64_t cap_used_cents;     /* set by coverage_split: what earlier agreements of the
                                 * month took of the patient-share cap */
    bool split;                 /* coverage_split ran: the caps' state is known (without
                                 * it, e.g. "coverage as of", the answer has no caps) */
};

/* The state of one cap in an answer (DOMAIN.md "Monthly caps"): the cap,
 * what earlier agreements of the month took (the supplements cap holds per
 * answer: 0), what this answer grants, and what is left after it. */
struct cap_state {
    int64_t cap_cents, used_cents, granted_cents, remaining_cents;
};

/* The caps of a covered answer's cover: *ps for the patient share (when it
 * is paid partially up to a monthly cap), *sp for the supplements (paid
 * partially up to a cap); false for a part without a cap. */
bool coverage_patient_share_cap(const struct coverage_result *r, struct cap_state *ps);
bool coverage_supplements_cap(const struct coverage_result *r, struct cap_state *sp);

/* The text the answer gives a cap as, "\"patient_share\":{\"cap_cents\":C,
 * \"used_cents\":U,\"granted_cents\":G,\"remaining_cents\":R}" (name and
 * order exactly as coverage_encode_answer prints them); buf of 160 bytes. */
void coverage_cap_text(const char *name, const struct cap_state *c, char *buf, size_t size);

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
                       size_t n, const char *provider, pdate today, struct coverage_result *result);

/* The same, for a provider of kind `kind` (PK_NONE: every care type may be
 * asked, as coverage_evaluate): a care type the kind may not ask about
 * (provider_kind_may_ask) is refused provider_kind_mismatch, after
 * service_date_too_old and before deceased. */
void coverage_evaluate_kind(const struct coverage_question *q, const struct decision *decisions,
                            size_t n, const char *provider, enum provider_kind kind, pdate today,
                            struct coverage_result *result);

/*
 * Split the items of a covered answer (no-op when r->reason != RF_NONE).
 * tariffs[0..n) are the tariff lines valid on the service date for the
 * question's codes (any order; other lines are ignored). used_this_month:
 * the OCMW patient share already granted this calendar month for this
 * beneficiary and care type. An item whose code has no tariff on the
 * service date, or whose tariff is not for the question's care type, is
 * refused (unknown_code) and has no amounts.
 */
void coverage_split(const struct coverage_question *q, const struct tariff *tariffs, size_t n,
                    int64_t used_this_month, struct coverage_result *r);

/*
 * Encode the answer WITHOUT the agreement number; the daemon prepends
 * "agreement" when it records it. Shape (DESIGN.md):
 * covered: {"covered":true,"decision":{"id","version","ocmw","period"},
 *           "cover":{"care_type","period","prescription_required",
 *                    "convention","urgent_attestation_required"}}
 *           plus, when the question had items,
 *           "items":[{"code","quantity","fee_cents","state_cents","ocmw_cents",
 *                     "patient_cents"} (+ "supplements_cents" when asked) or
 *                    {"code","quantity","refused":{"code":"unknown_code","message",
 *                                                  "messages"}}],
 *           "totals":{"fee_cents","state_cents","ocmw_cents","patient_cents"}
 *                    (+ "supplements_cents" when any item asked supplements)
 *           plus, when the cover has a cap (coverage_*_cap), "caps":{"patient_share":
 *           {"cap_cents","used_cents","granted_cents","remaining_cents"},
 *           "supplements":{...}} with the capped parts only
 * refused: {"covered":false,"reason":{"code","message","messages"}} plus "decision"
 *          (id, version, ocmw, period) when one decision was found for the
 *          date (suspended, care_type_*, provider_not_designated).
 * "message" is in l, "messages" has {"nl","fr","de"} (messages.h).
 * Returns malloc'd JSON text starting with '{', or NULL on allocation failure.
 */
char *coverage_encode_answer(const struct coverage_question *q, const struct coverage_result *r,
                             enum lang l);

#endif
