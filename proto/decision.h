/*
 * decision: the medical-aid decision document of the wire contract
 * (DOMAIN.md "Decisions"): parse + validate, and encode.
 *
 * Parsing takes (pointer, length), does no I/O, refuses unknown fields,
 * duplicate keys, wrong types, invalid UTF-8 and non-integer numbers.
 */
#ifndef MEDAID_PROTO_DECISION_H
#define MEDAID_PROTO_DECISION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "date.h"
#include "problem.h"

enum care_type {
    CT_HOSPITALISATION,
    CT_AMBULATORY_HOSPITAL,
    CT_GENERAL_PRACTICE,
    CT_PARAMEDICAL,
    CT_PHARMACY,
    CT_PROSTHESIS,
    CT_MEDICAL_TRANSPORT,
    CT_MISCELLANEOUS,
    CT__COUNT
};
/* the state's share is set per domain */
enum state_domain { SD_HOSPITALISATION, SD_AMBULATORY_HOSPITAL, SD_OTHER, SD__COUNT };
enum pays { PAYS_NONE, PAYS_FULL, PAYS_PARTIAL };
enum decision_kind { DK_PRINCIPLE, DK_COVERAGE };
enum decision_status { DS_ACTIVE, DS_SUSPENDED, DS_STOPPED };

const char *care_type_name(enum care_type t);
bool care_type_from_name(const char *s, size_t len, enum care_type *out);
enum state_domain care_type_domain(enum care_type t);
/* hospitalisation and ambulatory_hospital: the only covers with supplement caps/lists */
bool care_type_is_hospital(enum care_type t);
/* medical_transport and prosthesis: designated providers may be KBO numbers */
bool care_type_allows_kbo_provider(enum care_type t);
const char *decision_kind_name(enum decision_kind k);
const char *decision_status_name(enum decision_status s);
bool decision_status_from_name(const char *s, size_t len, enum decision_status *out);
const char *pays_name(enum pays p);

struct period {
    pdate start, end; /* inclusive */
};

#define MAX_DESIGNATED       64
#define MAX_SUPPLEMENT_TYPES 16
#define MAX_REFERENCE        64 /* bytes of UTF-8 */

struct cover {
    enum care_type care_type;
    struct period period;
    enum pays insurance_part, patient_share, supplements;
    bool has_patient_share_cap;
    int64_t patient_share_cap_cents;
    bool has_supplements_cap;
    int64_t supplements_cap_cents;
    int n_supplement_types;
    char supplement_types[MAX_SUPPLEMENT_TYPES][33];
    bool prescription_required;
    bool convention;
    int n_designated;
    char designated[MAX_DESIGNATED][12]; /* NIHII (11) or KBO (10) digits */
};

struct state_share {
    int insurance_pct;     /* 0, 50, 100 */
    int patient_share_pct; /* 0, 50, 100 */
};

struct decision {
    enum decision_kind kind;
    char ssin[12];
    bool has_death_date;
    pdate death_date;
    struct period period;
    bool has_reference;
    char reference[MAX_REFERENCE + 1];
    bool urgent_attestation_required;
    struct state_share state_share[SD__COUNT]; /* coverage only */
    int n_covers;                              /* coverage: 1..8, principle: 0 */
    struct cover covers[CT__COUNT];

    /* Set by the registry, never accepted from a client. */
    bool has_meta;
    char id[24]; /* "D2026-00001234" */
    int version; /* 1, 2, ... */
    enum decision_status status;
    char ocmw[16];        /* KBO of the recording OCMW */
    char recorded_at[32]; /* RFC 3339 UTC, "2026-11-23T17:30:00Z" */
};

enum parse_result {
    PARSE_OK,        /* valid */
    PARSE_MALFORMED, /* not JSON at all, or not an object: 400 malformed_json */
    PARSE_INVALID,   /* JSON, but errs says what is wrong: 422 validation_failed */
};

/*
 * Parse a decision as a client sends it and apply every field rule of
 * DOMAIN.md that needs no other decision. today is the registry's calendar
 * date (business time zone): start at most 60 days before today, death date
 * not after today.
 *
 * Rules: kind principle|coverage; beneficiary.ssin valid (ids_ssin_valid);
 * beneficiary.death_date null or a date <= today; period.start <= end;
 * start >= today - 60 days; principle: end <= start + 1 year - 1 day;
 * coverage: the same bound (1 day .. 1 year); reference optional string
 * (1..64 bytes, valid UTF-8, no control characters) or null;
 * urgent_attestation_required optional bool (default false);
 * principle: no covers, no state_share;
 * coverage: state_share required with all three domains, each
 * insurance_pct and patient_share_pct in {0, 50, 100}; covers 1..8, one per
 * care type; hospitalisation requires ambulatory_hospital; each cover:
 * period inside the decision period, start <= end; ocmw_pays with
 * insurance_part, patient_share, supplements each none|full|partial;
 * patient_share_cap_cents (integer >= 1) required when patient_share is
 * partial and refused otherwise; supplements_cap_cents and
 * allowed_supplement_types only on hospital covers and only when
 * supplements is partial (then the cap is required, integer >= 1;
 * the type list is 1..16 unique names [a-z0-9_]{1,32}); supplements partial
 * on a non-hospital cover is refused; prescription_required, convention
 * optional bools (default false); designated_providers optional array
 * (default empty) of unique NIHII numbers (11 digits), or, for
 * medical_transport and prosthesis, NIHII or KBO (checksum), at most 64.
 * Unknown fields, duplicate keys and id/version/status/ocmw/recorded_at are
 * refused (code unknown_field / duplicate_field / read_only_field).
 */
enum parse_result decision_parse_input(const char *buf, size_t len, pdate today,
                                       struct decision *out, struct verrs *errs);

/*
 * Parse a new version of a decision (PUT): the same rules as
 * decision_parse_input, except that a start date equal to the current
 * version's is not held to "60 days back", then decision_check_change
 * (lifecycle.h) against the current version.
 */
enum parse_result decision_parse_update(const char *buf, size_t len, pdate today,
                                        const struct decision *current, struct decision *out,
                                        struct verrs *errs);

/*
 * Parse a decision as the registry stored it (decision_encode output with or
 * without meta). Structural checks only: no rule that depends on today.
 * Returns false on any problem (the caller treats that as corruption).
 */
bool decision_parse_stored(const char *buf, size_t len, struct decision *out);

/*
 * Encode canonically: every field present, in a fixed order (kind,
 * beneficiary, period, reference, urgent_attestation_required, state_share,
 * covers; with_meta adds id, version, status, ocmw, recorded_at first).
 * Optional values absent on input are written with their defaults
 * (null / false / []). Caps appear only when they apply.
 * Returns a malloc'd NUL-terminated string, or NULL on allocation failure.
 */
char *decision_encode(const struct decision *d, bool with_meta);

/* A supplement type name: [a-z0-9_]{1,32} (in covers and in questions). */
bool supplement_type_valid(const char *s);

/* Find a cover by care type; NULL when the decision has none. */
const struct cover *decision_cover(const struct decision *d, enum care_type t);

#endif
