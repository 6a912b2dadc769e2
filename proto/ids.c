/*
 * ids: SSIN, KBO/BCE and NIHII checks (see ids.h).
 */
#include "ids.h"

#include <string.h>

#include <stdint.h>

bool ids_all_digits(const char *s, size_t len, size_t n)
{
    if (s == NULL || len != n)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static uint64_t digits_value(const char *s, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (uint64_t)(s[i] - '0');
    return v;
}

bool ids_ssin_valid(const char *s, size_t len)
{
    if (!ids_all_digits(s, len, 11))
        return false;
    unsigned month = (unsigned)digits_value(s + 2, 2);
    unsigned day = (unsigned)digits_value(s + 4, 2);
    /* 00-12 national register, 20-32 and 40-52 BIS; 00 = unknown */
    if (!(month <= 12 || (month >= 20 && month <= 32) || (month >= 40 && month <= 52)))
        return false;
    if (day > 31)
        return false;
    uint64_t n = digits_value(s, 9);
    uint64_t cc = digits_value(s + 9, 2);
    if (97 - n % 97 == cc)
        return true; /* born before 2000 */
    if (97 - (2000000000ULL + n) % 97 == cc)
        return true; /* born in 2000 or later */
    return false;
}

bool ids_kbo_valid(const char *s, size_t len)
{
    if (!ids_all_digits(s, len, 10))
        return false;
    uint64_t n = digits_value(s, 8);
    uint64_t cc = digits_value(s + 8, 2);
    return 97 - n % 97 == cc;
}

bool ids_nihii_valid(const char *s, size_t len)
{
    return ids_all_digits(s, len, 11);
}

bool ids_registry_number(const char *s, char letter)
{
    if (!s || strlen(s) != 14 || s[0] != letter || s[5] != '-')
        return false;
    return ids_all_digits(s + 1, 4, 4) && ids_all_digits(s + 6, 8, 8);
}
