/*
 * output: json pass-through, tables, and error reports.
 */
#include "output.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

bool output_format_from_name(const char *s, enum output_format *out)
{
    if (strcmp(s, "json") == 0)
        *out = OUT_JSON;
    else if (strcmp(s, "table") == 0)
        *out = OUT_TABLE;
    else if (strcmp(s, "ndjson") == 0)
        *out = OUT_NDJSON;
    else if (strcmp(s, "csv") == 0)
        *out = OUT_CSV;
    else
        return false;
    return true;
}

const char *output_format_name(enum output_format f)
{
    switch (f) {
    case OUT_JSON:
        return "json";
    case OUT_TABLE:
        return "table";
    case OUT_NDJSON:
        return "ndjson";
    case OUT_CSV:
        return "csv";
    }
    return "?";
}

static bool pretty;

void output_set_pretty(bool on)
{
    pretty = on;
}

bool output_pretty(void)
{
    return pretty;
}

void output_raw(FILE *out, const char *body, size_t len)
{
    if (pretty) {
        cJSON *doc = cJSON_ParseWithLength(body, len);
        char *text = doc ? cJSON_Print(doc) : NULL;
        cJSON_Delete(doc);
        if (text) {
            fputs(text, out);
            fputc('\n', out);
            cJSON_free(text);
            return;
        }
    }
    fwrite(body, 1, len, out);
    if (len == 0 || body[len - 1] != '\n')
        fputc('\n', out);
}

/* ---- text helpers ---------------------------------------------------------- */

/* Print server text with C0 controls and DEL replaced, so that an answer
 * cannot drive the terminal. Bytes >= 0x80 (UTF-8) pass. */
static void put_clean(FILE *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        fputc(c < 0x20 || c == 0x7f ? '?' : c, out);
    }
}

/* ---- a table of key/value rows, printed aligned ----------------------------- */

struct row {
    char *key;
    char *value;
};
struct table {
    struct row *rows;
    size_t n, cap;
    bool failed;
};

static void table_add(struct table *t, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void table_add(struct table *t, const char *key, const char *fmt, ...)
{
    if (t->failed)
        return;
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        struct row *nr = realloc(t->rows, cap * sizeof *nr);
        if (!nr) {
            t->failed = true;
            return;
        }
        t->rows = nr;
        t->cap = cap;
    }
    va_list ap;
    char *v = NULL;
    va_start(ap, fmt);
    int rc = vasprintf(&v, fmt, ap);
    va_end(ap);
    char *k = strdup(key);
    if (rc < 0 || !k) {
        free(k);
        if (rc >= 0)
            free(v);
        t->failed = true;
        return;
    }
    t->rows[t->n].key = k;
    t->rows[t->n].value = v;
    t->n++;
}

static void table_print(FILE *out, struct table *t)
{
    size_t w = 0;
    for (size_t i = 0; i < t->n; i++) {
        size_t l = strlen(t->rows[i].key);
        if (l > w)
            w = l;
    }
    for (size_t i = 0; i < t->n; i++) {
        put_clean(out, t->rows[i].key);
        for (size_t l = strlen(t->rows[i].key); l < w + 2; l++)
            fputc(' ', out);
        put_clean(out, t->rows[i].value);
        fputc('\n', out);
    }
    if (t->failed)
        fprintf(stderr, "medaid: out of memory; table incomplete\n");
    for (size_t i = 0; i < t->n; i++) {
        free(t->rows[i].key);
        free(t->rows[i].value);
    }
    free(t->rows);
    memset(t, 0, sizeof *t);
}

/* ---- JSON accessors ---------------------------------------------------------- */

static const cJSON *get(const cJSON *o, const char *name)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, name) : NULL;
}

static const cJSON *array_or_null(const cJSON *v)
{
    return cJSON_IsArray(v) ? v : NULL;
}

static const cJSON *object_or_null(const cJSON *v)
{
    return cJSON_IsObject(v) ? v : NULL;
}

static const char *str(const cJSON *o, const char *name)
{
    const cJSON *v = get(o, name);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

static bool integer(const cJSON *v, int64_t *out)
{
    if (!cJSON_IsNumber(v))
        return false;
    double d = v->valuedouble;
    if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0))
        return false;
    int64_t i = (int64_t)d;
    if ((double)i != d)
        return false;
    *out = i;
    return true;
}

/* scalar as text into buf */
static const char *scalar(const cJSON *v, char *buf, size_t len)
{
    int64_t i;
    if (!v)
        return "-";
    if (cJSON_IsString(v))
        return v->valuestring ? v->valuestring : "";
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? "true" : "false";
    if (cJSON_IsNull(v))
        return "null";
    if (integer(v, &i)) {
        snprintf(buf, len, "%" PRId64, i);
        return buf;
    }
    if (cJSON_IsNumber(v)) {
        snprintf(buf, len, "%.17g", v->valuedouble);
        return buf;
    }
    return "?";
}

static const char *yes_no(const cJSON *o, const char *name)
{
    const cJSON *v = get(o, name);
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? "yes" : "no";
    return "-";
}

static const char *or_dash(const char *s)
{
    return s ? s : "-";
}

