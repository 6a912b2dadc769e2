/*
 * jsonx: strict JSON helpers on top of cJSON (see jsonx.h).
 */
#include "jsonx.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- numbers, on their text -------------------------------------------------- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

enum jx_num jx_number_class(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = i < n && s[i] == '-';
    if (neg)
        i++;
    size_t is = i; /* integer digits s[is..is+ni) */
    while (i < n && is_digit(s[i]))
        i++;
    size_t ni = i - is, fs = i, nf = 0; /* fraction digits s[fs..fs+nf) */
    if (i < n && s[i] == '.') {
        fs = ++i;
        while (i < n && is_digit(s[i]))
            i++;
        nf = i - fs;
    }
    if (ni + nf == 0)
        return JX_NUM_BAD;
    long long exp = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = i < n && s[i] == '-';
        if (i < n && (s[i] == '-' || s[i] == '+'))
            i++;
        size_t es = i;
        for (; i < n && is_digit(s[i]); i++)
            if (exp < 1000000000LL)
                exp = exp * 10 + (s[i] - '0');
        if (i == es)
            return JX_NUM_BAD;
        if (eneg)
            exp = -exp;
    }
    if (i != n)
        return JX_NUM_BAD;

    /* the mantissa's digits, integer then fraction, as one sequence */
    size_t nm = ni + nf;
#define DIGIT(k) ((k) < ni ? s[is + (k)] : s[fs + (k)-ni])
    size_t a = 0;
    while (a < nm && DIGIT(a) == '0')
        a++;
    if (a == nm) { /* zero, whatever the exponent */
        *out = 0;
        return JX_NUM_INT;
    }
    size_t b = nm - 1;
    while (DIGIT(b) == '0')
        b--;
    /* value = digits[a..b] * 10^e10, first and last digit non-zero */
    long long nd = (long long)(b - a + 1);
    long long e10 = exp - (long long)nf + (long long)(nm - 1 - b);
    long long whole = nd + e10; /* digits before the decimal point */
    if (whole > 16)
        return JX_NUM_OUT_OF_RANGE; /* >= 10^16 */
    int64_t v = 0;
    for (long long k = 0; k < whole; k++)
        v = v * 10 + (k < nd ? DIGIT(a + (size_t)k) - '0' : 0);
#undef DIGIT
    if (v > JX_INT_MAX || (v == JX_INT_MAX && e10 < 0))
        return JX_NUM_OUT_OF_RANGE;
    if (e10 < 0)
        return JX_NUM_FRACTION;
    *out = neg ? -v : v;
    return JX_NUM_INT;
}

/* ---- the raw text ------------------------------------------------------------ */

/* What the prescan learnt: the class of every number, in document order,
 * and whether some string is not valid UTF-8. */
struct scan {
    unsigned char *nums;
    size_t n_nums;
    bool bad_utf8;
};

/*
 * cJSON is lenient where JSON is not: it skips any byte <= 0x20 as
 * whitespace and accepts raw control characters inside strings. A string
 * escape \u0000 would silently truncate the C string. This pass refuses all
 * three before cJSON sees the text, checks the raw bytes of every string as
 * UTF-8 and classifies every number on its text. Numbers are the maximal
 * runs of [0-9+-eE.] that start with '-' or a digit outside strings: the
 * runs cJSON hands to strtod, so the k-th run is the k-th number node.
 */
static bool prescan(const char *buf, size_t len, struct scan *sc)
{
    bool in_string = false;
    size_t str_start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (in_string) {
            if (c < 0x20)
                return false;
            if (c == '"') {
                in_string = false;
                if (!jx_utf8_valid(buf + str_start, i - str_start))
                    sc->bad_utf8 = true;
            } else if (c == '\\') {
                if (i + 1 >= len)
                    return false;
                if (buf[i + 1] == 'u' && i + 5 < len && memcmp(buf + i + 2, "0000", 4) == 0)
                    return false;
                i++; /* skip the escaped character */
            }
        } else if (c == '"') {
            in_string = true;
            str_start = i + 1;
        } else if (c == '-' || is_digit((char)c)) {
            size_t j = i;
            while (j < len && (is_digit(buf[j]) || buf[j] == '+' || buf[j] == '-' ||
                               buf[j] == 'e' || buf[j] == 'E' || buf[j] == '.'))
                j++;
            int64_t ignored;
            enum jx_num k = jx_number_class(buf + i, j - i, &ignored);
            if (k == JX_NUM_BAD)
                return false;
            sc->nums[sc->n_nums++] = (unsigned char)k;
            i = j - 1;
        } else if (c < 0x20 && c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            return false;
        }
    }
    return !in_string;
}

