/*
 * fuzz target: jcs_canonical_text. What has a canonical form is stable
 * (canonicalising it again gives the same bytes), parses as JSON, and has
 * no whitespace outside strings.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "jcs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *once = jcs_canonical_text((const char *)data, size);
    if (!once)
        return 0;
    size_t n = strlen(once);
    char *twice = jcs_canonical_text(once, n);
    if (!twice || strcmp(once, twice) != 0)
        abort();
    bool in_string = false;
    for (size_t i = 0; i < n; i++) {
        char c = once[i];
        if (in_string && c == '\\')
            i++;
        else if (c == '"')
            in_string = !in_string;
        else if (!in_string && (c == ' ' || c == '\n' || c == '\r' || c == '\t'))
            abort();
    }
    free(once);
    free(twice);
    return 0;
}