/* "2026-11-01 .. 2027-04-30" */
static const char *period(const cJSON *p, char *buf, size_t len)
{
    if (!cJSON_IsObject(p))
        return "-";
    const char *s = str(p, "start"), *e = str(p, "end");
    snprintf(buf, len, "%s .. %s", or_dash(s), e ? e : "(open)");
    return buf;
}

/* integer cents as euros: 3000 -> "30.00" */
static const char *cents(const cJSON *o, const char *name, char *buf, size_t len)
{
    int64_t c;
    if (!integer(get(o, name), &c))
        return "-";
    uint64_t a = c < 0 ? (uint64_t)0 - (uint64_t)c : (uint64_t)c;
    snprintf(buf, len, "%s%" PRIu64 ".%02" PRIu64, c < 0 ? "-" : "", a / 100, a % 100);
    return buf;
}

/* ---- decision ----------------------------------------------------------------- */

static void add_scalar(struct table *t, const char *key, const cJSON *o, const char *name)
{
    char buf[64];
    const cJSON *v = get(o, name);
    if (v)
        table_add(t, key, "%s", scalar(v, buf, sizeof buf));
}

void output_decision_table(FILE *out, const cJSON *d)
{
    struct table t = {0};
    char b1[64], b2[64], b3[64];

    add_scalar(&t, "id", d, "id");
    add_scalar(&t, "version", d, "version");
    add_scalar(&t, "status", d, "status");
    add_scalar(&t, "ocmw", d, "ocmw");
    add_scalar(&t, "kind", d, "kind");
    const cJSON *ben = get(d, "beneficiary");
    table_add(&t, "ssin", "%s", or_dash(str(ben, "ssin")));
    if (str(ben, "death_date"))
        table_add(&t, "death date", "%s", str(ben, "death_date"));
    table_add(&t, "period", "%s", period(get(d, "period"), b1, sizeof b1));
    if (str(d, "reference"))
        table_add(&t, "reference", "%s", str(d, "reference"));
    if (get(d, "urgent_attestation_required"))
        table_add(&t, "urgent attestation", "%s", yes_no(d, "urgent_attestation_required"));
    if (str(d, "recorded_at"))
        table_add(&t, "recorded at", "%s", str(d, "recorded_at"));

    const cJSON *ss = object_or_null(get(d, "state_share"));
    const cJSON *dom;
    cJSON_ArrayForEach(dom, ss)
    {
        table_add(&t, "state share", "%s: insurance %s%%, patient share %s%%", or_dash(dom->string),
                  scalar(get(dom, "insurance_pct"), b1, sizeof b1),
                  scalar(get(dom, "patient_share_pct"), b2, sizeof b2));
    }

    const cJSON *covers = array_or_null(get(d, "covers"));
    const cJSON *c;
    cJSON_ArrayForEach(c, covers)
    {
        const cJSON *pays = get(c, "ocmw_pays");
        char extra[192] = "";
        if (cJSON_IsObject(pays))
            snprintf(extra, sizeof extra,
                     "  ocmw pays: insurance %s, patient share %s, supplements %s",
                     or_dash(str(pays, "insurance_part")), or_dash(str(pays, "patient_share")),
                     or_dash(str(pays, "supplements")));
        table_add(&t, "cover", "%-20s %s%s", or_dash(str(c, "care_type")),
                  period(get(c, "period"), b1, sizeof b1), extra);
        if (get(c, "patient_share_cap_cents"))
            table_add(&t, "", "%-20s patient share cap %s/month", "",
                      cents(c, "patient_share_cap_cents", b3, sizeof b3));
        if (get(c, "supplements_cap_cents"))
            table_add(&t, "", "%-20s supplements cap %s", "",
                      cents(c, "supplements_cap_cents", b3, sizeof b3));
        const cJSON *dp = get(c, "designated_providers");
        if (cJSON_IsArray(dp) && cJSON_GetArraySize(dp) > 0) {
            const cJSON *p;
            cJSON_ArrayForEach(p, dp)
            {
                table_add(&t, "", "%-20s designated provider %s", "", scalar(p, b2, sizeof b2));
            }
        }
    }
    table_print(out, &t);
}

/* ---- coverage answer ------------------------------------------------------------ */

/*
 * The items of an answer and their totals, under a header line, in columns
 * (amounts in euros, right-aligned); a refused item shows its code and
 * message instead of amounts. The supplements column only when the answer
 * has supplements.
 */
enum { IC_CODE, IC_QTY, IC_FEE, IC_SUPPL, IC_STATE, IC_OCMW, IC_PATIENT, IC__COUNT };
#define IC_LEN 32
static const char *const item_head[IC__COUNT] = {"code",  "quantity", "fee",    "supplements",
                                                 "state", "ocmw",     "patient"};
static const char *const item_member[IC__COUNT] = {
    NULL, NULL, "fee_cents", "supplements_cents", "state_cents", "ocmw_cents", "patient_cents"};

static void item_cells(const cJSON *it, bool total, char cells[IC__COUNT][IC_LEN])
{
    char b[64];
    snprintf(cells[IC_CODE], IC_LEN, "%s", total ? "total" : or_dash(str(it, "code")));
    snprintf(cells[IC_QTY], IC_LEN, "%s", total ? "" : scalar(get(it, "quantity"), b, sizeof b));
    for (int k = IC_FEE; k < IC__COUNT; k++)
        snprintf(cells[k], IC_LEN, "%s", cents(it, item_member[k], b, sizeof b));
}