/* A key as it may appear in an error path: printable ASCII only, short. */
static void safe_key(char *out, size_t n, const char *key)
{
    size_t j = 0;
    for (size_t i = 0; key[i] != '\0' && j + 1 < n; i++) {
        unsigned char c = (unsigned char)key[i];
        out[j++] = (c >= 0x21 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '?';
    }
    out[j] = '\0';
}

struct tree_check {
    const struct scan *sc;
    size_t k; /* next number */
    bool mismatch;
    int errors, utf8_errors;
    struct verrs *e;
};

static void offence(struct tree_check *t, const char *path, const char *code, const char *msg)
{
    t->errors++;
    verrs_add(t->e, path, code, "%s", msg);
}

/* Walk the tree in document order, matching number nodes to the scan. */
static void check_tree(const cJSON *it, const char *path, struct tree_check *t)
{
    if (cJSON_IsNumber(it)) {
        if (t->k >= t->sc->n_nums) {
            t->mismatch = true;
            return;
        }
        enum jx_num k = (enum jx_num)t->sc->nums[t->k++];
        if (k == JX_NUM_OUT_OF_RANGE)
            offence(t, path, "out_of_range",
                    "must be an integer between -9007199254740991 and 9007199254740991 "
                    "(exactly representable)");
        else if (k == JX_NUM_FRACTION && it->valuedouble == trunc(it->valuedouble))
            offence(t, path, "not_integer", "must be an integer (got a fraction)");
        return;
    }
    if (cJSON_IsString(it) && it->valuestring != NULL) {
        if (!jx_utf8_valid(it->valuestring, strlen(it->valuestring))) {
            offence(t, path, "invalid_utf8", "is not valid UTF-8");
            t->utf8_errors++;
        }
        return;
    }
    bool array = cJSON_IsArray(it);
    if (!array && !cJSON_IsObject(it))
        return;
    size_t i = 0;
    for (const cJSON *m = it->child; m != NULL && !t->mismatch; m = m->next, i++) {
        char p[96];
        if (array) {
            jx_path_index(p, sizeof p, path, i);
        } else {
            const char *key = m->string ? m->string : "";
            char k[41];
            safe_key(k, sizeof k, key);
            jx_path(p, sizeof p, path, k);
            if (!jx_utf8_valid(key, strlen(key))) {
                offence(t, p, "invalid_utf8", "the key is not valid UTF-8");
                t->utf8_errors++;
            }
        }
        check_tree(m, p, t);
    }
}

cJSON *jx_parse_checked(const char *buf, size_t len, struct verrs *e, bool *invalid)
{
    *invalid = false;
    if (buf == NULL || len == 0)
        return NULL;
    struct scan sc = {.nums = malloc(len / 2 + 1)};
    if (sc.nums == NULL)
        return NULL;
    if (!prescan(buf, len, &sc)) {
        free(sc.nums);
        return NULL;
    }
    /* cJSON is given a NUL-terminated private copy: belt and braces
     * against any read past len inside the library. */
    char *copy = malloc(len + 1);
    if (copy == NULL) {
        free(sc.nums);
        return NULL;
    }
    memcpy(copy, buf, len);
    copy[len] = '\0';
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(copy, len, &end, false);
    if (root != NULL) {
        size_t off = (size_t)(end - copy);
        for (; off < len; off++) {
            char c = copy[off];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                cJSON_Delete(root);
                root = NULL;
                break;
            }
        }
    }
    free(copy);
    if (root != NULL) {
        struct tree_check t = {.sc = &sc, .e = e};
        check_tree(root, "", &t);
        if (t.mismatch || t.k != sc.n_nums) {
            /* cJSON read the numbers otherwise than the scan: refuse */
            cJSON_Delete(root);
            root = NULL;
        } else {
            if (sc.bad_utf8 && t.utf8_errors == 0)
                offence(&t, "", "invalid_utf8", "the body is not valid UTF-8");
            if (t.errors > 0) {
                cJSON_Delete(root);
                root = NULL;
                *invalid = true;
            }
        }
    }
    free(sc.nums);
    return root;
}

