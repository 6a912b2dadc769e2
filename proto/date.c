/*
 * date: proleptic Gregorian calendar dates as day counts (see date.h).
 * days_from_civil / civil_from_days follow Howard Hinnant's public-domain
 * algorithms (http://howardhinnant.github.io/date_algorithms.html).
 */
#include "date.h"

#include <stdio.h>

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

pdate date_from_ymd(int y, int m, int d)
{
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);                                  /* [0, 399] */
    const unsigned doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1); /* [0, 365] */
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* [0, 146096] */
    return (pdate)(era * 146097 + (int)doe - 719468);
}

void date_to_ymd(pdate z0, int *y, int *m, int *day)
{
    const int z = z0 + 719468;
    const int era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int yy = (int)yoe + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned mm = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (mm <= 2);
    *m = (int)mm;
    *day = (int)d;
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

bool date_parse(const char *s, size_t len, pdate *out)
{
    if (s == NULL || len != PDATE_STRLEN || s[4] != '-' || s[7] != '-')
        return false;
    int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
    if (y < 1900 || y > 9999 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return false;
    *out = date_from_ymd(y, m, d);
    return true;
}

void date_format(pdate d, char *out)
{
    int y, m, day;
    date_to_ymd(d, &y, &m, &day);
    /* years outside 0..9999 cannot come from date_parse; clamp the text */
    if (y < 0)
        y = 0;
    if (y > 9999)
        y = 9999;
    snprintf(out, PDATE_STRLEN + 1, "%04d-%02d-%02d", y, m, day);
}

pdate date_add_months(pdate d, int n)
{
    int y, m, day;
    date_to_ymd(d, &y, &m, &day);
    long total = (long)y * 12 + (m - 1) + n;
    long ny = total >= 0 ? total / 12 : -((-total + 11) / 12);
    int nm = (int)(total - ny * 12) + 1;
    int dim = days_in_month((int)ny, nm);
    return date_from_ymd((int)ny, nm, day > dim ? dim : day);
}

pdate date_add_years(pdate d, int n)
{
    return date_add_months(d, n * 12);
}
