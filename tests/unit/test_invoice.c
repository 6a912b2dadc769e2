/* unit tests: proto/invoice (an invoice line checked against its agreement) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "invoice.h"
#include "tap.h"

static pdate D(const char *s)
{
    pdate d = 0;
    date_parse(s, strlen(s), &d);
    return d;
}

/* an agreement of this provider for 101076 x3 (state 1200, OCMW 301) and
 * 101032 x1 (state 999, OCMW 0), service date 2026-03-15 */
static struct agreement_facts agreement(void)
{
    struct agreement_facts a;
    memset(&a, 0, sizeof a);
    snprintf(a.number, sizeof a.number, "A2026-00000001");
    a.found = a.covered = true;
    a.service_date = D("2026-03-15");
    a.n_items = 2;
    snprintf(a.items[0].code, 7, "101076");
    a.items[0].quantity = 3;
    a.items[0].state_cents = 1200;
    a.items[0].ocmw_cents = 301;
    snprintf(a.items[1].code, 7, "101032");
    a.items[1].quantity = 1;
    a.items[1].state_cents = 999;
    return a;
}

static struct invoice_line line(const char *code, int64_t q, int64_t st, int64_t oc)
{
    struct invoice_line l;
    memset(&l, 0, sizeof l);
    snprintf(l.agreement, sizeof l.agreement, "A2026-00000001");
    snprintf(l.code, sizeof l.code, "%s", code);
    l.quantity = q;
    l.state_cents = st;
    l.ocmw_cents = oc;
    return l;
}

static const char *chk(const struct invoice_line *l, const struct agreement_facts *a, int64_t b,
                       const char *date)
{
    return invoice_reject_code(invoice_check_line(l, a, b, D(date)));
}

static void test_order(void)
{
    struct agreement_facts a = agreement();
    struct invoice_line l = line("101076", 3, 1200, 301);
    is_str(chk(&l, &a, 0, "2026-04-01"), "accepted", "exact claim of the whole item accepted");
    is_str(chk(&l, NULL, 0, "2026-04-01"), "unknown_agreement", "no such agreement");
    a.found = false;
    is_str(chk(&l, &a, 0, "2026-04-01"), "unknown_agreement", "another provider's agreement");
    a = agreement();
    a.voided = true;
    is_str(chk(&l, &a, 0, "2026-04-01"), "agreement_void", "void");
    a.covered = false;
    is_str(chk(&l, &a, 0, "2026-04-01"), "agreement_void", "void and not covered: void first");
    a = agreement();
    a.covered = false;
    a.n_items = 0;
    is_str(chk(&l, &a, 0, "2026-04-01"), "agreement_not_covered", "a refused answer");
    a = agreement();
    struct invoice_line other = line("109999", 1, 0, 0);
    is_str(chk(&other, &a, 0, "2026-04-01"), "code_not_agreed", "a code not agreed");
    other = line("101076", 4, 1200, 301);
    is_str(chk(&other, &a, 0, "2026-04-01"), "quantity_exceeded", "4 of 3");
    is_str(chk(&l, &a, 1, "2026-04-01"), "quantity_exceeded", "3 more after 1 accepted of 3");
    struct invoice_line one = line("101076", 1, 400, 100);
    is_str(chk(&one, &a, 2, "2026-04-01"), "accepted", "the last 1 of 3");
    is_str(chk(&one, &a, 3, "2026-04-01"), "quantity_exceeded", "nothing left: double billing");
    /* quantity and amount both wrong: quantity first */
    other = line("101076", 4, 99999, 301);
    is_str(chk(&other, &a, 0, "2026-04-01"), "quantity_exceeded", "quantity before amount");
    /* amount and too late: amount first */
    struct invoice_line big = line("101076", 3, 1201, 301);
    is_str(chk(&big, &a, 0, "2028-04-01"), "amount_exceeded", "amount before invoice_too_late");
}

