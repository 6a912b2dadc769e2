/* unit tests: proto/split (who pays what of one code line) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "split.h"
#include "tap.h"

/* ---- the formula, written out independently of the code under test ---------- */

/* x * pct / 100, a 50 % share rounded half up: 1200.5 -> 1201 */
static long long pct_of(long long x, int pct)
{
    if (pct == 0)
        return 0;
    if (pct == 100)
        return x;
    return x / 2 + x % 2; /* pct == 50 */
}

static long long lmin(long long a, long long b)
{
    return a < b ? a : b;
}

static const char *const pays_w[] = {"none", "full", "partial"};

static struct cover make_cover(enum pays ins, enum pays ps, enum pays supp)
{
    struct cover c;
    memset(&c, 0, sizeof c);
    c.care_type = CT_GENERAL_PRACTICE;
    c.insurance_part = ins;
    c.patient_share = ps;
    c.supplements = supp;
    if (ps == PAYS_PARTIAL) {
        c.has_patient_share_cap = true;
        c.patient_share_cap_cents = 5000;
    }
    if (supp == PAYS_PARTIAL) {
        c.care_type = CT_HOSPITALISATION;
        c.has_supplements_cap = true;
        c.supplements_cap_cents = 2000;
        c.n_supplement_types = 2;
        snprintf(c.supplement_types[0], sizeof c.supplement_types[0], "room");
        snprintf(c.supplement_types[1], sizeof c.supplement_types[1], "tv");
    }
    return c;
}

static bool sums(const struct split_result *r)
{
    return r->state_cents + r->ocmw_cents + r->patient_cents == r->fee_cents + r->supplements_cents;
}

/* ---- the table: state x OCMW x caps, with odd cents ----------------------------- */

enum cap_case { CAP_AMPLE, CAP_EXACT, CAP_SHORT, CAP_EXHAUSTED, CAP__COUNT };
static const char *const cap_w[] = {"ample", "exact", "short by one", "exhausted"};

static void test_table(void)
{
    static const struct {
        long long fee, share;
    } amounts[] = {
        {3001, 601}, /* insurance 2400, share odd */
        {3003, 601}, /* insurance 2402: 50 % leaves 1201, half of it rounds */
        {3001, 600}, /* insurance 2401 odd */
        {1, 1},      /* one cent, all patient share */
        {1, 0},      /* one cent, all insurance */
        {0, 0},
    };
    static const int pcts[] = {0, 50, 100};
    int cases = 0, sum_ok = 0;
    for (size_t a = 0; a < sizeof amounts / sizeof amounts[0]; a++)
        for (int si = 0; si < 3; si++)
            for (int sp = 0; sp < 3; sp++)
                for (int oi = PAYS_NONE; oi <= PAYS_PARTIAL; oi++)
                    for (int op = PAYS_NONE; op <= PAYS_PARTIAL; op++)
                        for (int cc = 0; cc < (op == PAYS_PARTIAL ? CAP__COUNT : 1); cc++) {
                            long long fee = amounts[a].fee, share = amounts[a].share;
                            long long ins = fee - share;
                            int pi = pcts[si], pp = pcts[sp];
                            /* expected, from DOMAIN.md */
                            long long st_i = pct_of(ins, pi), st_p = pct_of(share, pp);
                            long long left_i = ins - st_i, left_p = share - st_p;
                            long long oc_i = oi == PAYS_FULL      ? left_i
                                             : oi == PAYS_PARTIAL ? left_i / 2 + left_i % 2
                                                                  : 0;
                            long long cap = 0;
                            if (op == PAYS_PARTIAL) {
                                switch (cc) {
                                case CAP_AMPLE:
                                    cap = left_p + 1000;
                                    break;
                                case CAP_EXACT:
                                    cap = left_p;
                                    break;
                                case CAP_SHORT:
                                    cap = left_p > 0 ? left_p - 1 : 0;
                                    break;
                                default:
                                    cap = 0;
                                }
                            }
                            long long oc_p = op == PAYS_FULL      ? left_p
                                             : op == PAYS_PARTIAL ? lmin(left_p, cap)
                                                                  : 0;
                            long long want_state = st_i + st_p;
                            long long want_ocmw = oc_i + oc_p;
                            long long want_patient = fee - want_state - want_ocmw;

                            struct state_share ss = {pi, pp};
                            struct cover cv = make_cover((enum pays)oi, (enum pays)op, PAYS_NONE);
                            struct split_budget b = {.patient_cap_left = cap,
                                                     .supplements_cap_left = 0};
                            struct split_line in = {fee, share, 0, NULL};
                            struct split_result r;
                            split_line(&ss, &cv, &in, &b, &r);
                            cases++;
                            bool good =
                                r.fee_cents == fee && r.state_cents == want_state &&
                                r.ocmw_cents == want_ocmw && r.patient_cents == want_patient &&
                                /* only a partial share counts against the cap */
                                r.ocmw_patient_share_cents == (op == PAYS_PARTIAL ? oc_p : 0) &&
                                r.supplements_cents == 0 && r.ocmw_supplements_cents == 0 &&
                                want_patient >= 0 &&
                                (op != PAYS_PARTIAL || b.patient_cap_left == cap - oc_p);
                            if (sums(&r))
                                sum_ok++;
                            if (!good || !sums(&r)) {
                                ok(false,
                                   "fee %lld share %lld state %d/%d ocmw %s/%s cap %s (%lld)", fee,
                                   share, pi, pp, pays_w[oi], pays_w[op],
                                   op == PAYS_PARTIAL ? cap_w[cc] : "-", cap);
                                diag("got state %lld ocmw %lld patient %lld (ps %lld), cap "
                                     "left %lld; want %lld %lld %lld (ps %lld)",
                                     (long long)r.state_cents, (long long)r.ocmw_cents,
                                     (long long)r.patient_cents,
                                     (long long)r.ocmw_patient_share_cents,
                                     (long long)b.patient_cap_left, want_state, want_ocmw,
                                     want_patient, oc_p);
                            }
                        }
    is_int(sum_ok, cases, "state + ocmw + patient == fee in all %d table cases", cases);
    is_int(cases, 6 * 3 * 3 * 3 * (1 + 1 + 4), "table size");
    ok(true, "every table case matches the formula (failures listed above)");
}

