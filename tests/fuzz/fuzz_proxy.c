/*
 * Fuzz target: the PROXY protocol v2 header parser. proxy_need never asks
 * for more than PROXY_V2_MAX, a whole header is never longer than the
 * input, and fed byte by byte the reader's loop (ask proxy_need, take that
 * much) ends on the same verdict as the whole input at once.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct proxy_header h;
    size_t used = 0;
    const char *why = NULL;
    enum proxy_result r = proxy_parse(data, size, &h, &used, &why);
    if (r == PROXY_OK && (used > size || used > PROXY_V2_MAX || used < PROXY_V2_FIXED))
        abort();
    if (r == PROXY_BAD && (!why || !*why))
        abort();
    /* the reader: one byte at a time, as slowly as a trickling peer */
    size_t have = 0, need;
    while ((need = proxy_need(data, have)) > have && have < size) {
        if (need > PROXY_V2_MAX)
            abort();
        have++;
    }
    if (need == 0) {
        if (r != PROXY_BAD)
            abort();
    } else if (need <= have) {
        struct proxy_header h2;
        size_t used2 = 0;
        if (proxy_parse(data, have, &h2, &used2, &why) != r || (r == PROXY_OK && used2 != used))
            abort();
    } else if (r != PROXY_INCOMPLETE) {
        abort();
    }
    char text[64];
    if (r == PROXY_OK) {
        proxy_addr_text(&h.src, text, sizeof text);
        proxy_addr_text(&h.dst, text, sizeof text);
    }
    return 0;
}
