/*
 * tariff: the tariff table import (see tariff.h).
 *
 * Per-field error codes (struct verr.code); stable, part of the wire
 * contract. The field is "line N" for CSV (the physical line, 1-based, the
 * header being line 1 unless comment or empty lines precede it) and
 * "[i]", "[i].code", "[i].period", "[i].period.start", "[i].fee_cents",
 * "[i].care_types[k]", ... for JSON; "" for the whole import.
 *
 *   required             (JSON) a member is absent or null
 *   wrong_type           (JSON) a member, or an element of the array, has the wrong JSON type
 *   unknown_field        (JSON) a member a tariff line does not define
 *   duplicate_field      (JSON) the same key twice in one object
 *   bad_header           (CSV) the first line that is not a comment is not exactly
 *                        code,start,end,fee_cents,patient_share_cents,care_types
 *   wrong_field_count    (CSV) a line without exactly six comma-separated fields
 *   invalid_code         the code is not 6 digits
 *   invalid_date         a date that is not a calendar date YYYY-MM-DD in 1900-9999
 *   period_reversed      start after end
 *   invalid_amount       fee_cents or patient_share_cents not an integer 0..10^9
 *                        (CSV: digits only)
 *   share_above_fee      patient_share_cents above fee_cents
 *   invalid_care_type    not one of the eight care types, or no care type at all
 *   duplicate_care_type  the same care type twice in one line
 *   overlapping_period   two lines of one code share a day (reported on the line with
 *                        the later start, naming the other)
 *   too_many             more than TARIFF_MAX_LINES lines
 *   invalid_utf8         a line (CSV) or a key or string (JSON) that is not valid UTF-8:
 *                        the import is refused as a whole
 *   out_of_range         (JSON) a number beyond +-(2^53 - 1), on its text (a fee of
 *                        9007199254740993 is not silently rounded): refused as a whole
 *   empty                no tariff line at all
 */
#include "tariff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"

#define TARIFF_MAX_CENTS 1000000000LL
#define PATH             96

static const char csv_header[] = "code,start,end,fee_cents,patient_share_cents,care_types";

bool tariff_code_valid(const char *s, size_t n)
{
    if (s == NULL || n != 6)
        return false;
    for (size_t i = 0; i < 6; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* ---- the set under construction --------------------------------------------- */

struct entry {
    struct tariff t;
    size_t where; /* CSV: line number; JSON: array index */
};

struct builder {
    bool csv;
    struct entry *v;
    size_t n, cap;
    bool oom;
    struct verrs *e;
};

static void add_line(struct builder *b, const struct tariff *t, size_t where)
{
    if (b->oom)
        return;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        struct entry *v = realloc(b->v, cap * sizeof *v);
        if (v == NULL) {
            b->oom = true;
            return;
        }
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n].t = *t;
    b->v[b->n].where = where;
    b->n++;
}

static void where_path(const struct builder *b, size_t where, const char *member, char *out,
                       size_t n)
{
    if (b->csv)
        snprintf(out, n, "line %zu", where);
    else if (member != NULL)
        snprintf(out, n, "[%zu].%s", where, member);
    else
        snprintf(out, n, "[%zu]", where);
}

static void where_name(const struct builder *b, size_t where, char *out, size_t n)
{
    if (b->csv)
        snprintf(out, n, "line %zu", where);
    else
        snprintf(out, n, "element [%zu]", where);
}

static int cmp_entry(const void *pa, const void *pb)
{
    const struct entry *a = pa, *b = pb;
    int c = memcmp(a->t.code, b->t.code, 6);
    if (c != 0)
        return c;
    if (a->t.period.start != b->t.period.start)
        return a->t.period.start < b->t.period.start ? -1 : 1;
    if (a->where != b->where)
        return a->where < b->where ? -1 : 1;
    return 0;
}

/* sort by (code, start), then report every line that shares a day with an
 * earlier-starting line of the same code */
static void sort_and_check(struct builder *b)
{
    if (b->n > 1)
        qsort(b->v, b->n, sizeof *b->v, cmp_entry);
    size_t first = 0; /* the line of the group with the latest end so far */
    for (size_t i = 1; i < b->n; i++) {
        if (memcmp(b->v[i].t.code, b->v[first].t.code, 6) != 0) {
            first = i;
            continue;
        }
        if (b->v[i].t.period.start <= b->v[first].t.period.end) {
            char p[PATH], other[48];
            where_path(b, b->v[i].where, "period", p, sizeof p);
            where_name(b, b->v[first].where, other, sizeof other);
            verrs_add(b->e, p, "overlapping_period",
                      "code %.6s: this period shares at least one day with %s", b->v[i].t.code,
                      other);
        }
        if (b->v[i].t.period.end > b->v[first].t.period.end)
            first = i;
    }
}

static enum parse_result finish(struct builder *b, struct tariff_set *out)
{
    if (b->oom) {
        /* not a fault of the import, but nothing to give back: say so */
        verrs_add(b->e, "", "too_many", "the import is too large to be held in memory");
    } else if (b->e->n == 0 && !b->e->truncated && b->n == 0) {
        verrs_add(b->e, "", "empty", "the import holds no tariff line");
    }
    if (!b->oom)
        sort_and_check(b); /* over the lines that passed, even when others did not */
    if (b->e->n > 0 || b->e->truncated) {
        free(b->v);
        return PARSE_INVALID;
    }
    struct tariff *lines = malloc(b->n * sizeof *lines);
    if (lines == NULL) {
        free(b->v);
        verrs_add(b->e, "", "too_many", "the import is too large to be held in memory");
        return PARSE_INVALID;
    }
    for (size_t i = 0; i < b->n; i++)
        lines[i] = b->v[i].t;
    free(b->v);
    out->n = b->n;
    out->lines = lines;
    return PARSE_OK;
}

/* ---- CSV -------------------------------------------------------------------- */

/* digits only, 0..10^9 */
static bool csv_amount(const char *s, size_t n, int64_t *out)
{
    if (n == 0 || n > 10)
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v > TARIFF_MAX_CENTS)
        return false;
    *out = v;
    return true;
}