cJSON *jx_parse(const char *buf, size_t len)
{
    bool invalid;
    return jx_parse_checked(buf, len, NULL, &invalid);
}

void jx_path(char *out, size_t n, const char *base, const char *name)
{
    if (base == NULL || base[0] == '\0')
        snprintf(out, n, "%s", name);
    else
        snprintf(out, n, "%s.%s", base, name);
}

void jx_path_index(char *out, size_t n, const char *base, size_t i)
{
    snprintf(out, n, "%s[%zu]", base ? base : "", i);
}

int jx_walk(const cJSON *obj, const char *path, struct jx_field *fields, size_t nfields,
            const char *const *readonly, struct verrs *e)
{
    int errors = 0;
    for (size_t i = 0; i < nfields; i++)
        fields[i].item = NULL;
    for (const cJSON *m = obj->child; m != NULL; m = m->next) {
        const char *key = m->string ? m->string : "";
        bool known = false;
        for (size_t i = 0; i < nfields; i++) {
            if (strcmp(fields[i].name, key) != 0)
                continue;
            known = true;
            if (fields[i].item != NULL) {
                char p[96];
                jx_path(p, sizeof p, path, fields[i].name);
                verrs_add(e, p, "duplicate_field", "appears more than once");
                errors++;
            } else {
                fields[i].item = m;
            }
            break;
        }
        if (known)
            continue;
        char k[41], p[96];
        safe_key(k, sizeof k, key);
        jx_path(p, sizeof p, path, k);
        bool ro = false;
        for (size_t i = 0; readonly != NULL && readonly[i] != NULL; i++)
            if (strcmp(readonly[i], key) == 0)
                ro = true;
        if (ro)
            verrs_add(e, p, "read_only_field", "is set by the registry and may not be sent");
        else
            verrs_add(e, p, "unknown_field", "is not a known field");
        errors++;
    }
    return errors;
}

bool jx_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned lo = 0x80, hi = 0xBF; /* bounds of the second byte */
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            if (c == 0xE0)
                lo = 0xA0; /* overlong */
            else if (c == 0xED)
                hi = 0x9F; /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            if (c == 0xF0)
                lo = 0x90; /* overlong */
            else if (c == 0xF4)
                hi = 0x8F; /* > U+10FFFF */
        } else {
            return false;
        }
        if (len - i <= n) /* truncated sequence */
            return false;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k <= n; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return false;
        i += n + 1;
    }
    return true;
}

bool jx_has_control(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] == 0x7f)
            return true;
        /* C1 controls U+0080..U+009F are encoded C2 80..C2 9F */
        if (s[i] == 0xC2 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9F)
            return true;
    }
    return false;
}

static const char *type_name(const cJSON *it)
{
    if (cJSON_IsNull(it))
        return "null";
    if (cJSON_IsBool(it))
        return "a boolean";
    if (cJSON_IsNumber(it))
        return "a number";
    if (cJSON_IsString(it))
        return "a string";
    if (cJSON_IsArray(it))
        return "an array";
    if (cJSON_IsObject(it))
        return "an object";
    return "an unknown value";
}

/* Common presence logic: JX_OK means "go on and check the type". */
static enum jx_res presence(const cJSON *it, const char *path, bool required, bool nullable,
                            struct verrs *e)
{
    if (it == NULL || (cJSON_IsNull(it) && (nullable || required))) {
        if (required) {
            verrs_add(e, path, "required", it ? "is required (null given)" : "is required");
            return JX_BAD;
        }
        return JX_ABSENT;
    }
    return JX_OK;
}

static enum jx_res wrong_type(const cJSON *it, const char *path, const char *what, struct verrs *e)
{
    verrs_add(e, path, "wrong_type", "must be %s, not %s", what, type_name(it));
    return JX_BAD;
}

enum jx_res jx_get_string(const cJSON *it, const char *path, bool required, bool nullable,
                          const char **out, struct verrs *e)
{
    enum jx_res r = presence(it, path, required, nullable, e);
    if (r != JX_OK)
        return r;
    if (!cJSON_IsString(it) || it->valuestring == NULL)
        return wrong_type(it, path, nullable ? "a string or null" : "a string", e);
    size_t len = strlen(it->valuestring);
    if (!jx_utf8_valid(it->valuestring, len)) {
        verrs_add(e, path, "invalid_utf8", "is not valid UTF-8");
        return JX_BAD;
    }
    if (jx_has_control(it->valuestring, len)) {
        verrs_add(e, path, "control_character", "may not contain control characters");
        return JX_BAD;
    }
    *out = it->valuestring;
    return JX_OK;
}

