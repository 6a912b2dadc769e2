/*
 * pgarray: array literals; every element quoted, '"' and '\' escaped.
 */
#include "db/pgarray.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

static void put(struct pgarray *a, const char *s, size_t n)
{
    if (a->oom)
        return;
    if (a->len + n + 1 > a->cap) {
        size_t cap = a->cap ? a->cap : 256;
        while (cap < a->len + n + 1)
            cap *= 2;
        a->buf = xrealloc(a->buf, cap);
        a->cap = cap;
    }
    memcpy(a->buf + a->len, s, n);
    a->len += n;
    a->buf[a->len] = '\0';
}

void pgarray_init(struct pgarray *a)
{
    memset(a, 0, sizeof *a);
    put(a, "{", 1);
}

void pgarray_add(struct pgarray *a, const char *s)
{
    if (a->n++ > 0)
        put(a, ",", 1);
    if (!s) {
        put(a, "NULL", 4);
        return;
    }
    put(a, "\"", 1);
    for (const char *p = s; *p;) {
        size_t run = strcspn(p, "\"\\");
        put(a, p, run);
        p += run;
        if (*p) {
            char esc[2] = {'\\', *p};
            put(a, esc, 2);
            p++;
        }
    }
    put(a, "\"", 1);
}

const char *pgarray_finish(struct pgarray *a)
{
    put(a, "}", 1);
    return a->oom ? NULL : a->buf;
}

void pgarray_free(struct pgarray *a)
{
    free(a->buf);
    memset(a, 0, sizeof *a);
}
