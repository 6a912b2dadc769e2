/*
 * query: split and decode a query string (see query.h).
 */
#include "query.h"

#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* decode v[0..n) into out (NUL-terminated); out holds n + 1 bytes */
static void decode(const char *v, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '%' && i + 2 < n && hexval(v[i + 1]) >= 0 && hexval(v[i + 2]) >= 0) {
            out[o++] = (char)(hexval(v[i + 1]) * 16 + hexval(v[i + 2]));
            i += 2;
        } else {
            out[o++] = v[i] == '+' ? ' ' : v[i];
        }
    }
    out[o] = '\0';
}

int query_split(const char *query, struct query_param **out)
{
    *out = NULL;
    if (query == NULL || *query == '\0')
        return 0;
    size_t qlen = strlen(query);
    size_t n = 1;
    for (const char *p = query; *p; p++)
        n += *p == '&';
    /* the pairs, then every name and value with its NUL */
    size_t size = n * sizeof(struct query_param) + 2 * qlen + 2 * n;
    char *block = malloc(size);
    if (block == NULL)
        return -1;
    struct query_param *pairs = (struct query_param *)(void *)block;
    char *text = block + n * sizeof(struct query_param);
    int k = 0;
    for (const char *p = query; *p;) {
        const char *amp = strchr(p, '&');
        size_t seg = amp ? (size_t)(amp - p) : strlen(p);
        if (seg > 0) {
            const char *eq = memchr(p, '=', seg);
            size_t nl = eq ? (size_t)(eq - p) : seg;
            memcpy(text, p, nl);
            text[nl] = '\0';
            pairs[k].name = text;
            text += nl + 1;
            size_t vl = eq ? seg - nl - 1 : 0;
            decode(eq ? eq + 1 : "", vl, text);
            pairs[k].value = text;
            text += strlen(text) + 1;
            k++;
        }
        p += seg;
        if (*p == '&')
            p++;
    }
    if (k == 0) {
        free(block);
        return 0;
    }
    *out = pairs;
    return k;
}