static void test_amounts(void)
{
    struct agreement_facts a = agreement();
    struct invoice_line l = line("101076", 3, 1201, 301);
    is_str(chk(&l, &a, 0, "2026-04-01"), "amount_exceeded", "state one cent over");
    l = line("101076", 3, 1200, 302);
    is_str(chk(&l, &a, 0, "2026-04-01"), "amount_exceeded", "OCMW one cent over");
    l = line("101076", 3, 1199, 300);
    is_str(chk(&l, &a, 0, "2026-04-01"), "accepted", "one cent under");
    /* pro rata: 1 of 3 -> state 1200/3 = 400, OCMW 301/3 = 100.33 -> 100 */
    l = line("101076", 1, 400, 100);
    is_str(chk(&l, &a, 0, "2026-04-01"), "accepted", "pro rata 1/3 exact");
    l = line("101076", 1, 401, 100);
    is_str(chk(&l, &a, 0, "2026-04-01"), "amount_exceeded", "pro rata 1/3 state +1");
    l = line("101076", 1, 400, 101);
    is_str(chk(&l, &a, 0, "2026-04-01"), "amount_exceeded", "pro rata 1/3 OCMW +1 (rounded down)");
    /* 2 of 3: OCMW 602/3 = 200.67 -> 200 */
    l = line("101076", 2, 800, 200);
    is_str(chk(&l, &a, 0, "2026-04-01"), "accepted", "pro rata 2/3 exact, rounded down");
    l = line("101076", 2, 800, 201);
    is_str(chk(&l, &a, 0, "2026-04-01"), "amount_exceeded", "pro rata 2/3 OCMW +1");
    /* the patient share is not checked against the agreement */
    l = line("101076", 3, 0, 0);
    l.patient_cents = 123456;
    is_str(chk(&l, &a, 0, "2026-04-01"), "accepted", "patient cents are the provider's");
    is_int(invoice_pro_rata(1200, 3, 1), 400, "pro_rata 1200*1/3");
    is_int(invoice_pro_rata(301, 3, 2), 200, "pro_rata 301*2/3 rounded down");
    is_int(invoice_pro_rata(1000000000000LL, 999, 998), 998998998998LL, "pro_rata large");
    is_int(invoice_pro_rata(100, 0, 1), 0, "pro_rata of nothing");
}

static void test_too_late(void)
{
    struct agreement_facts a = agreement();
    struct invoice_line l = line("101032", 1, 999, 0);
    is_str(chk(&l, &a, 0, "2028-03-15"), "accepted", "exactly 24 months after");
    is_str(chk(&l, &a, 0, "2028-03-16"), "invoice_too_late", "24 months and a day");
    is_str(chk(&l, &a, 0, "2028-03-14"), "accepted", "a day less than 24 months");
}

static void test_running(void)
{
    struct agreement_facts a = agreement();
    a.items[0].billed = 1;
    struct invoice_input in;
    memset(&in, 0, sizeof in);
    in.n_lines = 4;
    in.lines[0] = line("101076", 1, 400, 100);
    in.lines[1] = line("101076", 2, 999, 0);   /* 1 + 1 + 2 > 3 */
    in.lines[2] = line("101076", 1, 400, 100); /* the third of 3 */
    in.lines[3] = line("101032", 1, 999, 0);
    enum invoice_reject out[4];
    invoice_check(&in, &a, 1, D("2026-04-01"), out);
    is_str(invoice_reject_code(out[0]), "accepted", "line 1 (1 billed before)");
    is_str(invoice_reject_code(out[1]), "quantity_exceeded", "line 2 counts line 1");
    is_str(invoice_reject_code(out[2]), "accepted", "line 3: a rejected line does not count");
    is_str(invoice_reject_code(out[3]), "accepted", "line 4: another item");
    is_str(invoice_status(out, 4), "partial", "status partial");
    char *ans = invoice_encode_answer(&in, out, "71012345678", D("2026-04-01"), LANG_EN);
    ok(ans && strstr(ans, "\"state_cents\":1799") != NULL, "totals over accepted lines: %s",
       ans ? ans : "(null)");
    ok(ans && strstr(ans, "\"rejected\":{\"code\":\"quantity_exceeded\"") != NULL,
       "rejection in the answer");
    free(ans);
    enum invoice_reject none[1] = {IR_NONE}, bad[1] = {IR_AGREEMENT_VOID};
    is_str(invoice_status(none, 1), "accepted", "status accepted");
    is_str(invoice_status(bad, 1), "rejected", "status rejected");
}

