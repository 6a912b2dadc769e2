/* fuzz_common.c: the checks the decision fuzz targets share (see fuzz_common.h) */
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fuzz_round_trip(const struct decision *d, bool meta)
{
    char *a = decision_encode(d, meta);
    if (a == NULL)
        abort();
    struct decision back;
    if (!decision_parse_stored(a, strlen(a), &back)) {
        fprintf(stderr, "parse_stored refused encode output: %s\n", a);
        abort();
    }
    char *b = decision_encode(&back, meta);
    if (b == NULL || strcmp(a, b) != 0) {
        fprintf(stderr, "round trip differs:\n%s\n%s\n", a, b ? b : "(null)");
        abort();
    }
    free(a);
    free(b);
}

void fuzz_set_meta(struct decision *d, int version, enum decision_status st)
{
    d->has_meta = true;
    snprintf(d->id, sizeof d->id, "D2026-00000001");
    d->version = version;
    d->status = st;
    snprintf(d->ocmw, sizeof d->ocmw, "0212345668");
    snprintf(d->recorded_at, sizeof d->recorded_at, "2026-11-23T17:30:00Z");
}
