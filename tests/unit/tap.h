/*
 * tap.h: a tiny TAP producer for the unit tests (header only).
 *
 *   ok(cond, "name %d", i);
 *   is_int(got, expected, "name");
 *   is_str(got, expected, "name");
 *   return done_testing();   prints "1..N"; non-zero when any check failed
 *
 * Each check prints "ok N - name" or "not ok N - name" (plus a "# got ...
 * expected ..." diagnostic). Counters are per test program (static).
 */
#ifndef MEDAID_TESTS_TAP_H
#define MEDAID_TESTS_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int tap_n_;
static int tap_failed_;

__attribute__((format(printf, 2, 0))) static inline bool tap_vreport_(bool pass, const char *fmt,
                                                                      va_list ap)
{
    tap_n_++;
    if (!pass)
        tap_failed_++;
    printf("%s %d - ", pass ? "ok" : "not ok", tap_n_);
    vprintf(fmt, ap);
    putchar('\n');
    fflush(stdout);
    return pass;
}

__attribute__((format(printf, 2, 3))) static inline bool tap_ok_(bool pass, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool r = tap_vreport_(pass, fmt, ap);
    va_end(ap);
    if (!r)
        printf("#   got: false\n#   expected: true\n");
    return r;
}

__attribute__((format(printf, 3, 4))) static inline bool
tap_is_int_(long long got, long long expected, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool r = tap_vreport_(got == expected, fmt, ap);
    va_end(ap);
    if (!r)
        printf("#   got: %lld\n#   expected: %lld\n", got, expected);
    return r;
}

__attribute__((format(printf, 3, 4))) static inline bool
tap_is_str_(const char *got, const char *expected, const char *fmt, ...)
{
    bool pass = (got == NULL && expected == NULL) ||
                (got != NULL && expected != NULL && strcmp(got, expected) == 0);
    va_list ap;
    va_start(ap, fmt);
    bool r = tap_vreport_(pass, fmt, ap);
    va_end(ap);
    if (!r)
        printf("#   got: '%s'\n#   expected: '%s'\n", got ? got : "(null)",
               expected ? expected : "(null)");
    return r;
}

__attribute__((format(printf, 1, 2))) static inline void diag(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("# ", stdout);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
}

static inline int tap_done_(void)
{
    printf("1..%d\n", tap_n_);
    if (tap_failed_)
        printf("# failed %d of %d\n", tap_failed_, tap_n_);
    return tap_failed_ ? 1 : 0;
}

#define ok(cond, ...)              tap_ok_((cond) ? true : false, __VA_ARGS__)
#define is_int(got, expected, ...) tap_is_int_((long long)(got), (long long)(expected), __VA_ARGS__)
#define is_str(got, expected, ...) tap_is_str_((got), (expected), __VA_ARGS__)
#define done_testing()             tap_done_()

#endif