static void item_row(FILE *out, const size_t w[IC__COUNT], bool suppl,
                     char cells[IC__COUNT][IC_LEN], const cJSON *refused)
{
    for (int k = 0; k < IC__COUNT; k++) {
        if (k == IC_SUPPL && !suppl)
            continue;
        size_t l = strlen(cells[k]);
        if (k > 0)
            fputs("  ", out);
        if (k == IC_CODE) {
            put_clean(out, cells[k]);
            for (; l < w[k]; l++)
                fputc(' ', out);
            continue;
        }
        for (; l < w[k]; l++)
            fputc(' ', out);
        put_clean(out, cells[k]);
        if (k == IC_QTY && refused) {
            fputs("  refused ", out);
            put_clean(out, or_dash(str(refused, "code")));
            fputs(": ", out);
            put_clean(out, or_dash(str(refused, "message")));
            break;
        }
    }
    fputc('\n', out);
}

static void output_items(FILE *out, const cJSON *a)
{
    const cJSON *items = array_or_null(get(a, "items"));
    const cJSON *tot = object_or_null(get(a, "totals"));
    const cJSON *it;
    char cells[IC__COUNT][IC_LEN];
    size_t w[IC__COUNT];
    bool suppl = get(tot, "supplements_cents") != NULL;

    if (!cJSON_GetArraySize(items) && !tot)
        return;
    for (int k = 0; k < IC__COUNT; k++)
        w[k] = strlen(item_head[k]);
    cJSON_ArrayForEach(it, items)
    {
        const cJSON *ref = get(it, "refused");
        suppl = suppl || (!ref && get(it, "supplements_cents"));
        item_cells(it, false, cells);
        for (int k = 0; k < (ref ? IC_FEE : IC__COUNT); k++)
            if (strlen(cells[k]) > w[k])
                w[k] = strlen(cells[k]);
    }
    if (tot) {
        item_cells(tot, true, cells);
        for (int k = 0; k < IC__COUNT; k++)
            if (strlen(cells[k]) > w[k])
                w[k] = strlen(cells[k]);
    }
    fputc('\n', out);
    for (int k = 0; k < IC__COUNT; k++)
        snprintf(cells[k], IC_LEN, "%s", item_head[k]);
    item_row(out, w, suppl, cells, NULL);
    cJSON_ArrayForEach(it, items)
    {
        item_cells(it, false, cells);
        item_row(out, w, suppl, cells, object_or_null(get(it, "refused")));
    }
    if (tot) {
        item_cells(tot, true, cells);
        item_row(out, w, suppl, cells, NULL);
    }
}

/* the rows of a coverage answer; `agreement`: with its agreement line */
static void coverage_rows(struct table *t, const cJSON *a, bool agreement)
{
    char b1[64];

    table_add(t, "covered", "%s", yes_no(a, "covered"));
    if (agreement)
        table_add(t, "agreement", "%s", or_dash(str(a, "agreement")));
    const cJSON *reason = get(a, "reason");
    if (reason)
        table_add(t, "reason", "%s: %s", or_dash(str(reason, "code")),
                  or_dash(str(reason, "message")));
    const cJSON *dec = get(a, "decision");
    if (cJSON_IsObject(dec)) {
        table_add(t, "decision", "%s version %s", or_dash(str(dec, "id")),
                  scalar(get(dec, "version"), b1, sizeof b1));
        table_add(t, "ocmw", "%s", or_dash(str(dec, "ocmw")));
        if (get(dec, "period"))
            table_add(t, "decision period", "%s", period(get(dec, "period"), b1, sizeof b1));
    }
    const cJSON *cov = get(a, "cover");
    if (cJSON_IsObject(cov)) {
        table_add(t, "cover", "%s %s", or_dash(str(cov, "care_type")),
                  period(get(cov, "period"), b1, sizeof b1));
        table_add(t, "conditions",
                  "prescription required: %s, convention: %s, urgent attestation required: %s",
                  yes_no(cov, "prescription_required"), yes_no(cov, "convention"),
                  yes_no(cov, "urgent_attestation_required"));
    }
    if (str(a, "voided_at"))
        table_add(t, "voided at", "%s", str(a, "voided_at"));
}

void output_coverage_table(FILE *out, const cJSON *a)
{
    struct table t = {0};

    coverage_rows(&t, a, true);
    table_print(out, &t);
    output_items(out, a);
}

void output_as_of_table(FILE *out, const cJSON *a)
{
    struct table t = {0};

    table_add(&t, "known at", "%s", or_dash(str(a, "known_at")));
    coverage_rows(&t, a, false);
    table_print(out, &t);
    output_items(out, a);
}