/* a few figures written out by hand, as a check on the reading of the formula */
static void test_golden(void)
{
    static const struct {
        long long fee, share;
        int pi, pp;
        enum pays oi, op;
        long long cap;
        long long state, ocmw, patient;
        const char *name;
    } g[] = {
        /* DESIGN.md example: 3000 / 600, state 100/0, OCMW pays the patient share */
        {3000, 600, 100, 0, PAYS_NONE, PAYS_PARTIAL, 5000, 2400, 600, 0, "design example"},
        /* 2400 x 50 % = 1200; 601 x 50 % = 300.5 -> 301 */
        {3001, 601, 50, 50, PAYS_NONE, PAYS_NONE, 0, 1501, 0, 1500, "50/50, OCMW nothing"},
        /* left 1200 -> half 600; left 300 */
        {3001, 601, 50, 50, PAYS_PARTIAL, PAYS_FULL, 0, 1501, 900, 600, "50/50, partial/full"},
        /* 2402 x 50 % = 1201; left 1201 -> half 600.5 -> 601 */
        {3003, 601, 50, 0, PAYS_PARTIAL, PAYS_NONE, 0, 1201, 601, 1201, "half of an odd rest"},
        /* 2401 x 50 % = 1200.5 -> 1201 */
        {3001, 600, 50, 100, PAYS_FULL, PAYS_FULL, 0, 1801, 1200, 0, "odd insurance, full"},
        {3001, 601, 0, 0, PAYS_PARTIAL, PAYS_PARTIAL, 100, 0, 1300, 1701, "cap 100"},
        {3001, 601, 0, 0, PAYS_NONE, PAYS_PARTIAL, 600, 0, 600, 2401, "cap short by one"},
        {3001, 601, 100, 100, PAYS_FULL, PAYS_FULL, 0, 3001, 0, 0, "state pays all"},
    };
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
        struct state_share ss = {g[i].pi, g[i].pp};
        struct cover cv = make_cover(g[i].oi, g[i].op, PAYS_NONE);
        struct split_budget b = {g[i].cap, 0};
        struct split_line in = {g[i].fee, g[i].share, 0, NULL};
        struct split_result r;
        split_line(&ss, &cv, &in, &b, &r);
        ok(r.state_cents == g[i].state && r.ocmw_cents == g[i].ocmw &&
               r.patient_cents == g[i].patient,
           "golden: %s (got %lld/%lld/%lld)", g[i].name, (long long)r.state_cents,
           (long long)r.ocmw_cents, (long long)r.patient_cents);
    }
}

