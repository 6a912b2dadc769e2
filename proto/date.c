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

/* two digits at s, or -1 */
static int two(const char *s)
{
    return digits(s, 2);
}

bool timestamp_parse(const char *s, size_t n, struct ptimestamp *out)
{
    struct ptimestamp t = {0};
    if (s == NULL)
        return false;
    if (n == PDATE_STRLEN) {
        if (!date_parse(s, n, &t.day))
            return false;
        t.date_only = true;
        if (out)
            *out = t;
        return true;
    }
    if (n < 20 || n > PTIMESTAMP_STRLEN_MAX || !date_parse(s, PDATE_STRLEN, &t.day) ||
        (s[10] != 'T' && s[10] != 't'))
        return false;
    t.hour = two(s + 11);
    t.minute = two(s + 14);
    t.second = two(s + 17);
    if (t.hour < 0 || t.hour > 23 || s[13] != ':' || t.minute < 0 || t.minute > 59 ||
        s[16] != ':' || t.second < 0 || t.second > 60)
        return false;
    size_t i = 19;
    if (s[i] == '.') {
        size_t f = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (i - f < 9)
                t.nanos = t.nanos * 10 + (s[i] - '0');
            i++;
        }
        if (i == f || i - f > 9)
            return false;
        for (size_t k = i - f; k < 9; k++)
            t.nanos *= 10;
    }
    if (i + 1 == n && (s[i] == 'Z' || s[i] == 'z')) {
        if (out)
            *out = t;
        return true;
    }
    if (i + 6 != n || (s[i] != '+' && s[i] != '-') || s[i + 3] != ':')
        return false;
    int oh = two(s + i + 1), om = two(s + i + 4);
    if (oh < 0 || oh > 23 || om < 0 || om > 59)
        return false;
    t.offset_minutes = (s[i] == '-' ? -1 : 1) * (oh * 60 + om);
    if (out)
        *out = t;
    return true;
}

bool timestamp_valid(const char *s, size_t len)
{
    return timestamp_parse(s, len, NULL);
}

int64_t timestamp_unix(const struct ptimestamp *t)
{
    return (int64_t)t->day * 86400 + (int64_t)t->hour * 3600 + (int64_t)t->minute * 60 + t->second -
           (int64_t)t->offset_minutes * 60;
}

size_t timestamp_format_utc(int64_t unix_seconds, int32_t nanos, int frac_digits, char *out)
{
    int64_t days = unix_seconds >= 0 ? unix_seconds / 86400 : -((-unix_seconds + 86399) / 86400);
    int64_t sod = unix_seconds - days * 86400; /* 0..86399 */
    const int64_t lo = date_from_ymd(0, 1, 1), hi = date_from_ymd(9999, 12, 31);
    if (days < lo || days > hi) {
        days = days < lo ? lo : hi;
        sod = days == lo ? 0 : 86399;
        nanos = days == lo ? 0 : 999999999;
    }
    char day[PDATE_STRLEN + 1];
    date_format((pdate)days, day);
    int n = snprintf(out, PTIMESTAMP_STRLEN_MAX + 1, "%sT%02d:%02d:%02d", day, (int)(sod / 3600),
                     (int)(sod / 60 % 60), (int)(sod % 60));
    if (frac_digits > 9)
        frac_digits = 9;
    if (nanos < 0 || nanos > 999999999)
        nanos = 0;
    if (frac_digits > 0) {
        int32_t v = nanos;
        for (int k = frac_digits; k < 9; k++)
            v /= 10;
        n += snprintf(out + n, PTIMESTAMP_STRLEN_MAX + 1 - (size_t)n, ".%0*d", frac_digits, (int)v);
    }
    out[n++] = 'Z';
    out[n] = '\0';
    return (size_t)n;
}
