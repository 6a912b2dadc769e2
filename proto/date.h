/*
 * date: calendar dates (no time zone) as a day count, proleptic Gregorian.
 * Service dates and periods are calendar dates. Also the one rule for RFC 3339
 * timestamps as the registry takes them (query filters) and writes them.
 */
#ifndef MEDAID_PROTO_DATE_H
#define MEDAID_PROTO_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int32_t pdate; /* days since 1970-01-01 */

#define PDATE_STRLEN 10 /* "YYYY-MM-DD" */

/* Strict "YYYY-MM-DD", years 1900-9999, a real calendar day. */
bool date_parse(const char *s, size_t len, pdate *out);
/* out must hold PDATE_STRLEN + 1 bytes */
void date_format(pdate d, char *out);
pdate date_from_ymd(int y, int m, int d);
void date_to_ymd(pdate d, int *y, int *m, int *day);
/* add n calendar months; the day is clamped to the end of the target month
 * (2026-03-31 + -1 month = 2026-02-28) */
pdate date_add_months(pdate d, int n);
/* add n years; 29 February becomes 28 February in a non-leap year */
pdate date_add_years(pdate d, int n);

/*
 * RFC 3339 timestamps. Accepted (strict, (pointer, length)):
 *   - a date "YYYY-MM-DD" (date_parse), meaning 00:00 UTC that day;
 *   - "YYYY-MM-DDTHH:MM:SS[.F](Z|+HH:MM|-HH:MM)": T and Z in either case,
 *     the date as date_parse takes it, hour 00-23, minute 00-59, second 00-60
 *     (a leap second), F 1 to 9 digits, offset hours 00-23, minutes 00-59.
 * Nothing else: no space for T, no missing seconds, no "+HHMM".
 */
#define PTIMESTAMP_STRLEN_MAX 35 /* "YYYY-MM-DDTHH:MM:SS.fffffffff+HH:MM" */

struct ptimestamp {
    pdate day;                /* the date as written (at the offset) */
    int hour, minute, second; /* as written; second may be 60 */
    int32_t nanos;            /* the fraction, 0..999999999 */
    int offset_minutes;       /* east of UTC: +01:00 -> 60; Z -> 0 */
    bool date_only;           /* "YYYY-MM-DD": the time fields are 0 */
};

bool timestamp_parse(const char *s, size_t len, struct ptimestamp *out);
/* timestamp_parse without the parts; out may be NULL there too */
bool timestamp_valid(const char *s, size_t len);
/* Seconds since 1970-01-01T00:00:00Z of t (a leap second counts as the
 * next second's start, as in POSIX). */
int64_t timestamp_unix(const struct ptimestamp *t);

/* Write a UTC timestamp "YYYY-MM-DDTHH:MM:SS[.F]Z" with frac_digits (0..9)
 * digits of nanos (truncated, not rounded). out must hold
 * PTIMESTAMP_STRLEN_MAX + 1 bytes. Returns the length written. Moments outside
 * the years 0..9999 are clamped to the first or the last moment of them. */
size_t timestamp_format_utc(int64_t unix_seconds, int32_t nanos, int frac_digits, char *out);

#endif