static void test_pct(void)
{
    is_int(split_pct(0, 50), 0, "pct: 0 x 50");
    is_int(split_pct(1, 50), 1, "pct: 1 x 50 = 0.5 -> 1");
    is_int(split_pct(2, 50), 1, "pct: 2 x 50");
    is_int(split_pct(3, 50), 2, "pct: 3 x 50 = 1.5 -> 2");
    is_int(split_pct(2401, 50), 1201, "pct: 2401 x 50");
    is_int(split_pct(2401, 0), 0, "pct: x 0");
    is_int(split_pct(2401, 100), 2401, "pct: x 100");
    is_int(split_pct(999000000001LL, 50), 499500000001LL, "pct: large odd");
}

/* ---- supplements ---------------------------------------------------------------- */

static void test_supplements(void)
{
    static const struct {
        enum pays mode;
        const char *type;
        long long cap_left;
        long long want_ocmw_supp;
        const char *name;
    } t[] = {
        {PAYS_NONE, "room", 0, 0, "none: OCMW pays no supplement"},
        {PAYS_FULL, "room", 0, 1235, "full: all, allowed type"},
        {PAYS_FULL, "phone", 0, 1235, "full: all, any type"},
        {PAYS_FULL, NULL, 0, 1235, "full: all, no type"},
        {PAYS_PARTIAL, "room", 5000, 1235, "partial, allowed, cap ample"},
        {PAYS_PARTIAL, "tv", 1235, 1235, "partial, allowed, cap exact"},
        {PAYS_PARTIAL, "room", 1000, 1000, "partial, allowed, cap short"},
        {PAYS_PARTIAL, "room", 0, 0, "partial, allowed, cap exhausted"},
        {PAYS_PARTIAL, "phone", 5000, 0, "partial, type not allowed"},
        {PAYS_PARTIAL, NULL, 5000, 0, "partial, no type given"},
        {PAYS_PARTIAL, "roo", 5000, 0, "partial, prefix of an allowed type"},
    };
    static const int pcts[] = {0, 50, 100};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        for (int s = 0; s < 3; s++) {
            struct state_share ss = {pcts[s], pcts[s]};
            struct cover cv = make_cover(PAYS_PARTIAL, PAYS_FULL, t[i].mode);
            struct split_budget b = {0, t[i].cap_left};
            struct split_line with = {3001, 601, 1235, t[i].type};
            struct split_line without = {3001, 601, 0, t[i].type};
            struct split_result r, r0;
            split_line(&ss, &cv, &with, &b, &r);
            struct split_budget b0 = {0, t[i].cap_left};
            split_line(&ss, &cv, &without, &b0, &r0);
            ok(r.state_cents == r0.state_cents && r.ocmw_supplements_cents == t[i].want_ocmw_supp &&
                   r.ocmw_cents == r0.ocmw_cents + t[i].want_ocmw_supp &&
                   r.patient_cents == r0.patient_cents + 1235 - t[i].want_ocmw_supp &&
                   r.supplements_cents == 1235 && sums(&r) &&
                   (t[i].mode != PAYS_PARTIAL ||
                    b.supplements_cap_left == t[i].cap_left - t[i].want_ocmw_supp),
               "supplements: %s, state %d%% (never pays them)", t[i].name, pcts[s]);
        }
    }
}

/* ---- the budget ------------------------------------------------------------------ */