void output_verify_table(FILE *out, const cJSON *a)
{
    char b1[64], b2[80];
    const cJSON *intact = get(a, "intact");
    const cJSON *chains = get(a, "chains"), *chain = get(a, "chain");

    if (cJSON_IsTrue(intact)) {
        const char *n = scalar(get(a, "records"), b1, sizeof b1);
        fprintf(out, "intact, ");
        put_clean(out, n);
        fprintf(out, " record%s", strcmp(n, "1") == 0 ? "" : "s");
        if (chains) {
            const char *c = scalar(chains, b2, sizeof b2);
            fputs(" in ", out);
            put_clean(out, c);
            fprintf(out, " chain%s", strcmp(c, "1") == 0 ? "" : "s");
        }
        fputs("; last_seq ", out);
        put_clean(out, scalar(get(a, "last_seq"), b1, sizeof b1));
        fputs(", last_hash ", out);
        put_clean(out, scalar(get(a, "last_hash"), b2, sizeof b2));
        fputc('\n', out);
    } else if (get(a, "object")) {
        /* a version or agreement without exactly one record of its own */
        fputs("incomplete: ", out);
        put_clean(out, scalar(get(a, "kind"), b1, sizeof b1));
        fputc(' ', out);
        put_clean(out, scalar(get(a, "object"), b2, sizeof b2));
        fputs(" has ", out);
        put_clean(out, scalar(get(a, "records"), b1, sizeof b1));
        fputs(" audit record(s) (", out);
        put_clean(out, scalar(get(a, "reason"), b2, sizeof b2));
        fputs(")\n", out);
    } else {
        fputs("broken at record ", out);
        put_clean(out, scalar(get(a, "broken_at"), b1, sizeof b1));
        fputs(" (", out);
        put_clean(out, scalar(get(a, "reason"), b2, sizeof b2));
        fputs(")", out);
        if (chain) {
            fputs(" in chain ", out);
            put_clean(out, scalar(chain, b1, sizeof b1));
        }
        fputc('\n', out);
    }
}

/* ---- lists: one line per element, in aligned columns ------------------------------ */

#define GRID_COLS 6

struct grid {
    char *(*rows)[GRID_COLS];
    size_t n, cap, ncols;
    bool right[GRID_COLS]; /* right-aligned columns (amounts) */
    bool failed;
};

static void grid_add(struct grid *g, const char *const cells[])
{
    if (g->failed)
        return;
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 16;
        char *(*nr)[GRID_COLS] = realloc(g->rows, cap * sizeof *nr);
        if (!nr) {
            g->failed = true;
            return;
        }
        g->rows = nr;
        g->cap = cap;
    }
    for (size_t i = 0; i < g->ncols; i++) {
        g->rows[g->n][i] = strdup(cells[i] ? cells[i] : "-");
        if (!g->rows[g->n][i]) {
            while (i-- > 0)
                free(g->rows[g->n][i]);
            g->failed = true;
            return;
        }
    }
    g->n++;
}

/* columns separated by two spaces; the last one is not padded */
static void grid_print(FILE *out, struct grid *g)
{
    size_t w[GRID_COLS] = {0};
    for (size_t r = 0; r < g->n; r++)
        for (size_t i = 0; i < g->ncols; i++) {
            size_t l = strlen(g->rows[r][i]);
            if (l > w[i])
                w[i] = l;
        }
    for (size_t r = 0; r < g->n; r++) {
        for (size_t i = 0; i < g->ncols; i++) {
            size_t l = strlen(g->rows[r][i]);
            if (g->right[i])
                for (; l < w[i]; l++)
                    fputc(' ', out);
            put_clean(out, g->rows[r][i]);
            if (i + 1 < g->ncols)
                for (; l < w[i] + 2; l++)
                    fputc(' ', out);
        }
        fputc('\n', out);
    }
    if (g->failed)
        fprintf(stderr, "medaid: out of memory; table incomplete\n");
    for (size_t r = 0; r < g->n; r++)
        for (size_t i = 0; i < g->ncols; i++)
            free(g->rows[r][i]);
    free(g->rows);
    memset(g, 0, sizeof *g);
}

void output_history_table(FILE *out, const cJSON *h)
{
    static const char *const head[] = {"version",     "change",      "status",
                                       "recorded_at", "recorded_by", "period"};
    struct grid g = {.ncols = 6};
    const cJSON *v;

    grid_add(&g, head);
    cJSON_ArrayForEach(v, array_or_null(get(h, "versions")))
    {
        char b1[64], b2[64], by[160];
        const cJSON *d = get(v, "decision");
        const cJSON *who = get(v, "recorded_by");
        const char *role = str(who, "role"), *org = str(who, "organisation");
        if (role && org)
            snprintf(by, sizeof by, "%s:%s", role, org);
        else
            snprintf(by, sizeof by, "%s", role ? role : or_dash(org));
        const char *const row[] = {
            scalar(get(v, "version"), b1, sizeof b1),
            or_dash(str(v, "change")),
            or_dash(str(d, "status")),
            or_dash(str(v, "recorded_at")),
            by,
            period(get(d, "period"), b2, sizeof b2),
        };
        grid_add(&g, row);
    }
    grid_print(out, &g);
}

void output_decision_list_table(FILE *out, const cJSON *l)
{
    static const char *const head[] = {"id", "ocmw", "kind", "period", "status"};
    struct grid g = {.ncols = 5};
    const cJSON *d;

    grid_add(&g, head);
    cJSON_ArrayForEach(d, array_or_null(get(l, "decisions")))
    {
        char b1[64];
        const char *const row[] = {
            or_dash(str(d, "id")),     or_dash(str(d, "ocmw")),
            or_dash(str(d, "kind")),   period(get(d, "period"), b1, sizeof b1),
            or_dash(str(d, "status")),
        };
        grid_add(&g, row);
    }
    grid_print(out, &g);
}