enum jx_res jx_get_int(const cJSON *it, const char *path, bool required, int64_t *out,
                       struct verrs *e)
{
    enum jx_res r = presence(it, path, required, false, e);
    if (r != JX_OK)
        return r;
    if (!cJSON_IsNumber(it))
        return wrong_type(it, path, "an integer", e);
    double d = it->valuedouble;
    if (!isfinite(d) || fabs(d) > (double)JX_INT_MAX) {
        verrs_add(e, path, "out_of_range", "must be an integer between -%lld and %lld", JX_INT_MAX,
                  JX_INT_MAX);
        return JX_BAD;
    }
    if (d != trunc(d)) {
        verrs_add(e, path, "not_integer", "must be an integer (got a fraction)");
        return JX_BAD;
    }
    *out = (int64_t)d;
    return JX_OK;
}

enum jx_res jx_get_bool(const cJSON *it, const char *path, bool required, bool *out,
                        struct verrs *e)
{
    enum jx_res r = presence(it, path, required, false, e);
    if (r != JX_OK)
        return r;
    if (!cJSON_IsBool(it))
        return wrong_type(it, path, "a boolean", e);
    *out = cJSON_IsTrue(it);
    return JX_OK;
}

enum jx_res jx_get_date(const cJSON *it, const char *path, bool required, bool nullable, pdate *out,
                        struct verrs *e)
{
    enum jx_res r = presence(it, path, required, nullable, e);
    if (r != JX_OK)
        return r;
    if (!cJSON_IsString(it) || it->valuestring == NULL)
        return wrong_type(it, path, nullable ? "a date string or null" : "a date string", e);
    if (!date_parse(it->valuestring, strlen(it->valuestring), out)) {
        verrs_add(e, path, "invalid_date",
                  "must be a calendar date YYYY-MM-DD between 1900-01-01 and 9999-12-31");
        return JX_BAD;
    }
    return JX_OK;
}

enum jx_res jx_get_object(const cJSON *it, const char *path, bool required, struct verrs *e)
{
    enum jx_res r = presence(it, path, required, false, e);
    if (r != JX_OK)
        return r;
    if (!cJSON_IsObject(it))
        return wrong_type(it, path, "an object", e);
    return JX_OK;
}

enum jx_res jx_get_array(const cJSON *it, const char *path, bool required, struct verrs *e)
{
    enum jx_res r = presence(it, path, required, false, e);
    if (r != JX_OK)
        return r;
    if (!cJSON_IsArray(it))
        return wrong_type(it, path, "an array", e);
    return JX_OK;
}

bool jx_add_int(cJSON *obj, const char *name, long long v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%lld", v);
    return cJSON_AddRawToObject(obj, name, buf) != NULL;
}

bool jx_add_str(cJSON *obj, const char *name, const char *s)
{
    return cJSON_AddStringToObject(obj, name, s) != NULL;
}

bool jx_add_bool(cJSON *obj, const char *name, bool v)
{
    return cJSON_AddBoolToObject(obj, name, v) != NULL;
}

bool jx_add_null(cJSON *obj, const char *name)
{
    return cJSON_AddNullToObject(obj, name) != NULL;
}

bool jx_add_date(cJSON *obj, const char *name, pdate d)
{
    char buf[PDATE_STRLEN + 1];
    date_format(d, buf);
    return jx_add_str(obj, name, buf);
}

bool jx_add_period(cJSON *obj, const char *name, pdate start, pdate end)
{
    cJSON *p = cJSON_AddObjectToObject(obj, name);
    return p != NULL && jx_add_date(p, "start", start) && jx_add_date(p, "end", end);
}

char *jx_compact(const char *text)
{
    size_t n = strlen(text);
    char *out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    bool in_string = false;
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (in_string) {
            out[o++] = c;
            if (c == '\\' && i + 1 < n)
                out[o++] = text[++i];
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
            out[o++] = c;
        } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            out[o++] = c;
        }
    }
    out[o] = '\0';
    return out;
}

char *jx_print_free(cJSON *root)
{
    if (root == NULL)
        return NULL;
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}
