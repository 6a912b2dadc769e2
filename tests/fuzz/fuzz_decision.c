/*
 * fuzz target: decision_parse_input, then for every accepted document
 * encode -> decision_parse_stored -> encode must give the same text (with and
 * without meta). Also feeds the raw input to decision_parse_stored.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decision.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const pdate today = date_from_ymd(2026, 11, 23);
    struct decision d;
    struct verrs e;
    enum parse_result r = decision_parse_input((const char *)data, size, today, &d, &e);
    if (r == PARSE_OK) {
        if (e.n != 0)
            abort();
        fuzz_round_trip(&d, false);
        fuzz_set_meta(&d, 7, DS_SUSPENDED);
        fuzz_round_trip(&d, true);
    } else if (r == PARSE_INVALID && e.n == 0 && !e.truncated) {
        abort(); /* invalid without saying why */
    }
    struct decision s;
    if (decision_parse_stored((const char *)data, size, &s))
        fuzz_round_trip(&s, s.has_meta);
    return 0;
}
