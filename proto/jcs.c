/*
 * jcs: RFC 8785 canonical JSON from a cJSON tree.
 */
#include "jcs.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"

struct out {
    char *p;
    size_t len, cap;
    bool failed;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->failed)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (o->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(o->p, cap);
        if (!p) {
            o->failed = true;
            return;
        }
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

void jcs_number(double d, char *out, size_t n)
{
    if (d == 0) { /* -0 too */
        snprintf(out, n, "0");
        return;
    }
    /* the shortest decimal that reads back as d (correctly rounded, so the
     * closest one of that length) */
    char buf[40];
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    /* buf: [-]d[.ddd]e[+-]xx -> digits and exponent */
    const char *s = buf;
    bool neg = *s == '-';
    if (neg)
        s++;
    char digits[24];
    int k = 0;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9')
            digits[k++] = *s;
    while (k > 1 && digits[k - 1] == '0')
        k--;
    digits[k] = '\0';
    int e10 = atoi(s + 1);
    int e = e10 + 1; /* d = 0.digits x 10^e */
    char res[48];
    size_t w = 0;
    if (neg)
        res[w++] = '-';
    if (k <= e && e <= 21) {
        memcpy(res + w, digits, (size_t)k);
        w += (size_t)k;
        for (int i = 0; i < e - k; i++)
            res[w++] = '0';
    } else if (0 < e && e <= 21) {
        memcpy(res + w, digits, (size_t)e);
        w += (size_t)e;
        res[w++] = '.';
        memcpy(res + w, digits + e, (size_t)(k - e));
        w += (size_t)(k - e);
    } else if (-6 < e && e <= 0) {
        res[w++] = '0';
        res[w++] = '.';
        for (int i = 0; i < -e; i++)
            res[w++] = '0';
        memcpy(res + w, digits, (size_t)k);
        w += (size_t)k;
    } else {
        res[w++] = digits[0];
        if (k > 1) {
            res[w++] = '.';
            memcpy(res + w, digits + 1, (size_t)(k - 1));
            w += (size_t)(k - 1);
        }
        w += (size_t)snprintf(res + w, sizeof res - w, "e%c%d", e - 1 < 0 ? '-' : '+', abs(e - 1));
    }
    res[w] = '\0';
    snprintf(out, n, "%s", res);
}

static void put_string(struct out *o, const char *s)
{
    if (!jx_utf8_valid(s, strlen(s))) {
        o->failed = true;
        return;
    }
    put(o, "\"", 1);
    const char *run = s;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        const char *esc = NULL;
        char hex[8];
        switch (c) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        default:
            if (c < 0x20) {
                snprintf(hex, sizeof hex, "\\u%04x", c);
                esc = hex;
            }
        }
        if (esc) {
            put(o, run, (size_t)(p - run));
            puts_(o, esc);
            run = p + 1;
        }
    }
    puts_(o, run);
    put(o, "\"", 1);
}

/* The next UTF-16 code unit of a valid UTF-8 string; *low holds the second
 * half of a surrogate pair still to give. 0 at the end. */
static unsigned next_unit(const unsigned char **s, unsigned *low)
{
    if (*low) {
        unsigned u = *low;
        *low = 0;
        return u;
    }
    const unsigned char *p = *s;
    if (!*p)
        return 0;
    uint32_t cp;
    if (p[0] < 0x80) {
        cp = p[0];
        p += 1;
    } else if (p[0] < 0xE0) {
        cp = (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
        p += 2;
    } else if (p[0] < 0xF0) {
        cp = (uint32_t)(p[0] & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
        p += 3;
    } else {
        cp = (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
             (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
        p += 4;
    }
    *s = p;
    if (cp < 0x10000)
        return cp;
    cp -= 0x10000;
    *low = 0xDC00 + (cp & 0x3FF);
    return 0xD800 + (cp >> 10);
}

static int utf16_cmp(const char *a, const char *b)
{
    const unsigned char *pa = (const unsigned char *)a, *pb = (const unsigned char *)b;
    unsigned la = 0, lb = 0;
    for (;;) {
        unsigned ua = next_unit(&pa, &la), ub = next_unit(&pb, &lb);
        if (ua != ub)
            return ua < ub ? -1 : 1;
        if (ua == 0)
            return 0;
    }
}

static int member_cmp(const void *x, const void *y)
{
    const cJSON *a = *(const cJSON *const *)x, *b = *(const cJSON *const *)y;
    return utf16_cmp(a->string, b->string);
}

static void put_value(struct out *o, const cJSON *v, int depth)
{
    if (o->failed)
        return;
    if (depth > 1000) {
        o->failed = true;
        return;
    }
    if (cJSON_IsNull(v)) {
        puts_(o, "null");
    } else if (cJSON_IsTrue(v)) {
        puts_(o, "true");
    } else if (cJSON_IsFalse(v)) {
        puts_(o, "false");
    } else if (cJSON_IsNumber(v)) {
        if (!isfinite(v->valuedouble)) {
            o->failed = true;
            return;
        }
        char num[48];
        jcs_number(v->valuedouble, num, sizeof num);
        puts_(o, num);
    } else if (cJSON_IsString(v)) {
        put_string(o, v->valuestring ? v->valuestring : "");
    } else if (cJSON_IsArray(v)) {
        put(o, "[", 1);
        bool first = true;
        for (const cJSON *e = v->child; e; e = e->next) {
            if (!first)
                put(o, ",", 1);
            first = false;
            put_value(o, e, depth + 1);
        }
        put(o, "]", 1);
    } else if (cJSON_IsObject(v)) {
        size_t n = 0;
        for (const cJSON *e = v->child; e; e = e->next)
            n++;
        const cJSON **m = n ? malloc(n * sizeof *m) : NULL;
        if (n && !m) {
            o->failed = true;
            return;
        }
        size_t i = 0;
        for (const cJSON *e = v->child; e; e = e->next) {
            if (!e->string || !jx_utf8_valid(e->string, strlen(e->string)))
                o->failed = true;
            m[i++] = e;
        }
        if (!o->failed && n > 1)
            qsort(m, n, sizeof *m, member_cmp);
        for (i = 1; !o->failed && i < n; i++)
            if (strcmp(m[i - 1]->string, m[i]->string) == 0)
                o->failed = true; /* a name twice */
        put(o, "{", 1);
        for (i = 0; !o->failed && i < n; i++) {
            if (i)
                put(o, ",", 1);
            put_string(o, m[i]->string);
            put(o, ":", 1);
            put_value(o, m[i], depth + 1);
        }
        put(o, "}", 1);
        free(m);
    } else {
        o->failed = true; /* raw or invalid */
    }
}

char *jcs_canonical(const cJSON *v)
{
    struct out o = {0};
    put_value(&o, v, 0);
    if (o.failed || !o.p) {
        free(o.p);
        return NULL;
    }
    return o.p;
}

char *jcs_canonical_text(const char *buf, size_t len)
{
    cJSON *v = cJSON_ParseWithLength(buf, len);
    if (!v)
        return NULL;
    char *s = jcs_canonical(v);
    cJSON_Delete(v);
    return s;
}
