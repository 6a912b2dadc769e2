/* unit tests: proto/date */
#include <string.h>

#include "date.h"
#include "tap.h"

static pdate D(const char *s)
{
    pdate d = 0;
    if (!date_parse(s, strlen(s), &d))
        diag("test data: bad date %s", s);
    return d;
}

static const char *F(pdate d, char *buf)
{
    date_format(d, buf);
    return buf;
}

static bool parses(const char *s)
{
    pdate d;
    return date_parse(s, strlen(s), &d);
}

int main(void)
{
    char b[PDATE_STRLEN + 1];
    is_int(date_from_ymd(1970, 1, 1), 0, "epoch is day 0");
    is_int(date_from_ymd(2000, 3, 1), 11017, "2000-03-01 is day 11017");
    is_int(date_from_ymd(1969, 12, 31), -1, "1969-12-31 is day -1");
    is_int(D("1900-01-01"), -25567, "1900-01-01 is day -25567");
    is_str(F(D("2026-11-23"), b), "2026-11-23", "format(parse) 2026-11-23");
    is_str(F(D("9999-12-31"), b), "9999-12-31", "format(parse) 9999-12-31");

    /* leap years */
    ok(parses("2024-02-29"), "2024-02-29 exists (leap)");
    ok(parses("2000-02-29"), "2000-02-29 exists (400 rule)");
    ok(!parses("1900-02-29"), "1900-02-29 does not exist (100 rule)");
    ok(!parses("2026-02-29"), "2026-02-29 does not exist");
    ok(!parses("2026-02-30"), "2026-02-30 does not exist");
    ok(!parses("2026-04-31"), "2026-04-31 does not exist");
    ok(parses("2026-12-31"), "2026-12-31 exists");
    is_int(D("2024-03-01") - D("2024-02-28"), 2, "leap February has 29 days");
    is_int(D("2027-01-01") - D("2026-01-01"), 365, "2026 has 365 days");
    is_int(D("2029-01-01") - D("2028-01-01"), 366, "2028 has 366 days");

    /* strict parsing */
    ok(!parses("2026-2-01"), "refuses a one-digit month");
    ok(!parses("2026-02-1"), "refuses a one-digit day");
    ok(!parses("2026-02-01x"), "refuses trailing characters");
    ok(!parses("2026-02-01 "), "refuses a trailing space");
    ok(!parses(" 2026-02-01"), "refuses a leading space");
    ok(!parses("2026/02/01"), "refuses slashes");
    ok(!parses("2026-00-10"), "refuses month 00");
    ok(!parses("2026-13-10"), "refuses month 13");
    ok(!parses("2026-01-00"), "refuses day 00");
    ok(!parses("1899-12-31"), "refuses years before 1900");
    ok(!parses("+026-01-01"), "refuses a sign");
    ok(!parses("2026-0a-01"), "refuses letters");
    ok(!parses(""), "refuses empty");
    ok(!date_parse(NULL, 0, &(pdate){0}), "refuses NULL");
    {
        pdate d;
        ok(date_parse("2026-11-23T10:00", 10, &d) && d == D("2026-11-23"),
           "parses (pointer, length) without a terminator");
    }

    /* month arithmetic and clamping */
    is_str(F(date_add_months(D("2026-03-31"), -1), b), "2026-02-28", "03-31 - 1 month = 02-28");
    is_str(F(date_add_months(D("2024-03-31"), -1), b), "2024-02-29", "leap: 03-31 - 1 = 02-29");
    is_str(F(date_add_months(D("2026-01-31"), 1), b), "2026-02-28", "01-31 + 1 month = 02-28");
    is_str(F(date_add_months(D("2026-08-31"), 1), b), "2026-09-30", "08-31 + 1 month = 09-30");
    is_str(F(date_add_months(D("2026-11-15"), 2), b), "2027-01-15", "crosses the year forward");
    is_str(F(date_add_months(D("2026-01-15"), -2), b), "2025-11-15", "crosses the year back");
    is_str(F(date_add_months(D("2026-01-15"), -13), b), "2024-12-15", "-13 months");
    is_str(F(date_add_months(D("2026-01-15"), 24), b), "2028-01-15", "+24 months");
    is_str(F(date_add_months(D("2026-05-31"), 0), b), "2026-05-31", "+0 months");
    is_str(F(date_add_years(D("2024-02-29"), 1), b), "2025-02-28", "02-29 + 1 year = 02-28");
    is_str(F(date_add_years(D("2024-02-29"), 4), b), "2028-02-29", "02-29 + 4 years = 02-29");
    is_str(F(date_add_years(D("2026-11-01"), 1) - 1, b), "2027-10-31", "1 year - 1 day");
    is_str(F(date_add_years(D("2026-01-01"), -1), b), "2025-01-01", "-1 year");

    /* round trips over a wide range */
    int bad = 0;
    pdate prev = date_from_ymd(1899, 12, 31);
    for (pdate d = date_from_ymd(1900, 1, 1); d <= date_from_ymd(9999, 12, 31); d++) {
        int y, m, dd;
        date_to_ymd(d, &y, &m, &dd);
        if (date_from_ymd(y, m, dd) != d || d != prev + 1)
            bad++;
        char s[PDATE_STRLEN + 1];
        date_format(d, s);
        pdate back;
        if (!date_parse(s, PDATE_STRLEN, &back) || back != d)
            bad++;
        prev = d;
    }
    is_int(bad, 0, "every day 1900-01-01..9999-12-31 round-trips through ymd and text");
    {
        int y, m, dd;
        date_to_ymd(-800000, &y, &m, &dd);
        ok(date_from_ymd(y, m, dd) == -800000, "negative era round-trips (%d-%d-%d)", y, m, dd);
    }
    return done_testing();
}