static void csv_line(struct builder *b, const char *s, size_t n, size_t lineno)
{
    const char *f[6];
    size_t fl[6];
    size_t nf = 0;
    const char *start = s;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == ',') {
            if (nf < 6) {
                f[nf] = start;
                fl[nf] = (size_t)(s + i - start);
            }
            nf++;
            start = s + i + 1;
        }
    }
    char p[PATH];
    snprintf(p, sizeof p, "line %zu", lineno);
    if (nf != 6) {
        verrs_add(b->e, p, "wrong_field_count", "has %zu fields; 6 expected", nf);
        return;
    }
    struct tariff t;
    memset(&t, 0, sizeof t);
    bool good = true;
    if (tariff_code_valid(f[0], fl[0])) {
        memcpy(t.code, f[0], 6);
    } else {
        verrs_add(b->e, p, "invalid_code", "code must be 6 digits");
        good = false;
    }
    bool dates = true;
    if (!date_parse(f[1], fl[1], &t.period.start)) {
        verrs_add(b->e, p, "invalid_date",
                  "start must be a calendar date YYYY-MM-DD between 1900-01-01 and 9999-12-31");
        dates = false;
    }
    if (!date_parse(f[2], fl[2], &t.period.end)) {
        verrs_add(b->e, p, "invalid_date",
                  "end must be a calendar date YYYY-MM-DD between 1900-01-01 and 9999-12-31");
        dates = false;
    }
    if (dates && t.period.start > t.period.end) {
        verrs_add(b->e, p, "period_reversed", "start is after end");
        dates = false;
    }
    good = good && dates;
    bool amounts = true;
    if (!csv_amount(f[3], fl[3], &t.fee_cents)) {
        verrs_add(b->e, p, "invalid_amount", "fee_cents must be an integer from 0 to 1000000000");
        amounts = false;
    }
    if (!csv_amount(f[4], fl[4], &t.patient_share_cents)) {
        verrs_add(b->e, p, "invalid_amount",
                  "patient_share_cents must be an integer from 0 to 1000000000");
        amounts = false;
    }
    if (amounts && t.patient_share_cents > t.fee_cents) {
        verrs_add(b->e, p, "share_above_fee", "patient_share_cents is above fee_cents");
        amounts = false;
    }
    good = good && amounts;
    /* care types joined by '|' */
    const char *ct = f[5];
    size_t ctn = fl[5];
    size_t k0 = 0;
    for (size_t i = 0; i <= ctn; i++) {
        if (i < ctn && ct[i] != '|')
            continue;
        enum care_type c;
        if (!care_type_from_name(ct + k0, i - k0, &c)) {
            verrs_add(b->e, p, "invalid_care_type",
                      ctn == 0 ? "care_types must name at least one care type"
                               : "care_types: not one of the eight care types");
            good = false;
        } else if (t.care_types & (1u << c)) {
            verrs_add(b->e, p, "duplicate_care_type", "care_types: %s appears twice",
                      care_type_name(c));
            good = false;
        } else {
            t.care_types |= 1u << c;
        }
        k0 = i + 1;
    }
    if (good)
        add_line(b, &t, lineno);
}