static void test_budget(void)
{
    struct cover cv = make_cover(PAYS_NONE, PAYS_PARTIAL, PAYS_PARTIAL);
    struct split_budget b;
    split_budget_init(&b, &cv, 0);
    ok(b.patient_cap_left == 5000 && b.supplements_cap_left == 2000, "budget: nothing used yet");
    split_budget_init(&b, &cv, 4999);
    is_int(b.patient_cap_left, 1, "budget: one cent left");
    split_budget_init(&b, &cv, 5000);
    is_int(b.patient_cap_left, 0, "budget: used == cap");
    split_budget_init(&b, &cv, 7000);
    is_int(b.patient_cap_left, 0, "budget: used > cap");
    is_int(b.supplements_cap_left, 2000, "budget: the supplements cap is per answer");
    struct cover full = make_cover(PAYS_FULL, PAYS_FULL, PAYS_FULL);
    split_budget_init(&b, &full, 100);
    ok(b.patient_cap_left == 0 && b.supplements_cap_left == 0, "budget: unused when not partial");

    /* a cap exhausted by earlier agreements this month: no OCMW patient share */
    struct state_share ss = {0, 0};
    for (int used = 5000; used <= 6000; used += 1000) {
        split_budget_init(&b, &cv, used);
        struct split_line in = {3001, 601, 0, NULL};
        struct split_result r;
        split_line(&ss, &cv, &in, &b, &r);
        ok(r.ocmw_cents == 0 && r.ocmw_patient_share_cents == 0 && r.patient_cents == 3001,
           "used %d of 5000 this month: OCMW patient share 0", used);
    }
    split_budget_init(&b, &cv, 4800);
    {
        struct split_line in = {3001, 601, 0, NULL};
        struct split_result r;
        split_line(&ss, &cv, &in, &b, &r);
        ok(r.ocmw_patient_share_cents == 200 && r.patient_cents == 2801 && b.patient_cap_left == 0,
           "used 4800 of 5000: 200 left for this answer");
    }

    /* consumed across the lines of one answer: cap 500, shares of 200 */
    struct cover c5 = cv;
    c5.patient_share_cap_cents = 500;
    split_budget_init(&b, &c5, 0);
    static const long long want[] = {200, 200, 100, 0};
    long long sum_ps = 0;
    for (int i = 0; i < 4; i++) {
        struct split_line in = {1001, 200, 0, NULL};
        struct split_result r;
        split_line(&ss, &c5, &in, &b, &r);
        sum_ps += r.ocmw_patient_share_cents;
        ok(r.ocmw_patient_share_cents == want[i] && r.ocmw_cents == want[i] &&
               r.patient_cents == 1001 - want[i] && sums(&r),
           "line %d: OCMW share %lld, cap left %lld", i + 1, want[i],
           (long long)b.patient_cap_left);
    }
    ok(sum_ps == 500 && b.patient_cap_left == 0, "the cap holds across the lines");

    /* supplements cap consumed across lines too */
    split_budget_init(&b, &cv, 0);
    static const long long wsupp[] = {1500, 500, 0};
    for (int i = 0; i < 3; i++) {
        struct split_line in = {1000, 0, 1500, "room"};
        struct split_result r;
        split_line(&ss, &cv, &in, &b, &r);
        ok(r.ocmw_supplements_cents == wsupp[i] && r.patient_cents == 1000 + 1500 - wsupp[i] &&
               sums(&r),
           "supplements line %d: OCMW pays %lld", i + 1, wsupp[i]);
    }

    /* quantity: the caller multiplies; 3 x (3001 / 601) at 50/50, OCMW partial/partial */
    struct state_share s50 = {50, 50};
    split_budget_init(&b, &cv, 0);
    struct split_line in3 = {9003, 1803, 0, NULL};
    struct split_result r3;
    split_line(&s50, &cv, &in3, &b, &r3);
    /* insurance 7200: state 3600, left 3600 (OCMW none); share 1803: state 902 (901.5 up),
     * left 901, OCMW 901 (cap 5000) */
    ok(r3.state_cents == 3600 + 902 && r3.ocmw_cents == 901 &&
           r3.patient_cents == 9003 - 4502 - 901 && sums(&r3),
       "quantity 3: the line is split as a whole");
}

/* A patient share paid in full is no use of a monthly cap (only a partial
 * share is capped): nothing counts against it, whatever the budget says. */
static void test_full_share_not_capped(void)
{
    struct state_share ss = {100, 0};
    struct cover cv = make_cover(PAYS_NONE, PAYS_FULL, PAYS_NONE);
    struct split_budget b = {.patient_cap_left = 0, .supplements_cap_left = 0};
    struct split_line in = {3000, 600, 0, NULL};
    struct split_result r;
    split_line(&ss, &cv, &in, &b, &r);
    ok(r.ocmw_cents == 600 && r.ocmw_patient_share_cents == 0 && r.patient_cents == 0,
       "full patient share: OCMW pays 600, none of it against the cap (cap left 0)");
    cv = make_cover(PAYS_NONE, PAYS_PARTIAL, PAYS_NONE);
    b.patient_cap_left = 250;
    split_line(&ss, &cv, &in, &b, &r);
    ok(r.ocmw_cents == 250 && r.ocmw_patient_share_cents == 250 && r.patient_cents == 350,
       "partial patient share: 250 of the cap, counted against it");
}

int main(void)
{
    test_full_share_not_capped();
    test_pct();
    test_table();
    test_golden();
    test_supplements();
    test_budget();
    return done_testing();
}