static void test_parse(void)
{
    struct invoice_input in;
    struct verrs e;
    const char *good = "{\"reference\":\"F-1\",\"lines\":[{\"agreement\":\"A2026-00000001\","
                       "\"code\":\"101076\",\"quantity\":1,\"state_cents\":400,"
                       "\"ocmw_cents\":100,\"patient_cents\":0}]}";
    is_int(invoice_parse(good, strlen(good), &in, &e), PARSE_OK, "a good invoice");
    is_int(in.n_lines, 1, "one line");
    const char *bad = "{\"lines\":[{\"agreement\":\"X1\",\"code\":\"1\",\"quantity\":0,"
                      "\"state_cents\":-1,\"ocmw_cents\":1.5,\"extra\":1}],\"x\":2}";
    is_int(invoice_parse(bad, strlen(bad), &in, &e), PARSE_INVALID, "a bad invoice");
    ok(e.n >= 7, "every field reported (%d)", e.n);
    bool seen_unknown = false, seen_agr = false, seen_patient = false;
    for (int i = 0; i < e.n; i++) {
        seen_unknown |= strcmp(e.items[i].code, "unknown_field") == 0;
        seen_agr |= strcmp(e.items[i].code, "invalid_agreement") == 0;
        seen_patient |= strcmp(e.items[i].field, "lines[0].patient_cents") == 0;
    }
    ok(seen_unknown && seen_agr && seen_patient, "unknown field, agreement, missing patient_cents");
    const char *big = "{\"lines\":[{\"agreement\":\"A2026-00000001\",\"code\":\"101076\","
                      "\"quantity\":1,\"state_cents\":9007199254740992,\"ocmw_cents\":0,"
                      "\"patient_cents\":0}]}";
    is_int(invoice_parse(big, strlen(big), &in, &e), PARSE_INVALID, "2^53 refused");
    is_str(e.n > 0 ? e.items[0].code : "", "out_of_range", "as out_of_range");
    const char *empty = "{\"lines\":[]}";
    is_int(invoice_parse(empty, strlen(empty), &in, &e), PARSE_INVALID, "no lines");
    is_int(invoice_parse("[1]", 3, &in, &e), PARSE_MALFORMED, "not an object");

    struct payment_input p;
    const char *pay = "{\"amount_cents\":9007199254740991,\"date\":\"2026-04-01\","
                      "\"reference\":\"SEPA-1\"}";
    is_int(payment_parse(pay, strlen(pay), D("2026-04-01"), &p, &e), PARSE_OK, "payment 2^53-1");
    is_int(p.amount_cents, 9007199254740991LL, "amount kept exactly");
    is_int(payment_parse(pay, strlen(pay), D("2026-03-31"), &p, &e), PARSE_INVALID,
           "payment dated tomorrow");
    const char *zero = "{\"amount_cents\":0,\"date\":\"2026-04-01\",\"reference\":\"x\"}";
    is_int(payment_parse(zero, strlen(zero), D("2026-04-01"), &p, &e), PARSE_INVALID, "0 cents");
    pdate m;
    ok(month_parse("2026-02", &m) && m == D("2026-02-01"), "month 2026-02");
    ok(!month_parse("2026-13", &m) && !month_parse("2026-2", &m) && !month_parse(NULL, &m),
       "bad months");
    enum invoice_reject r;
    ok(invoice_reject_from_code("amount_exceeded", &r) && r == IR_AMOUNT_EXCEEDED, "from code");
}

/* every outcome has its text in the four languages (proto/messages.c) */
static void test_messages(void)
{
    for (int r = 0; r < IR__COUNT; r++)
        for (int l = 0; l < LANG__COUNT; l++) {
            const char *m = invoice_reject_message((enum invoice_reject)r, (enum lang)l);
            ok(m && *m, "%s in %s", invoice_reject_code((enum invoice_reject)r),
               lang_tag((enum lang)l));
        }
    is_str(invoice_reject_message(IR_AGREEMENT_VOID, LANG_DE), "die Zusage wurde annulliert",
           "German");
}

int main(void)
{
    test_messages();
    test_order();
    test_amounts();
    test_too_late();
    test_running();
    test_parse();
    return done_testing();
}
