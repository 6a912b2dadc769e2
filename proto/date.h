/*
 * date: calendar dates (no time zone) as a day count, proleptic Gregorian.
 * Service dates and periods are calendar dates; timestamps are elsewhere.
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

#endif
