/*
 * jsonx: strict JSON helpers on top of cJSON (see jsonx.h).
 */
#include "jsonx.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * cJSON is lenient where JSON is not: it skips any byte <= 0x20 as
 * whitespace and accepts raw control characters inside strings. A string
 * escape \u0000 would silently truncate the C string. This pass refuses all
 * three before cJSON sees the text.
 */
static bool prescan(const char *buf, size_t len)
{
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (in_string) {
            if (c < 0x20)
                return false;
            if (c == '"') {
                in_string = false;
            } else if (c == '\\') {
                if (i + 1 >= len)
                    return false;
                if (buf[i + 1] == 'u' && i + 5 < len && memcmp(buf + i + 2, "0000", 4) == 0)
                    return false;
                i++; /* skip the escaped character */
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c < 0x20 && c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            return false;
        }
    }
    return !in_string;
}

cJSON *jx_parse(const char *buf, size_t len)
{
    if (buf == NULL || len == 0 || !prescan(buf, len))
        return NULL;
    /* cJSON is given a NUL-terminated private copy: belt and braces
     * against any read past len inside the library. */
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return NULL;
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
    return root;
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

char *jx_print_free(cJSON *root)
{
    if (root == NULL)
        return NULL;
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}