/* ---- tariffs -------------------------------------------------------------------- */

static void tariff_row(struct grid *g, const cJSON *t)
{
    char b1[64], b2[64], b3[64], types[256] = "";
    size_t tl = 0;
    const cJSON *ct;

    cJSON_ArrayForEach(ct, array_or_null(get(t, "care_types")))
    {
        int n = snprintf(types + tl, sizeof types - tl, "%s%s", tl ? "," : "",
                         cJSON_IsString(ct) ? ct->valuestring : "?");
        if (n < 0 || (size_t)n >= sizeof types - tl)
            break;
        tl += (size_t)n;
    }
    const char *const row[] = {
        or_dash(str(t, "code")),
        period(get(t, "period"), b1, sizeof b1),
        cents(t, "fee_cents", b2, sizeof b2),
        cents(t, "patient_share_cents", b3, sizeof b3),
        tl ? types : "-",
    };
    grid_add(g, row);
}

void output_tariff_table(FILE *out, const cJSON *doc)
{
    static const char *const head[] = {"code", "period", "fee", "patient share", "care types"};
    struct grid g = {.ncols = 5, .right = {false, false, true, true, false}};
    const cJSON *lines = array_or_null(doc);
    const cJSON *t;

    if (!lines)
        lines = array_or_null(get(doc, "tariffs"));
    if (!lines)
        lines = array_or_null(get(doc, "lines"));
    grid_add(&g, head);
    if (lines) {
        cJSON_ArrayForEach(t, lines)
        {
            tariff_row(&g, t);
        }
    } else if (cJSON_IsObject(doc)) {
        tariff_row(&g, doc);
    }
    grid_print(out, &g);
}

/* ---- audit lists: one item at a time -------------------------------------------------- */

enum cell_kind {
    CELL_VALUE,  /* member (or member.sub) as text */
    CELL_PERIOD, /* member is a period: "start .. end" */
    CELL_BY,     /* member is recorded_by: "role:organisation" */
};

struct column {
    const char *head;
    const char *member, *sub; /* sub: a member of the object `member`; may be NULL */
    enum cell_kind kind;
    int width; /* table only */
};

#define COLUMN_END                                                                                 \
    {                                                                                              \
        NULL, NULL, NULL, CELL_VALUE, 0                                                            \
    }

static const struct column consultation_csv[] = {
    {"agreement", "agreement", NULL, CELL_VALUE, 0},
    {"issued_at", "issued_at", NULL, CELL_VALUE, 0},
    {"known_at", "known_at", NULL, CELL_VALUE, 0},
    {"provider", "provider", NULL, CELL_VALUE, 0},
    {"ssin", "ssin", NULL, CELL_VALUE, 0},
    {"service_date", "service_date", NULL, CELL_VALUE, 0},
    {"care_type", "care_type", NULL, CELL_VALUE, 0},
    {"covered", "covered", NULL, CELL_VALUE, 0},
    {"reason", "reason", NULL, CELL_VALUE, 0},
    {"decision", "decision", NULL, CELL_VALUE, 0},
    {"decision_version", "decision_version", NULL, CELL_VALUE, 0},
    {"ocmw", "ocmw", NULL, CELL_VALUE, 0},
    {"voided_at", "voided_at", NULL, CELL_VALUE, 0},
    COLUMN_END,
};

static const struct column decision_csv[] = {
    {"decision", "decision", NULL, CELL_VALUE, 0},
    {"version", "version", NULL, CELL_VALUE, 0},
    {"change", "change", NULL, CELL_VALUE, 0},
    {"status", "status", NULL, CELL_VALUE, 0},
    {"ocmw", "ocmw", NULL, CELL_VALUE, 0},
    {"ssin", "ssin", NULL, CELL_VALUE, 0},
    {"kind", "kind", NULL, CELL_VALUE, 0},
    {"period_start", "period", "start", CELL_VALUE, 0},
    {"period_end", "period", "end", CELL_VALUE, 0},
    {"recorded_at", "recorded_at", NULL, CELL_VALUE, 0},
    {"recorded_by_principal", "recorded_by", "principal", CELL_VALUE, 0},
    {"recorded_by_role", "recorded_by", "role", CELL_VALUE, 0},
    {"recorded_by_organisation", "recorded_by", "organisation", CELL_VALUE, 0},
    COLUMN_END,
};

/* widths: the usual length of the values (an agreement number is 14
 * characters, a timestamp 20, or 27 with microseconds, an NIHII number 11,
 * the longest care type 19) */
static const struct column consultation_table[] = {
    {"agreement", "agreement", NULL, CELL_VALUE, 14},
    {"issued_at", "issued_at", NULL, CELL_VALUE, 27},
    {"known_at", "known_at", NULL, CELL_VALUE, 27},
    {"provider", "provider", NULL, CELL_VALUE, 11},
    {"ssin", "ssin", NULL, CELL_VALUE, 11},
    {"service_date", "service_date", NULL, CELL_VALUE, 12},
    {"care_type", "care_type", NULL, CELL_VALUE, 19},
    {"covered", "covered", NULL, CELL_VALUE, 7},
    {"reason", "reason", NULL, CELL_VALUE, 23},
    {"decision", "decision", NULL, CELL_VALUE, 14},
    {"version", "decision_version", NULL, CELL_VALUE, 7},
    {"ocmw", "ocmw", NULL, CELL_VALUE, 10},
    {"voided_at", "voided_at", NULL, CELL_VALUE, 0},
    COLUMN_END,
};

