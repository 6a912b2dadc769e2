/*
 * fuzz target: client/jsonspan on any bytes. Checks: every span lies inside
 * the text, in order, without overlap; skip_ws and value_end stay inside
 * [p, e]; and when cJSON parses the text as an object whose "items" member
 * is an array (and the text has no other control bytes than JSON white
 * space), jsonspan finds that many elements and each parses alone to
 * the same JSON as the element.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "jsonspan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXE 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *b = (const char *)data, *e = b + size;
    for (const char *p = b; p < e; p += 1 + (size > 256 ? size / 64 : 0)) {
        const char *q = jsonspan_skip_ws(p, e);
        const char *r = jsonspan_value_end(p, e);
        if (q < p || q > e || r < p || r > e)
            abort();
    }
    struct jsonspan sp[MAXE];
    int n = jsonspan_array_elements(b, size, "items", sp, MAXE);
    if (n < -1 || n > MAXE)
        abort();
    const char *last = b;
    for (int i = 0; i < n; i++) {
        if (sp[i].p < last || sp[i].p + sp[i].n > e)
            abort();
        last = sp[i].p + sp[i].n;
    }
    /* against a real parser, on text without NUL or control bytes other than
     * JSON's white space (cJSON skips any byte up to 0x20 as white space; a
     * scanner that refuses them makes the client re-encode, which is safe) */
    for (size_t i = 0; i < size; i++)
        if ((unsigned char)b[i] < 0x20 && b[i] != '\t' && b[i] != '\n' && b[i] != '\r')
            return 0;
    char *z = malloc(size + 1); /* NUL-terminated, for strstr */
    if (!z)
        return 0;
    memcpy(z, b, size);
    z[size] = '\0';
    cJSON *doc = cJSON_ParseWithLength(b, size);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(doc, "items");
    int real = cJSON_IsObject(doc) && cJSON_IsArray(items) ? cJSON_GetArraySize(items) : -1;
    /* compare when the key is written once, plainly (no \u escapes that
     * cJSON would decode into another "items") */
    if (real >= 0 && real <= MAXE && !strstr(z, "\\u")) {
        int count = 0;
        for (const char *p = z; (p = strstr(p, "\"items\"")) != NULL; p++)
            count++;
        if (count == 1) {
            if (n != real)
                abort();
            int i = 0;
            const cJSON *it;
            cJSON_ArrayForEach(it, items)
            {
                cJSON *alone = cJSON_ParseWithLength(sp[i].p, sp[i].n);
                if (!alone || !cJSON_Compare(alone, it, true))
                    abort();
                cJSON_Delete(alone);
                i++;
            }
        }
    }
    cJSON_Delete(doc);
    free(z);
    return 0;
}