static enum parse_result parse_csv(const char *buf, size_t len, struct builder *b,
                                   struct tariff_set *out)
{
    size_t pos = 0, lineno = 0, count = 0;
    bool header = false;
    /* a UTF-8 byte order mark, as spreadsheets write it */
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    /* invalid UTF-8 anywhere (comments too) refuses the import as a whole */
    bool utf8 = true;
    for (size_t p = pos, no = 1; p < len; no++) {
        const char *nl = memchr(buf + p, '\n', len - p);
        size_t n = nl ? (size_t)(nl - (buf + p)) : len - p;
        if (!jx_utf8_valid(buf + p, n)) {
            char where[PATH];
            snprintf(where, sizeof where, "line %zu", no);
            verrs_add(b->e, where, "invalid_utf8", "is not valid UTF-8");
            utf8 = false;
        }
        p += n + 1;
    }
    if (!utf8) {
        free(b->v);
        return PARSE_INVALID;
    }
    while (pos < len) {
        const char *s = buf + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl ? 1 : 0);
        lineno++;
        if (n > 0 && s[n - 1] == '\r')
            n--;
        if (n == 0 || s[0] == '#')
            continue;
        if (!header) {
            if (n != sizeof csv_header - 1 || memcmp(s, csv_header, n) != 0) {
                char p[PATH];
                snprintf(p, sizeof p, "line %zu", lineno);
                verrs_add(b->e, p, "bad_header", "the header must be exactly %s", csv_header);
                free(b->v);
                return PARSE_INVALID;
            }
            header = true;
            continue;
        }
        if (++count > TARIFF_MAX_LINES) {
            char p[PATH];
            snprintf(p, sizeof p, "line %zu", lineno);
            verrs_add(b->e, p, "too_many", "an import holds at most %d lines", TARIFF_MAX_LINES);
            break;
        }
        csv_line(b, s, n, lineno);
    }
    return finish(b, out);
}

/* ---- JSON ------------------------------------------------------------------- */

static bool json_amount(const cJSON *it, const char *path, int64_t *out, struct verrs *e)
{
    if (it == NULL || cJSON_IsNull(it)) {
        verrs_add(e, path, "required", "is required");
        return false;
    }
    if (!cJSON_IsNumber(it)) {
        verrs_add(e, path, "wrong_type", "must be an integer");
        return false;
    }
    double d = it->valuedouble;
    if (!(d >= 0 && d <= (double)TARIFF_MAX_CENTS) || d != (double)(int64_t)d) {
        verrs_add(e, path, "invalid_amount", "must be an integer from 0 to 1000000000");
        return false;
    }
    *out = (int64_t)d;
    return true;
}

/* one {"code","period","fee_cents","patient_share_cents","care_types"}; base is
 * the element's path ("[3]", or "" for tariff_parse_one). True when valid. */
static bool json_line(const cJSON *el, const char *base, struct tariff *t, struct verrs *e)
{
    memset(t, 0, sizeof t[0]);
    if (!cJSON_IsObject(el)) {
        verrs_add(e, base, "wrong_type", "must be an object");
        return false;
    }
    struct jx_field f[] = {{"code", NULL},
                           {"period", NULL},
                           {"fee_cents", NULL},
                           {"patient_share_cents", NULL},
                           {"care_types", NULL}};
    bool good = jx_walk(el, base, f, 5, NULL, e) == 0;
    char p[PATH];

    jx_path(p, sizeof p, base, "code");
    if (f[0].item == NULL || cJSON_IsNull(f[0].item)) {
        verrs_add(e, p, "required", "is required");
        good = false;
    } else if (!cJSON_IsString(f[0].item) || f[0].item->valuestring == NULL) {
        verrs_add(e, p, "wrong_type", "must be a string");
        good = false;
    } else if (!tariff_code_valid(f[0].item->valuestring, strlen(f[0].item->valuestring))) {
        verrs_add(e, p, "invalid_code", "must be 6 digits");
        good = false;
    } else {
        memcpy(t->code, f[0].item->valuestring, 6);
    }

    jx_path(p, sizeof p, base, "period");
    if (jx_get_object(f[1].item, p, true, e) != JX_OK) {
        good = false;
    } else {
        struct jx_field pf[] = {{"start", NULL}, {"end", NULL}};
        if (jx_walk(f[1].item, p, pf, 2, NULL, e) != 0)
            good = false;
        char ps[PATH], pe[PATH];
        jx_path(ps, sizeof ps, p, "start");
        jx_path(pe, sizeof pe, p, "end");
        bool dates = jx_get_date(pf[0].item, ps, true, false, &t->period.start, e) == JX_OK;
        dates = jx_get_date(pf[1].item, pe, true, false, &t->period.end, e) == JX_OK && dates;
        if (dates && t->period.start > t->period.end) {
            verrs_add(e, p, "period_reversed", "start is after end");
            dates = false;
        }
        good = good && dates;
    }

    jx_path(p, sizeof p, base, "fee_cents");
    bool amounts = json_amount(f[2].item, p, &t->fee_cents, e);
    jx_path(p, sizeof p, base, "patient_share_cents");
    amounts = json_amount(f[3].item, p, &t->patient_share_cents, e) && amounts;
    if (amounts && t->patient_share_cents > t->fee_cents) {
        verrs_add(e, p, "share_above_fee", "is above fee_cents");
        amounts = false;
    }
    good = good && amounts;

    jx_path(p, sizeof p, base, "care_types");
    if (jx_get_array(f[4].item, p, true, e) != JX_OK) {
        good = false;
    } else if (f[4].item->child == NULL) {
        verrs_add(e, p, "invalid_care_type", "must name at least one care type");
        good = false;
    } else {
        size_t k = 0;
        for (const cJSON *c = f[4].item->child; c != NULL; c = c->next, k++) {
            char pk[PATH];
            jx_path_index(pk, sizeof pk, p, k);
            enum care_type ct;
            if (!cJSON_IsString(c) || c->valuestring == NULL) {
                verrs_add(e, pk, "wrong_type", "must be a string");
                good = false;
            } else if (!care_type_from_name(c->valuestring, strlen(c->valuestring), &ct)) {
                verrs_add(e, pk, "invalid_care_type", "not one of the eight care types");
                good = false;
            } else if (t->care_types & (1u << ct)) {
                verrs_add(e, pk, "duplicate_care_type", "%s appears twice", care_type_name(ct));
                good = false;
            } else {
                t->care_types |= 1u << ct;
            }
        }
    }
    return good;
}

