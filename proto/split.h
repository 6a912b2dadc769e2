/*
 * split: who pays what of one billed code line (DOMAIN.md "How amounts are
 * split"). Integer cents; pure.
 *
 *   fee            = tariff fee x quantity
 *   patient_share  = tariff patient share x quantity
 *   insurance_part = fee - patient_share
 *   state          = insurance_part x state% (insurance) + patient_share x state% (patient)
 *                    (each product rounded half up)
 *   OCMW           = insurance left, if the OCMW pays it: full -> all, partial -> half
 *                    (rounded half up), none -> 0
 *                  + patient share left: full -> all, partial -> up to what is left of
 *                    the monthly cap (split_budget.patient_cap_left), none -> 0
 *                  + supplements asked: full -> all, partial -> allowed types only, up
 *                    to what is left of the supplements cap (per answer), none -> 0
 *   patient        = fee + supplements - state - OCMW   (takes every rounding residue)
 *
 * Supplements are never paid by the state. The budget is consumed as lines
 * are split, in order, so a cap holds across the lines of one answer.
 */
#ifndef MEDAID_PROTO_SPLIT_H
#define MEDAID_PROTO_SPLIT_H

#include <stdbool.h>
#include <stdint.h>

#include "decision.h"

struct split_line {
    int64_t fee_cents;           /* tariff fee x quantity */
    int64_t patient_share_cents; /* tariff patient share x quantity */
    int64_t supplements_cents;   /* asked, >= 0 */
    const char *supplement_type; /* NULL when none given */
};

struct split_budget {
    int64_t patient_cap_left;     /* what the monthly cap still allows (partial) */
    int64_t supplements_cap_left; /* what the supplements cap still allows (partial) */
};

struct split_result {
    int64_t fee_cents, supplements_cents, state_cents, ocmw_cents, patient_cents;
    int64_t ocmw_patient_share_cents; /* the part of ocmw_cents that counts against the
                                       * monthly cap (0 unless the patient share is partial) */
    int64_t ocmw_supplements_cents;
};

/* Start a budget for one answer: used_this_month is what earlier agreements
 * of this month (same beneficiary, same care type) already took. */
void split_budget_init(struct split_budget *b, const struct cover *cv, int64_t used_this_month);

/* Round x * pct / 100 half up (pct in {0, 50, 100}, x >= 0). */
int64_t split_pct(int64_t x, int pct);

void split_line(const struct state_share *ss, const struct cover *cv, const struct split_line *in,
                struct split_budget *b, struct split_result *out);

#endif
