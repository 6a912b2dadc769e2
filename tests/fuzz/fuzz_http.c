/*
 * Fuzz target: the HTTP/1.1 request-head parser. Every header it returns
 * must lie inside the input, and head_len must not exceed it.
 */
#include <stdint.h>
#include <stdlib.h>

#include "http/http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const char *base, size_t len, const char *p, size_t n)
{
    return p >= base && p + n <= base + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct http_head h;
    if (http_parse_head(buf, size, &h) != HP_OK)
        return 0;
    if (h.head_len > size || !inside(buf, size, h.target, h.target_len) ||
        !inside(buf, size, h.method_str, h.method_len))
        abort();
    for (size_t i = 0; i < h.n_headers; i++) {
        if (!inside(buf, size, h.headers[i].name, h.headers[i].name_len) ||
            !inside(buf, size, h.headers[i].value, h.headers[i].value_len))
            abort();
    }
    uint64_t cl;
    const struct http_header *c = http_find_header(&h, "content-length");
    if (c)
        (void)http_parse_content_length(c->value, c->value_len, &cl);
    return 0;
}
