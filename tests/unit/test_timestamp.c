/* unit tests: proto/date, RFC 3339 timestamps (the one rule of daemon and client) */
#include <string.h>

#include "date.h"
#include "tap.h"

static bool valid(const char *s)
{
    return timestamp_valid(s, strlen(s));
}

static struct ptimestamp P(const char *s) {
    struct ptimestamp t = {0};
    if (!timestamp_parse(s, strlen(s), &t))
        diag("test data: bad timestamp %s", s);
    return t;
}

static const char *
F(long long secs, int nanos, int digits, char *buf)
{
    timestamp_format_utc(secs, nanos, digits, buf);
    return buf;
}

int main(void)
{
    char b[PTIMESTAMP_STRLEN_MAX + 1];

    /* accepted forms */
    ok(valid("2026-11-23T18:14:43Z"), "Z");
    ok(valid("2026-11-23t18:14:43z"), "t and z in lower case");
    ok(valid("2026-11-23T20:00:00+01:00"), "a positive offset");
    ok(valid("2026-11-23T20:00:00-11:30"), "a negative offset");
    ok(valid("2026-11-23T20:00:00.5Z"), "a one-digit fraction");
    ok(valid("2026-11-23T20:00:00.123456789Z"), "a nine-digit fraction");
    ok(valid("2026-11-23T20:00:00.123456789+23:59"), "the longest form (35 bytes)");
    ok(valid("2026-11-23"), "a date alone");
    ok(valid("2026-12-31T23:59:60Z"), "a leap second");
    ok(valid("2026-11-23T00:00:00Z") && valid("2026-11-23T23:59:59Z"), "00:00:00 and 23:59:59");
    ok(valid("2026-11-23T00:00:00+00:00") && valid("2026-11-23T00:00:00-00:00"), "+00:00, -00:00");
    ok(valid("1900-01-01T00:00:00Z") && valid("9999-12-31T23:59:59Z"), "first and last years");

    /* refused */
    ok(!valid("2026-11-23T20:00:00.1234567890Z"), "a ten-digit fraction");
    ok(!valid("2026-11-23T20:00:00.Z"), "a fraction without digits");
    ok(!valid("2026-11-23T20:00:00"), "no zone");
    ok(!valid("2026-11-23T20:00Z"), "no seconds");
    ok(!valid("2026-11-23 20:00:00Z"), "a space for T");
    ok(!valid("2026-11-23T24:00:00Z"), "hour 24");
    ok(!valid("2026-11-23T23:60:00Z"), "minute 60");
    ok(!valid("2026-11-23T23:59:61Z"), "second 61");
    ok(!valid("2026-11-23T20:00:00+24:00"), "offset hour 24");
    ok(!valid("2026-11-23T20:00:00+01:60"), "offset minute 60");
    ok(!valid("2026-11-23T20:00:00+0100"), "an offset without colon");
    ok(!valid("2026-11-23T20:00:00+01"), "an offset without minutes");
    ok(!valid("2026-11-23T20:00:00Z "), "a trailing space");
    ok(!valid("2026-11-23T20:00:00ZZ"), "two Zs");
    ok(!valid("2026-02-30T20:00:00Z"), "a day that does not exist");
    ok(!valid("1899-12-31T23:59:59Z"), "a year before 1900");
    ok(!valid("2026-11-23T2:00:00Z"), "a one-digit hour");
    ok(!valid("2026-11-23T20:0a:00Z"), "a letter in the minutes");
    ok(!valid("2026-11-23T"), "a date and T");
    ok(!valid("2026-11-2"), "nine bytes");
    ok(!valid("noon") && !valid("yesterday") && !valid(""), "words and nothing");
    ok(!timestamp_valid(NULL, 0), "NULL");
    ok(!timestamp_valid("2026-11-23T20:00:00Z", 19), "the length is what counts");
    ok(timestamp_valid("2026-11-23T20:00:00Zjunk", 20), "(pointer, length) without a terminator");

    /* parts */
    struct ptimestamp t = P("2026-11-23T20:01:02.25+01:30");
    is_int(t.day, date_from_ymd(2026, 11, 23), "day");
    ok(t.hour == 20 && t.minute == 1 && t.second == 2, "hour, minute, second");
    is_int(t.nanos, 250000000, "a fraction .25 is 250000000 ns");
    is_int(t.offset_minutes, 90, "+01:30 is 90 minutes");
    ok(!t.date_only, "not a date alone");
    is_int(P("2026-11-23T20:00:00-05:45").offset_minutes, -345, "-05:45 is -345 minutes");
    is_int(P("2026-11-23T20:00:00.000000001Z").nanos, 1, "one nanosecond");
    t = P("2026-11-23");
    ok(t.date_only && t.hour == 0 && t.nanos == 0 && t.offset_minutes == 0, "a date alone");

    /* instants */
    is_int(timestamp_unix(&(struct ptimestamp){0}), 0, "the epoch");
    {
        struct ptimestamp a = P("2026-11-23T20:00:00+01:00"), z = P("2026-11-23T19:00:00Z");
        is_int(timestamp_unix(&a), timestamp_unix(&z), "20:00+01:00 is 19:00Z");
    }
    is_int(timestamp_unix(&(struct ptimestamp){P("2026-11-23").day, 0, 0, 0, 0, 0, true}),
           1795392000LL, "2026-11-23 is 00:00 UTC");
    {
        struct ptimestamp x = P("1969-12-31T23:59:59Z");
        is_int(timestamp_unix(&x), -1, "one second before the epoch");
    }

    /* formatting */
    is_str(F(0, 0, 0, b), "1970-01-01T00:00:00Z", "the epoch");
    is_str(F(-1, 0, 0, b), "1969-12-31T23:59:59Z", "one second before the epoch");
    is_str(F(1795453200LL, 123456789, 3, b), "2026-11-23T17:00:00.123Z", "milliseconds, truncated");
    is_str(F(1795453200LL, 5000, 6, b), "2026-11-23T17:00:00.000005Z", "microseconds");
    is_str(F(1795453200LL, 123456789, 9, b), "2026-11-23T17:00:00.123456789Z", "nanoseconds");
    is_str(F(1795453200LL, 123456789, 12, b), "2026-11-23T17:00:00.123456789Z", "at most 9 digits");
    is_str(F(1795453200LL, -5, 3, b), "2026-11-23T17:00:00.000Z", "bad nanos are 0");
    is_str(F(-99999999999999LL, 0, 0, b), "0000-01-01T00:00:00Z", "clamped at year 0");
    is_str(F(99999999999999LL, 0, 3, b), "9999-12-31T23:59:59.999Z", "clamped at year 9999");
    ok(timestamp_format_utc(0, 999999999, 9, b) == strlen("1970-01-01T00:00:00.999999999Z"),
       "returns the length");

    /* round trip: format then parse then unix */
    int bad = 0;
    for (long long s = -2208988800LL; s < 253402300799LL; s += 86400LL * 37 + 3601) {
        size_t n = timestamp_format_utc(s, 120000000, 2, b);
        struct ptimestamp x;
        if (!timestamp_parse(b, n, &x) || timestamp_unix(&x) != s || x.nanos != 120000000)
            bad++;
    }
    is_int(bad, 0, "format, parse and back over 1900..9999");
    return done_testing();
}
