/*
 * tariff: nomenclature codes with validity periods (DOMAIN.md "Tariffs"),
 * and the parser of a tariff import (CSV or JSON). Pure.
 *
 * CSV: a header line exactly "code,start,end,fee_cents,patient_share_cents,care_types",
 * then one line per tariff; care types joined by "|"; lines starting with
 * "#" and empty lines are ignored; CRLF accepted; no quoting (no field
 * may contain a comma). JSON: an array of
 *   {"code":"101076","period":{"start":"2026-01-01","end":"2026-12-31"},
 *    "fee_cents":3000,"patient_share_cents":600,"care_types":["general_practice"]}
 * Rules: code 6 digits; start <= end; 0 <= patient_share_cents <= fee_cents
 * <= 10^9; 1..8 known, unique care types; no two lines of one code with
 * overlapping periods; at most TARIFF_MAX_LINES lines.
 * Error fields: "line N" (CSV, 1-based, header = line 1) or "[i].field" (JSON).
 * Codes: required, wrong_type, unknown_field, duplicate_field, bad_header,
 * wrong_field_count, invalid_code, invalid_date, period_reversed,
 * invalid_amount, share_above_fee, invalid_care_type, duplicate_care_type,
 * overlapping_period, too_many, empty.
 */
#ifndef MEDAID_PROTO_TARIFF_H
#define MEDAID_PROTO_TARIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "date.h"
#include "decision.h"
#include "problem.h"

#define TARIFF_MAX_LINES 100000

struct tariff {
    char code[7];
    struct period period;
    int64_t fee_cents;
    int64_t patient_share_cents;
    unsigned care_types; /* bit (1u << enum care_type) */
};

struct tariff_set {
    size_t n;
    struct tariff *lines; /* malloc'd; tariff_set_free */
};

/* A nomenclature code: exactly 6 ASCII digits (in tariffs and in questions). */
bool tariff_code_valid(const char *s, size_t len);

/* Parse an import. csv selects the format. On PARSE_OK, out holds the lines
 * sorted by (code, start). */
enum parse_result tariff_parse(const char *buf, size_t len, bool csv, struct tariff_set *out,
                               struct verrs *errs);
void tariff_set_free(struct tariff_set *s);

/* {"code","period":{"start","end"},"fee_cents","patient_share_cents","care_types":[...]}
 * as a malloc'd string */
char *tariff_encode(const struct tariff *t);
/* Parse what tariff_encode wrote (false when it is not that). */
bool tariff_parse_one(const char *buf, size_t len, struct tariff *out);

#endif
