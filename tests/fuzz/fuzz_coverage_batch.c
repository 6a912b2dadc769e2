/*
 * fuzz target: coverage_batch_parse, then every question through
 * coverage_parse_question and, when refused, coverage_batch_error_slot.
 * Checks: a batch holds 1 to 1000 questions, each printable; a refused
 * envelope has errors (CB_INVALID) or none (CB_MALFORMED); an error slot is
 * {"error":{...}}.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coverage.h"
#include "coverage_batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct coverage_batch *b = NULL;
    struct verrs e;
    verrs_init(&e);
    enum coverage_batch_result r = coverage_batch_parse((const char *)data, size, &b, &e);
    if (r != CB_OK) {
        if (b != NULL || (r == CB_INVALID && e.n == 0) || (r == CB_MALFORMED && e.n != 0))
            abort();
        return 0;
    }
    int n = coverage_batch_count(b);
    if (n < 1 || n > COVERAGE_BATCH_MAX)
        abort();
    for (int i = 0; i < n; i++) {
        char *text = coverage_batch_question_text(b, i);
        if (text == NULL)
            continue; /* out of memory: the internal_error slot */
        struct coverage_question q;
        struct verrs qe;
        verrs_init(&qe);
        enum parse_result pr = coverage_parse_question(text, strlen(text), &q, &qe);
        if (pr != PARSE_OK) {
            char *slot = coverage_batch_error_slot(pr, &qe, LANG_EN);
            if (slot && (strncmp(slot, "{\"error\":{", 10) != 0 || slot[strlen(slot) - 1] != '}'))
                abort();
            free(slot);
        }
        free(text);
    }
    if (coverage_batch_question_text(b, n) != NULL)
        abort();
    coverage_batch_free(b);
    return 0;
}
