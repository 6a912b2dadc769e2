/*
 * fuzz target: tariff_parse on the same bytes as CSV and as JSON. For an
 * accepted import: the lines are sorted by (code, start), valid (the import
 * rules), without overlap within a code, and each one survives
 * tariff_encode -> tariff_parse_one unchanged. A refused import has at least
 * one error and no lines.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tariff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_line(const struct tariff *t)
{
    for (int i = 0; i < 6; i++)
        if (t->code[i] < '0' || t->code[i] > '9')
            abort();
    if (t->code[6] != '\0' || t->period.start > t->period.end || t->patient_share_cents < 0 ||
        t->patient_share_cents > t->fee_cents || t->fee_cents > 1000000000 || t->care_types == 0 ||
        (t->care_types & ~0xffu) != 0)
        abort();
}

static void run(const uint8_t *data, size_t size, bool csv)
{
    struct tariff_set s;
    struct verrs e;
    enum parse_result r = tariff_parse((const char *)data, size, csv, &s, &e);
    if (r != PARSE_OK) {
        if (s.lines != NULL || s.n != 0)
            abort();
        if (r == PARSE_INVALID && e.n == 0 && !e.truncated)
            abort();
        if (r == PARSE_MALFORMED && csv)
            abort();
        return;
    }
    if (s.n == 0 || s.n > TARIFF_MAX_LINES || e.n != 0)
        abort();
    for (size_t i = 0; i < s.n; i++) {
        const struct tariff *t = &s.lines[i];
        check_line(t);
        if (i > 0) {
            const struct tariff *p = &s.lines[i - 1];
            int c = memcmp(p->code, t->code, 6);
            if (c > 0 || (c == 0 && p->period.start > t->period.start))
                abort(); /* not sorted */
            if (c == 0 && p->period.end >= t->period.start)
                abort(); /* overlap let through (sorted: neighbours suffice) */
        }
        char *text = tariff_encode(t);
        if (text == NULL)
            abort();
        struct tariff back;
        if (!tariff_parse_one(text, strlen(text), &back))
            abort();
        if (memcmp(back.code, t->code, 7) != 0 || back.period.start != t->period.start ||
            back.period.end != t->period.end || back.fee_cents != t->fee_cents ||
            back.patient_share_cents != t->patient_share_cents || back.care_types != t->care_types)
            abort();
        free(text);
    }
    tariff_set_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(data, size, true);
    run(data, size, false);
    /* the bytes as one stored line */
    struct tariff t;
    if (tariff_parse_one((const char *)data, size, &t))
        check_line(&t);
    return 0;
}
