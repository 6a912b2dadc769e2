/*
 * jsonspan: JSON values as spans of the text (see jsonspan.h).
 */
#include "jsonspan.h"

#include <stdbool.h>
#include <string.h>

const char *jsonspan_skip_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* The end of the JSON value that starts at p (the text is known to be valid JSON). */
const char *jsonspan_value_end(const char *p, const char *e)
{
    int depth = 0;
    bool in_str = false;

    for (; p < e; p++) {
        char ch = *p;
        if (in_str) {
            if (ch == '\\' && p + 1 < e) {
                p++;
            } else if (ch == '"') {
                in_str = false;
                if (depth == 0)
                    return p + 1;
            }
            continue;
        }
        switch (ch) {
        case '"':
            in_str = true;
            break;
        case '{':
        case '[':
            depth++;
            break;
        case '}':
        case ']':
            if (depth == 0)
                return p;
            if (--depth == 0)
                return p + 1;
            break;
        case ',':
        case ':':
        case ' ':
        case '\t':
        case '\n':
        case '\r':
            if (depth == 0)
                return p;
            break;
        default:
            break;
        }
    }
    return e;
}

/* see jsonspan.h */
int jsonspan_array_elements(const char *b, size_t len, const char *member, struct jsonspan *sp,
                            int max)
{
    const char *e = b + len, *p = jsonspan_skip_ws(b, e);
    size_t mlen = strlen(member);

    if (p == e || *p != '{')
        return -1;
    p = jsonspan_skip_ws(p + 1, e);
    while (p < e && *p == '"') {
        const char *k = p;
        p = jsonspan_value_end(p, e);
        bool hit = (size_t)(p - k) == mlen + 2 && memcmp(k + 1, member, mlen) == 0;
        p = jsonspan_skip_ws(p, e);
        if (p == e || *p != ':')
            return -1;
        p = jsonspan_skip_ws(p + 1, e);
        if (!hit) {
            p = jsonspan_skip_ws(jsonspan_value_end(p, e), e);
            if (p < e && *p == ',')
                p = jsonspan_skip_ws(p + 1, e);
            continue;
        }
        if (p == e || *p != '[')
            return -1;
        p = jsonspan_skip_ws(p + 1, e);
        if (p < e && *p == ']')
            return 0;
        for (int n = 0; p < e && n < max; n++) {
            sp[n].p = p;
            p = jsonspan_value_end(p, e);
            sp[n].n = (size_t)(p - sp[n].p);
            p = jsonspan_skip_ws(p, e);
            if (p < e && *p == ']')
                return n + 1;
            if (p == e || *p != ',')
                return -1;
            p = jsonspan_skip_ws(p + 1, e);
        }
        return -1;
    }
    return -1;
}