static enum parse_result parse_json(const char *buf, size_t len, struct builder *b,
                                    struct tariff_set *out)
{
    bool refused = false;
    cJSON *root = jx_parse_checked(buf, len, b->e, &refused);
    if (refused) { /* invalid_utf8, out_of_range: the import as a whole */
        free(b->v);
        return PARSE_INVALID;
    }
    if (root == NULL || !cJSON_IsArray(root)) {
        cJSON_Delete(root);
        free(b->v);
        return PARSE_MALFORMED;
    }
    size_t i = 0;
    for (const cJSON *el = root->child; el != NULL; el = el->next, i++) {
        if (i >= TARIFF_MAX_LINES) {
            verrs_add(b->e, "", "too_many", "an import holds at most %d lines", TARIFF_MAX_LINES);
            break;
        }
        char base[PATH];
        jx_path_index(base, sizeof base, "", i);
        struct tariff t;
        if (json_line(el, base, &t, b->e))
            add_line(b, &t, i);
    }
    cJSON_Delete(root);
    return finish(b, out);
}

enum parse_result tariff_parse(const char *buf, size_t len, bool csv, struct tariff_set *out,
                               struct verrs *errs)
{
    verrs_init(errs);
    out->n = 0;
    out->lines = NULL;
    struct builder b = {.csv = csv, .e = errs};
    if (buf == NULL)
        len = 0;
    if (csv)
        return parse_csv(buf, len, &b, out);
    return parse_json(buf, len, &b, out);
}

void tariff_set_free(struct tariff_set *s)
{
    if (s == NULL)
        return;
    free(s->lines);
    s->lines = NULL;
    s->n = 0;
}

/* ---- one line, as stored ---------------------------------------------------- */

char *tariff_encode(const struct tariff *t)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    char code[7];
    memcpy(code, t->code, 6);
    code[6] = '\0';
    bool ok = jx_add_str(o, "code", code) &&
              jx_add_period(o, "period", t->period.start, t->period.end) &&
              jx_add_int(o, "fee_cents", t->fee_cents) &&
              jx_add_int(o, "patient_share_cents", t->patient_share_cents);
    cJSON *a = ok ? cJSON_AddArrayToObject(o, "care_types") : NULL;
    ok = a != NULL;
    for (int c = 0; ok && c < CT__COUNT; c++) {
        if (!(t->care_types & (1u << c)))
            continue;
        cJSON *s = cJSON_CreateString(care_type_name((enum care_type)c));
        ok = s != NULL && cJSON_AddItemToArray(a, s);
        if (!ok)
            cJSON_Delete(s);
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return jx_print_free(o);
}

bool tariff_parse_one(const char *buf, size_t len, struct tariff *out)
{
    cJSON *root = jx_parse(buf, len);
    if (root == NULL)
        return false;
    struct verrs e;
    verrs_init(&e);
    struct tariff t;
    bool good = json_line(root, "", &t, &e) && e.n == 0 && !e.truncated;
    cJSON_Delete(root);
    if (good)
        *out = t;
    return good;
}