static const struct column decision_table[] = {
    {"decision", "decision", NULL, CELL_VALUE, 14},
    {"version", "version", NULL, CELL_VALUE, 7},
    {"change", "change", NULL, CELL_VALUE, 7},
    {"status", "status", NULL, CELL_VALUE, 9},
    {"ocmw", "ocmw", NULL, CELL_VALUE, 10},
    {"ssin", "ssin", NULL, CELL_VALUE, 11},
    {"kind", "kind", NULL, CELL_VALUE, 9},
    {"period", "period", NULL, CELL_PERIOD, 24},
    {"recorded_at", "recorded_at", NULL, CELL_VALUE, 20},
    {"principal", "recorded_by", "principal", CELL_VALUE, 9},
    {"recorded_by", "recorded_by", NULL, CELL_BY, 0},
    COLUMN_END,
};

/* the invoice list: csv as the server's text/csv (GET /v1/invoices) */
static const struct column invoice_csv[] = {
    {"invoice", "invoice", NULL, CELL_VALUE, 14},
    {"provider", "provider", NULL, CELL_VALUE, 11},
    {"invoice_date", "invoice_date", NULL, CELL_VALUE, 12},
    {"reference", "reference", NULL, CELL_VALUE, 16},
    {"status", "status", NULL, CELL_VALUE, 8},
    {"lines", "lines", NULL, CELL_VALUE, 5},
    {"accepted_lines", "accepted_lines", NULL, CELL_VALUE, 14},
    {"state_cents", "state_cents", NULL, CELL_VALUE, 11},
    {"ocmw_cents", "ocmw_cents", NULL, CELL_VALUE, 10},
    {"paid_cents", "paid_cents", NULL, CELL_VALUE, 10},
    {"submitted_at", "submitted_at", NULL, CELL_VALUE, 0},
    COLUMN_END,
};

/* the fund's statement: provider rows leave ocmw empty, OCMW rows provider */
static const struct column statement_fund[] = {
    {"provider", "provider", NULL, CELL_VALUE, 11},
    {"ocmw", "ocmw", NULL, CELL_VALUE, 10},
    {"invoices", "invoices", NULL, CELL_VALUE, 8},
    {"accepted_lines", "accepted_lines", NULL, CELL_VALUE, 14},
    {"state_cents", "state_cents", NULL, CELL_VALUE, 11},
    {"paid_cents", "paid_cents", NULL, CELL_VALUE, 10},
    {"open_cents", "open_cents", NULL, CELL_VALUE, 10},
    {"ocmw_cents", "ocmw_cents", NULL, CELL_VALUE, 0},
    COLUMN_END,
};

static const struct column statement_ocmw[] = {
    {"invoice", "invoice", NULL, CELL_VALUE, 14},
    {"line", "line", NULL, CELL_VALUE, 4},
    {"provider", "provider", NULL, CELL_VALUE, 11},
    {"agreement", "agreement", NULL, CELL_VALUE, 14},
    {"ssin", "ssin", NULL, CELL_VALUE, 11},
    {"service_date", "service_date", NULL, CELL_VALUE, 12},
    {"code", "code", NULL, CELL_VALUE, 6},
    {"quantity", "quantity", NULL, CELL_VALUE, 8},
    {"ocmw_cents", "ocmw_cents", NULL, CELL_VALUE, 0},
    COLUMN_END,
};

static const struct column *audit_columns(enum output_format f, enum audit_list l)
{
    bool csv = f == OUT_CSV;
    switch (l) {
    case AUDIT_CONSULTATIONS:
        return csv ? consultation_csv : consultation_table;
    case AUDIT_DECISIONS:
        return csv ? decision_csv : decision_table;
    case LIST_INVOICES:
        return invoice_csv;
    case STATEMENT_FUND:
        return statement_fund;
    case STATEMENT_OCMW:
        break;
    }
    return statement_ocmw;
}

/* RFC 4180: quoted when it holds a comma, a quote, CR or LF; quotes doubled */
static void put_csv(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

/*
 * The text of one cell (csv: null or absent is "", table: "-"; booleans
 * true/false in csv, yes/no in table). *text is set when the text was
 * allocated (an object or array, re-encoded); free it after use.
 */
static const char *cell(const struct column *col, bool csv, const cJSON *item, char *buf,
                        size_t len, char **text)
{
    const cJSON *v = get(item, col->member);
    *text = NULL;
    if (col->kind == CELL_PERIOD)
        return cJSON_IsObject(v) ? period(v, buf, len) : csv ? "" : "-";
    if (col->kind == CELL_BY) {
        const char *role = str(v, "role"), *org = str(v, "organisation");
        if (role && org)
            snprintf(buf, len, "%s:%s", role, org);
        else
            snprintf(buf, len, "%s", role ? role : or_dash(org));
        return buf;
    }
    if (col->sub)
        v = get(v, col->sub);
    if (!v || cJSON_IsNull(v))
        return csv ? "" : "-";
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? (csv ? "true" : "yes") : (csv ? "false" : "no");
    if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        *text = cJSON_PrintUnformatted(v);
        return *text ? *text : "?";
    }
    return scalar(v, buf, len);
}

