/*
 * http_parse: request line and header parsing (RFC 9112), strictly.
 */
#include "http/http_parse.h"

#include <string.h>
#include <strings.h>

static bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Find the end of the line starting at p: returns the index of '\n' or -1. */
static long find_lf(const char *buf, size_t from, size_t len)
{
    const char *p = memchr(buf + from, '\n', len - from);
    return p ? (long)(p - buf) : -1;
}

static enum http_method method_of(const char *s, size_t n)
{
    static const struct {
        const char *name;
        enum http_method m;
    } tab[] = {{"GET", HM_GET},       {"HEAD", HM_HEAD},   {"POST", HM_POST},      {"PUT", HM_PUT},
               {"DELETE", HM_DELETE}, {"PATCH", HM_PATCH}, {"OPTIONS", HM_OPTIONS}};
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strlen(tab[i].name) == n && memcmp(tab[i].name, s, n) == 0)
            return tab[i].m;
    return HM_OTHER;
}

static enum http_parse_status parse_request_line(const char *s, size_t n, struct http_head *h)
{
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)s[i]))
        i++;
    if (i == 0 || i >= n || s[i] != ' ')
        return HP_BAD_REQUEST;
    h->method_str = s;
    h->method_len = i;
    h->method = method_of(s, i);
    size_t t = ++i;
    while (i < n && s[i] != ' ') {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f)
            return HP_BAD_REQUEST;
        i++;
    }
    if (i == t || i >= n)
        return HP_BAD_REQUEST;
    h->target = s + t;
    h->target_len = i - t;
    if (h->target[0] != '/')
        return HP_BAD_REQUEST;
    i++;
    if (n - i != 8 || memcmp(s + i, "HTTP/", 5) != 0 || s[i + 6] != '.')
        return HP_BAD_REQUEST;
    char maj = s[i + 5], min = s[i + 7];
    if (maj < '0' || maj > '9' || min < '0' || min > '9')
        return HP_BAD_REQUEST;
    if (maj != '1' || (min != '0' && min != '1'))
        return HP_BAD_VERSION;
    h->minor_version = min - '0';
    return HP_OK;
}

enum http_parse_status http_parse_head(const char *buf, size_t len, struct http_head *h)
{
    size_t pos = 0;
    memset(h, 0, sizeof *h);
    /* skip empty lines before the request line (RFC 9112 2.2) */
    for (;;) {
        if (pos < len && buf[pos] == '\n') {
            pos++;
        } else if (pos + 1 < len && buf[pos] == '\r' && buf[pos + 1] == '\n') {
            pos += 2;
        } else if (pos + 1 == len && buf[pos] == '\r') {
            return HP_INCOMPLETE;
        } else {
            break;
        }
    }
    bool first = true;
    for (;;) {
        if (pos >= len)
            return HP_INCOMPLETE;
        long lf = find_lf(buf, pos, len);
        if (lf < 0)
            return HP_INCOMPLETE;
        size_t end = (size_t)lf; /* exclusive, before optional CR */
        if (end > pos && buf[end - 1] == '\r')
            end--;
        const char *line = buf + pos;
        size_t n = end - pos;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)line[i];
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return HP_BAD_REQUEST;
        }
        pos = (size_t)lf + 1;
        if (first) {
            enum http_parse_status st = parse_request_line(line, n, h);
            if (st != HP_OK)
                return st;
            first = false;
            continue;
        }
        if (n == 0) {
            h->head_len = pos;
            return HP_OK;
        }
        if (line[0] == ' ' || line[0] == '\t')
            return HP_BAD_REQUEST; /* obsolete line folding */
        size_t c = 0;
        while (c < n && is_tchar((unsigned char)line[c]))
            c++;
        if (c == 0 || c >= n || line[c] != ':')
            return HP_BAD_REQUEST;
        if (h->n_headers == HTTP_MAX_HEADERS)
            return HP_TOO_MANY_HEADERS;
        size_t vs = c + 1, ve = n;
        while (vs < ve && (line[vs] == ' ' || line[vs] == '\t'))
            vs++;
        while (ve > vs && (line[ve - 1] == ' ' || line[ve - 1] == '\t'))
            ve--;
        struct http_header *hd = &h->headers[h->n_headers++];
        hd->name = line;
        hd->name_len = c;
        hd->value = line + vs;
        hd->value_len = ve - vs;
    }
}

static bool name_is(const struct http_header *hd, const char *name)
{
    return strlen(name) == hd->name_len && strncasecmp(hd->name, name, hd->name_len) == 0;
}

const struct http_header *http_find_header(const struct http_head *h, const char *name)
{
    for (size_t i = 0; i < h->n_headers; i++)
        if (name_is(&h->headers[i], name))
            return &h->headers[i];
    return NULL;
}

size_t http_count_header(const struct http_head *h, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < h->n_headers; i++)
        if (name_is(&h->headers[i], name))
            n++;
    return n;
}

bool http_list_has_token(const char *value, size_t len, const char *token)
{
    size_t tl = strlen(token);
    size_t i = 0;
    while (i < len) {
        while (i < len && (value[i] == ' ' || value[i] == '\t' || value[i] == ','))
            i++;
        size_t s = i;
        while (i < len && value[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (value[e - 1] == ' ' || value[e - 1] == '\t'))
            e--;
        if (e - s == tl && strncasecmp(value + s, token, tl) == 0)
            return true;
    }
    return false;
}

bool http_parse_content_length(const char *value, size_t len, uint64_t *out)
{
    if (len == 0 || len > 18)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (value[i] < '0' || value[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(value[i] - '0');
    }
    *out = v;
    return true;
}
