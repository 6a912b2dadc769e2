/*
 * split: who pays what of one billed code line (see split.h).
 *
 * Every figure is an integer number of cents; the only rounding is the
 * half-up rounding of a 50 % share, and the patient line takes whatever is
 * left, so that state + OCMW + patient == fee + supplements exactly.
 */
#include "split.h"

#include <string.h>

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t nonneg(int64_t x)
{
    return x < 0 ? 0 : x;
}

int64_t split_pct(int64_t x, int pct)
{
    if (x <= 0 || pct <= 0)
        return 0;
    if (pct >= 100)
        return x;
    /* x * pct / 100 rounded half up; x < 2^53 on every path (cents) */
    return (x * pct + 50) / 100;
}

void split_budget_init(struct split_budget *b, const struct cover *cv, int64_t used_this_month)
{
    b->patient_cap_left = 0;
    b->supplements_cap_left = 0;
    if (cv == NULL)
        return;
    if (cv->patient_share == PAYS_PARTIAL && cv->has_patient_share_cap)
        b->patient_cap_left = nonneg(cv->patient_share_cap_cents - nonneg(used_this_month));
    if (cv->supplements == PAYS_PARTIAL && cv->has_supplements_cap)
        b->supplements_cap_left = nonneg(cv->supplements_cap_cents);
}

static bool supplement_allowed(const struct cover *cv, const char *type)
{
    if (type == NULL)
        return false;
    for (int i = 0; i < cv->n_supplement_types && i < MAX_SUPPLEMENT_TYPES; i++)
        if (strcmp(cv->supplement_types[i], type) == 0)
            return true;
    return false;
}

void split_line(const struct state_share *ss, const struct cover *cv, const struct split_line *in,
                struct split_budget *b, struct split_result *out)
{
    memset(out, 0, sizeof *out);
    int64_t fee = nonneg(in->fee_cents);
    int64_t share = min64(nonneg(in->patient_share_cents), fee);
    int64_t supplements = nonneg(in->supplements_cents);
    int64_t insurance = fee - share;

    /* the state: its percentages of the two parts; never supplements */
    int64_t state_ins = split_pct(insurance, ss->insurance_pct);
    int64_t state_share = split_pct(share, ss->patient_share_pct);

    /* the OCMW: on what the state leaves */
    int64_t ins_left = insurance - state_ins;
    int64_t share_left = share - state_share;
    int64_t ocmw_ins = 0, ocmw_share = 0, ocmw_supp = 0;

    switch (cv->insurance_part) {
    case PAYS_FULL:
        ocmw_ins = ins_left;
        break;
    case PAYS_PARTIAL:
        ocmw_ins = split_pct(ins_left, 50);
        break;
    default:
        break;
    }

    switch (cv->patient_share) {
    case PAYS_FULL:
        ocmw_share = share_left;
        break;
    case PAYS_PARTIAL:
        ocmw_share = min64(share_left, nonneg(b->patient_cap_left));
        b->patient_cap_left = nonneg(b->patient_cap_left) - ocmw_share;
        break;
    default:
        break;
    }

    switch (cv->supplements) {
    case PAYS_FULL:
        ocmw_supp = supplements;
        break;
    case PAYS_PARTIAL:
        if (supplement_allowed(cv, in->supplement_type)) {
            ocmw_supp = min64(supplements, nonneg(b->supplements_cap_left));
            b->supplements_cap_left = nonneg(b->supplements_cap_left) - ocmw_supp;
        }
        break;
    default:
        break;
    }

    out->fee_cents = fee;
    out->supplements_cents = supplements;
    out->state_cents = state_ins + state_share;
    out->ocmw_cents = ocmw_ins + ocmw_share + ocmw_supp;
    out->patient_cents = fee + supplements - out->state_cents - out->ocmw_cents;
    /* only a partial patient share is held to the monthly cap */
    out->ocmw_patient_share_cents = cv->patient_share == PAYS_PARTIAL ? ocmw_share : 0;
    out->ocmw_supplements_cents = ocmw_supp;
}