static void audit_line(FILE *out, enum output_format f, const struct column *cols,
                       const cJSON *item)
{
    bool csv = f == OUT_CSV;
    for (size_t i = 0; cols[i].head; i++) {
        char buf[256], *text;
        const char *s = item ? cell(&cols[i], csv, item, buf, sizeof buf, &text) : cols[i].head;
        if (!item)
            text = NULL;
        if (csv) {
            if (i > 0)
                fputc(',', out);
            put_csv(out, s);
        } else {
            put_clean(out, s);
            if (cols[i + 1].head) {
                for (size_t l = strlen(s); l < (size_t)cols[i].width; l++)
                    fputc(' ', out);
                fputs("  ", out);
            }
        }
        cJSON_free(text);
    }
    fputc('\n', out);
}

void output_audit_header(FILE *out, enum output_format f, enum audit_list l)
{
    audit_line(out, f, audit_columns(f, l), NULL);
}

void output_audit_row(FILE *out, enum output_format f, enum audit_list l, const cJSON *item)
{
    audit_line(out, f, audit_columns(f, l), item);
}

/* ---- any JSON ------------------------------------------------------------------- */

static void flatten(struct table *t, const cJSON *v, char *path, size_t cap, size_t len, int depth)
{
    char buf[64];
    if (depth > 64) {
        table_add(t, path, "%s", "(too deep)");
        return;
    }
    if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        if (!v->child) {
            table_add(t, len ? path : "(value)", "%s", cJSON_IsObject(v) ? "{}" : "[]");
            return;
        }
        int i = 0;
        const cJSON *c;
        cJSON_ArrayForEach(c, v)
        {
            int n;
            if (cJSON_IsObject(v))
                n = snprintf(path + len, cap - len, "%s%s", len ? "." : "", or_dash(c->string));
            else
                n = snprintf(path + len, cap - len, "[%d]", i);
            size_t nl = n < 0 ? len : len + (size_t)n;
            if (nl >= cap)
                nl = cap - 1;
            flatten(t, c, path, cap, nl, depth + 1);
            path[len] = '\0';
            i++;
        }
        return;
    }
    table_add(t, len ? path : "(value)", "%s", scalar(v, buf, sizeof buf));
}

void output_generic_table(FILE *out, const cJSON *value)
{
    struct table t = {0};
    char path[512] = "";
    flatten(&t, value, path, sizeof path, 0, 0);
    table_print(out, &t);
}

/* ---- errors ------------------------------------------------------------------- */

static const char *const problem_members[] = {"type", "title",  "status",   "detail",
                                              "code", "errors", "instance", NULL};

static bool is_problem_member(const char *name)
{
    for (size_t i = 0; problem_members[i]; i++)
        if (name && strcmp(name, problem_members[i]) == 0)
            return true;
    return false;
}

/* A 409 overlap: `  conflict: decision D... of OCMW ...`, then any other
 * members of the conflict object. False when it has no decision number. */
static bool print_conflict(const cJSON *c)
{
    char buf[64];
    const char *id = str(c, "decision");
    if (!id)
        return false;
    fputs("  conflict: decision ", stderr);
    put_clean(stderr, id);
    const char *ocmw = str(c, "ocmw");
    if (ocmw) {
        fputs(" of OCMW ", stderr);
        put_clean(stderr, ocmw);
    }
    fputc('\n', stderr);
    const cJSON *m;
    cJSON_ArrayForEach(m, c)
    {
        if (!m->string || strcmp(m->string, "decision") == 0 || strcmp(m->string, "ocmw") == 0)
            continue;
        bool is_period = strcmp(m->string, "period") == 0 && cJSON_IsObject(m);
        char *text = !is_period && (cJSON_IsObject(m) || cJSON_IsArray(m))
                         ? cJSON_PrintUnformatted(m)
                         : NULL;
        fputs("  conflict ", stderr);
        put_clean(stderr, m->string);
        fputs(": ", stderr);
        put_clean(stderr, is_period ? period(m, buf, sizeof buf)
                          : text    ? text
                                    : scalar(m, buf, sizeof buf));
        fputc('\n', stderr);
        free(text);
    }
    return true;
}

void output_error_answer(const struct api_response *res)
{
    cJSON *doc = NULL;
    char buf[64];

    if (res->len > 0 && api_is_json(res))
        doc = cJSON_ParseWithLength(res->body, res->len);

    if (cJSON_IsObject(doc)) {
        const char *code = str(doc, "code");
        const char *title = str(doc, "title");
        const char *detail = str(doc, "detail");
        int64_t current;
        bool has_current = integer(get(doc, "current_version"), &current);
        fprintf(stderr, "medaid: %ld ", res->status);
        put_clean(stderr, code ? code : "error");
        if (detail || title) {
            fputs(": ", stderr);
            put_clean(stderr, detail ? detail : title);
        }
        /* a 412: the version to read before trying again */
        if (has_current)
            fprintf(stderr, " (current version %" PRId64 ")", current);
        fputc('\n', stderr);
        const cJSON *e;
        const cJSON *errs = array_or_null(get(doc, "errors"));
        cJSON_ArrayForEach(e, errs)
        {
            const char *field = str(e, "field");
            fputs("  ", stderr);
            put_clean(stderr, field && *field ? field : "(body)");
            fputs(": ", stderr);
            put_clean(stderr, or_dash(str(e, "code")));
            fputs(": ", stderr);
            put_clean(stderr, or_dash(str(e, "message")));
            fputc('\n', stderr);
        }
        /* extension members, e.g. the conflicting decision of a 409 */
        const cJSON *m;
        cJSON_ArrayForEach(m, doc)
        {
            if (is_problem_member(m->string))
                continue;
            if (has_current && m->string && strcmp(m->string, "current_version") == 0)
                continue;
            if (m->string && strcmp(m->string, "conflict") == 0 && print_conflict(m))
                continue;
            char *text = cJSON_IsObject(m) || cJSON_IsArray(m) ? cJSON_PrintUnformatted(m) : NULL;
            fputs("  ", stderr);
            put_clean(stderr, or_dash(m->string));
            fputs(": ", stderr);
            put_clean(stderr, text ? text : scalar(m, buf, sizeof buf));
            fputc('\n', stderr);
            free(text);
        }
    } else if (res->len > 0) {
        /* not a problem document: show the start of it */
        char snippet[201];
        size_t n = res->len < 200 ? res->len : 200;
        memcpy(snippet, res->body, n);
        snippet[n] = '\0';
        fprintf(stderr, "medaid: %ld ", res->status);
        put_clean(stderr, snippet);
        fprintf(stderr, "%s\n", res->len > 200 ? "..." : "");
    } else {
        fprintf(stderr, "medaid: %ld (empty answer)\n", res->status);
    }
    if (res->retry_after) {
        const char *ra = res->retry_after;
        bool seconds = *ra != '\0' && strspn(ra, "0123456789") == strlen(ra);
        fputs("medaid: retry after ", stderr);
        put_clean(stderr, ra);
        fputs(seconds ? " seconds\n" : "\n", stderr);
    }
    cJSON_Delete(doc);
}

void output_transport_error(const struct api_response *res)
{
    fputs("medaid: ", stderr);
    put_clean(stderr, res->error[0] ? res->error : "request failed");
    fputc('\n', stderr);
}

/* said once (main() does not say it again) */
static bool output_error_said;

int output_error(void)
{
    if (!output_error_said)
        fprintf(stderr, "medaid: cannot write the output: %s\n", strerror(errno ? errno : EIO));
    output_error_said = true;
    return EXIT_USAGE;
}

bool output_error_reported(void)
{
    return output_error_said;
}

/* ---- any list answer as ndjson or csv ---------------------------------------- */

/* the list in an answer: the answer itself when it is an array, else its
 * first member that is an array ("versions", "decisions", "tariffs", ...) */
static const cJSON *list_of(const cJSON *doc)
{
    if (cJSON_IsArray(doc))
        return doc;
    const cJSON *m;
    cJSON_ArrayForEach(m, doc)
    {
        if (cJSON_IsArray(m))
            return m;
    }
    return NULL;
}

/* a cell: strings as they are, null as "", other values as compact JSON */
static void put_cell(FILE *out, const cJSON *v)
{
    if (!v || cJSON_IsNull(v))
        return;
    if (cJSON_IsString(v)) {
        put_csv(out, v->valuestring);
        return;
    }
    char *text = cJSON_PrintUnformatted(v);
    if (text) {
        put_csv(out, text);
        cJSON_free(text);
    }
}

bool output_list(FILE *out, enum output_format f, const cJSON *doc)
{
    const cJSON *list = list_of(doc), *it;
    if (!list)
        return false;
    if (f == OUT_NDJSON) {
        cJSON_ArrayForEach(it, list)
        {
            char *text = cJSON_PrintUnformatted(it);
            if (!text)
                return false;
            fputs(text, out);
            fputc('\n', out);
            cJSON_free(text);
        }
        return true;
    }
    /* csv: the columns are the members of the items, in order of first appearance */
    cJSON *cols = cJSON_CreateArray();
    if (!cols)
        return false;
    cJSON_ArrayForEach(it, list)
    {
        const cJSON *m;
        cJSON_ArrayForEach(m, it)
        {
            bool seen = false;
            const cJSON *c;
            cJSON_ArrayForEach(c, cols) seen = seen || strcmp(c->valuestring, m->string) == 0;
            if (m->string && !seen)
                cJSON_AddItemToArray(cols, cJSON_CreateString(m->string));
        }
    }
    const cJSON *c;
    bool first = true;
    cJSON_ArrayForEach(c, cols)
    {
        if (!first)
            fputc(',', out);
        first = false;
        put_csv(out, c->valuestring);
    }
    fputc('\n', out);
    cJSON_ArrayForEach(it, list)
    {
        first = true;
        cJSON_ArrayForEach(c, cols)
        {
            if (!first)
                fputc(',', out);
            first = false;
            put_cell(out, cJSON_IsObject(it) ? cJSON_GetObjectItemCaseSensitive(it, c->valuestring)
                                             : NULL);
        }
        fputc('\n', out);
    }
    cJSON_Delete(cols);
    return true;
}
