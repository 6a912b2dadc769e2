/*
 * coverage: the provider's question and the answer (see coverage.h).
 *
 * Per-field error codes (struct verr.code) of coverage_parse_question;
 * stable, part of the wire contract:
 *
 *   required          ssin, service_date or care_type absent (or null)
 *   wrong_type        not a string
 *   unknown_field     a member the question does not define
 *   duplicate_field   the same key twice
 *   invalid_date      service_date not a calendar date YYYY-MM-DD in 1900-9999
 *   invalid_value     care_type not one of the eight care types
 *   invalid_utf8, control_character   care_type, service_date or supplement_type text is
 *                     not clean; invalid_utf8 also for any key or string of the body
 *                     (the ssin too): the question is then refused as a whole
 *   too_many          more than 64 items
 *   invalid_code      items[i].code not 6 digits
 *   out_of_range      items[i].quantity not 1..999, items[i].supplements_cents not
 *                     0..10^9 (or any number beyond +-(2^53 - 1), on its text)
 *   not_integer       quantity or supplements_cents with a fractional part
 *   invalid_supplement_type  items[i].supplement_type not [a-z0-9_]{1,32}
 *
 * A malformed SSIN is not an error: it is the refusal invalid_ssin.
 */
#include "coverage.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "ids.h"
#include "jsonx.h"
#include "messages.h"

/* ---- refusals ------------------------------------------------------------- */

/* the codes, in the order of the enum; their texts are in messages.c */
static const struct {
    const char *code;
} refusals[RF__COUNT] = {
    [RF_NONE] = {"none"},
    [RF_INVALID_SSIN] = {"invalid_ssin"},
    [RF_SERVICE_DATE_IN_FUTURE] = {"service_date_in_future"},
    [RF_SERVICE_DATE_TOO_OLD] = {"service_date_too_old"},
    [RF_DECEASED] = {"deceased"},
    [RF_NO_DECISION] = {"no_decision"},
    [RF_NO_ACTIVE_DECISION] = {"no_active_decision"},
    [RF_SUSPENDED] = {"suspended"},
    [RF_CARE_TYPE_ABSENT] = {"care_type_absent"},
    [RF_CARE_TYPE_INACTIVE] = {"care_type_inactive"},
    [RF_PROVIDER_NOT_DESIGNATED] = {"provider_not_designated"},
    [RF_UNKNOWN_CODE] = {"unknown_code"},
    [RF_PROVIDER_KIND_MISMATCH] = {"provider_kind_mismatch"},
};

const char *refusal_code(enum refusal r)
{
    return (unsigned)r < RF__COUNT ? refusals[r].code : "unknown";
}

const char *refusal_message(enum refusal r, enum lang l)
{
    if ((unsigned)r >= RF__COUNT)
        r = RF_NO_ACTIVE_DECISION;
    const char *text = message_text(refusals[r].code, l);
    return text ? text : message_text(refusals[RF_NO_ACTIVE_DECISION].code, l);
}

/* ---- the question --------------------------------------------------------- */

#define PATH 96

static void parse_item(const cJSON *el, const char *base, struct coverage_item *it, struct verrs *e)
{
    it->quantity = 1;
    if (jx_get_object(el, base, true, e) != JX_OK)
        return;
    struct jx_field f[] = {
        {"code", NULL}, {"quantity", NULL}, {"supplements_cents", NULL}, {"supplement_type", NULL}};
    jx_walk(el, base, f, 4, NULL, e);
    char p[PATH];
    const char *s = NULL;
    jx_path(p, sizeof p, base, "code");
    if (jx_get_string(f[0].item, p, true, false, &s, e) == JX_OK) {
        if (tariff_code_valid(s, strlen(s)))
            memcpy(it->code, s, 7);
        else
            verrs_add(e, p, "invalid_code", "must be 6 digits");
    }
    int64_t v;
    jx_path(p, sizeof p, base, "quantity");
    if (jx_get_int(f[1].item, p, false, &v, e) == JX_OK) {
        if (v < 1 || v > 999)
            verrs_add(e, p, "out_of_range", "must be from 1 to 999");
        else
            it->quantity = (int)v;
    }
    jx_path(p, sizeof p, base, "supplements_cents");
    if (jx_get_int(f[2].item, p, false, &v, e) == JX_OK) {
        if (v < 0 || v > 1000000000)
            verrs_add(e, p, "out_of_range", "must be from 0 to 1000000000");
        else
            it->supplements_cents = v;
    }
    jx_path(p, sizeof p, base, "supplement_type");
    if (jx_get_string(f[3].item, p, false, false, &s, e) == JX_OK) {
        if (supplement_type_valid(s)) {
            it->has_supplement_type = true;
            memcpy(it->supplement_type, s, strlen(s) + 1);
        } else {
            verrs_add(e, p, "invalid_supplement_type",
                      "must be 1 to 32 characters among a-z, 0-9 and _");
        }
    }
}

static void parse_items(const cJSON *items, struct coverage_question *q, struct verrs *e)
{
    if (jx_get_array(items, "items", false, e) != JX_OK)
        return;
    int n = cJSON_GetArraySize(items);
    if (n > COVERAGE_MAX_ITEMS) {
        verrs_add(e, "items", "too_many", "must list at most %d items", COVERAGE_MAX_ITEMS);
        return;
    }
    int i = 0;
    for (const cJSON *el = items->child; el != NULL && i < COVERAGE_MAX_ITEMS; el = el->next, i++) {
        char base[PATH];
        jx_path_index(base, sizeof base, "items", (size_t)i);
        parse_item(el, base, &q->items[i], e);
    }
    q->n_items = i;
}

enum parse_result coverage_parse_question(const char *buf, size_t len, struct coverage_question *q,
                                          struct verrs *errs)
{
    verrs_init(errs);
    memset(q, 0, sizeof *q);
    bool refused = false;
    cJSON *root = jx_parse_checked(buf, len, errs, &refused);
    if (refused)
        return PARSE_INVALID; /* invalid_utf8 anywhere (the ssin too), out_of_range */
    if (root == NULL || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return PARSE_MALFORMED;
    }
    struct jx_field f[] = {
        {"ssin", NULL}, {"service_date", NULL}, {"care_type", NULL}, {"items", NULL}};
    jx_walk(root, "", f, 4, NULL, errs);

    /* ssin: any string; its content is judged by the answer */
    if (f[0].item == NULL || cJSON_IsNull(f[0].item)) {
        verrs_add(errs, "ssin", "required", "is required");
    } else if (!cJSON_IsString(f[0].item) || f[0].item->valuestring == NULL) {
        verrs_add(errs, "ssin", "wrong_type", "must be a string");
    } else {
        const char *s = f[0].item->valuestring;
        size_t n = strlen(s);
        /* kept as asked up to 11 bytes (valid UTF-8: checked by the parse);
         * a longer one is invalid anyway and is cut at a character boundary */
        size_t keep = n < sizeof q->ssin - 1 ? n : sizeof q->ssin - 1;
        while (keep < n && keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80)
            keep--;
        memcpy(q->ssin, s, keep);
        q->ssin_valid = ids_ssin_valid(s, n);
    }
    jx_get_date(f[1].item, "service_date", true, false, &q->service_date, errs);
    const char *ct = NULL;
    if (jx_get_string(f[2].item, "care_type", true, false, &ct, errs) == JX_OK &&
        !care_type_from_name(ct, strlen(ct), &q->care_type))
        verrs_add(errs, "care_type", "invalid_value",
                  "must be one of: hospitalisation, ambulatory_hospital, general_practice, "
                  "paramedical, pharmacy, prosthesis, medical_transport, miscellaneous");
    parse_items(f[3].item, q, errs);
    cJSON_Delete(root);
    return errs->n > 0 || errs->truncated ? PARSE_INVALID : PARSE_OK;
}

/* a decimal number of 1..digits digits in [lo, hi] at s[0..n) */
static bool number_in(const char *s, size_t n, size_t digits, int64_t lo, int64_t hi, int64_t *out)
{
    if (n == 0 || n > digits)
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return v >= lo && v <= hi;
}

bool coverage_items_from_query(const char *s, struct coverage_question *q)
{
    q->n_items = 0;
    if (s == NULL || *s == '\0')
        return false;
    for (const char *p = s;;) {
        if (q->n_items == COVERAGE_MAX_ITEMS)
            return false;
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        struct coverage_item *it = &q->items[q->n_items];
        memset(it, 0, sizeof *it);
        it->quantity = 1;
        /* the parts, separated by ':' */
        const char *part = p, *stop = p + len;
        for (int k = 0; part <= stop; k++) {
            const char *colon = memchr(part, ':', (size_t)(stop - part));
            size_t n = colon ? (size_t)(colon - part) : (size_t)(stop - part);
            int64_t v;
            if (k == 0) {
                if (!tariff_code_valid(part, n))
                    return false;
                memcpy(it->code, part, 6);
            } else if (k == 1) {
                if (!number_in(part, n, 3, 1, 999, &v))
                    return false;
                it->quantity = (int)v;
            } else if (k == 2) {
                if (!number_in(part, n, 10, 0, 1000000000, &v))
                    return false;
                it->supplements_cents = v;
            } else if (k == 3) {
                char type[sizeof it->supplement_type];
                if (n == 0 || n >= sizeof type)
                    return false;
                memcpy(type, part, n);
                type[n] = '\0';
                if (!supplement_type_valid(type))
                    return false;
                memcpy(it->supplement_type, type, n + 1);
                it->has_supplement_type = true;
            } else {
                return false;
            }
            if (colon == NULL)
                break;
            part = colon + 1;
        }
        q->n_items++;
        if (end == NULL)
            return true;
        p = end + 1;
    }
}

/* ---- the decision ------------------------------------------------------------ */

static bool in_period(const struct period *p, pdate d)
{
    return p->start <= d && d <= p->end;
}

/* the outcome of one coverage decision that contains the service date */
static enum refusal judge(const struct decision *d, const struct coverage_question *q,
                          const char *provider, const struct cover **cover)
{
    *cover = NULL;
    if (d->status == DS_SUSPENDED)
        return RF_SUSPENDED;
    const struct cover *c = decision_cover(d, q->care_type);
    if (c == NULL)
        return RF_CARE_TYPE_ABSENT;
    *cover = c;
    if (!in_period(&c->period, q->service_date))
        return RF_CARE_TYPE_INACTIVE;
    if (c->n_designated > 0) {
        bool found = false;
        for (int i = 0; provider != NULL && i < c->n_designated && i < MAX_DESIGNATED; i++)
            if (strcmp(c->designated[i], provider) == 0)
                found = true;
        if (!found)
            return RF_PROVIDER_NOT_DESIGNATED;
    }
    return RF_NONE;
}

void coverage_evaluate(const struct coverage_question *q, const struct decision *decisions,
                       size_t n, const char *provider, pdate today, struct coverage_result *result)
{
    coverage_evaluate_kind(q, decisions, n, provider, PK_NONE, today, result);
}

void coverage_evaluate_kind(const struct coverage_question *q, const struct decision *decisions,
                            size_t n, const char *provider, enum provider_kind kind, pdate today,
                            struct coverage_result *result)
{
    result->reason = RF_NONE;
    result->decision = NULL;
    result->cover = NULL;
    result->n_items = 0;
    memset(&result->totals, 0, sizeof result->totals);
    result->cap_used_cents = 0;
    result->split = false;
    if (!q->ssin_valid) {
        result->reason = RF_INVALID_SSIN;
        return;
    }
    if (q->service_date > today) {
        result->reason = RF_SERVICE_DATE_IN_FUTURE;
        return;
    }
    if (q->service_date < date_add_months(today, -2)) {
        result->reason = RF_SERVICE_DATE_TOO_OLD;
        return;
    }
    if (!provider_kind_may_ask(kind, q->care_type)) {
        result->reason = RF_PROVIDER_KIND_MISMATCH;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (decisions[i].has_death_date && decisions[i].death_date <= q->service_date) {
            result->reason = RF_DECEASED;
            return;
        }
    }
    if (n == 0) {
        result->reason = RF_NO_DECISION;
        return;
    }
    /* Normally at most one coverage decision contains the date; should there
     * be several (e.g. a suspended one next to an active one), the most
     * favourable outcome wins, the first one on a tie. */
    enum refusal best = RF_NO_ACTIVE_DECISION;
    for (size_t i = 0; i < n; i++) {
        const struct decision *d = &decisions[i];
        if (d->kind != DK_COVERAGE || !in_period(&d->period, q->service_date))
            continue;
        const struct cover *c;
        enum refusal r = judge(d, q, provider, &c);
        if (result->decision == NULL || r < best) {
            best = r;
            result->decision = d;
            result->cover = c;
        }
    }
    result->reason = best;
    if (best == RF_SUSPENDED || best == RF_CARE_TYPE_ABSENT)
        result->cover = NULL;
}

static bool add_decision(cJSON *root, const struct decision *d)
{
    cJSON *o = cJSON_AddObjectToObject(root, "decision");
    return o != NULL && jx_add_str(o, "id", d->id) && jx_add_int(o, "version", d->version) &&
           jx_add_str(o, "ocmw", d->ocmw) &&
           jx_add_period(o, "period", d->period.start, d->period.end);
}

/* ---- the split of the items ----------------------------------------------- */

/* the tariff line of code on the date for the care type; NULL when none */
static const struct tariff *find_tariff(const struct tariff *t, size_t n, const char *code,
                                        pdate date, enum care_type ct)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(t[i].code, code, 6) == 0 && in_period(&t[i].period, date) &&
            (unsigned)ct < CT__COUNT && (t[i].care_types & (1u << ct)))
            return &t[i];
    return NULL;
}

static void add_split(struct split_result *sum, const struct split_result *x)
{
    sum->fee_cents += x->fee_cents;
    sum->supplements_cents += x->supplements_cents;
    sum->state_cents += x->state_cents;
    sum->ocmw_cents += x->ocmw_cents;
    sum->patient_cents += x->patient_cents;
    sum->ocmw_patient_share_cents += x->ocmw_patient_share_cents;
    sum->ocmw_supplements_cents += x->ocmw_supplements_cents;
}

void coverage_split(const struct coverage_question *q, const struct tariff *tariffs, size_t n,
                    int64_t used_this_month, struct coverage_result *r)
{
    if (r->reason != RF_NONE || r->decision == NULL || r->cover == NULL)
        return;
    const struct cover *cv = r->cover;
    const struct state_share *ss = &r->decision->state_share[care_type_domain(cv->care_type)];
    struct split_budget b;
    split_budget_init(&b, cv, used_this_month);
    memset(&r->totals, 0, sizeof r->totals);
    r->cap_used_cents = used_this_month < 0 ? 0 : used_this_month;
    r->split = true;
    int ni = q->n_items < 0 ? 0 : q->n_items > COVERAGE_MAX_ITEMS ? COVERAGE_MAX_ITEMS : q->n_items;
    for (int i = 0; i < ni; i++) {
        const struct coverage_item *it = &q->items[i];
        struct item_answer *a = &r->items[i];
        memset(a, 0, sizeof *a);
        const struct tariff *t =
            find_tariff(tariffs, tariffs ? n : 0, it->code, q->service_date, q->care_type);
        if (t == NULL) {
            a->refused = true;
            continue;
        }
        int64_t qty = it->quantity < 1 ? 1 : it->quantity;
        struct split_line in = {
            .fee_cents = t->fee_cents * qty,
            .patient_share_cents = t->patient_share_cents * qty,
            .supplements_cents = it->supplements_cents,
            .supplement_type = it->has_supplement_type ? it->supplement_type : NULL,
        };
        split_line(ss, cv, &in, &b, &a->split);
        add_split(&r->totals, &a->split);
    }
    r->n_items = ni;
}

/* ---- the caps ------------------------------------------------------------ */

static bool covered(const struct coverage_result *r)
{
    return r->reason == RF_NONE && r->decision != NULL && r->cover != NULL;
}

static void cap_fill(struct cap_state *c, int64_t cap, int64_t used, int64_t granted)
{
    c->cap_cents = cap < 0 ? 0 : cap;
    c->used_cents = used < 0 ? 0 : used;
    c->granted_cents = granted < 0 ? 0 : granted;
    int64_t left = c->cap_cents - c->used_cents - c->granted_cents;
    c->remaining_cents = left < 0 ? 0 : left;
}

bool coverage_patient_share_cap(const struct coverage_result *r, struct cap_state *ps)
{
    if (!covered(r) || !r->split || r->cover->patient_share != PAYS_PARTIAL ||
        !r->cover->has_patient_share_cap)
        return false;
    cap_fill(ps, r->cover->patient_share_cap_cents, r->cap_used_cents,
             r->totals.ocmw_patient_share_cents);
    return true;
}

bool coverage_supplements_cap(const struct coverage_result *r, struct cap_state *sp)
{
    if (!covered(r) || !r->split || r->cover->supplements != PAYS_PARTIAL ||
        !r->cover->has_supplements_cap)
        return false;
    cap_fill(sp, r->cover->supplements_cap_cents, 0, r->totals.ocmw_supplements_cents);
    return true;
}

void coverage_cap_text(const char *name, const struct cap_state *c, char *buf, size_t size)
{
    snprintf(buf, size,
             "\"%s\":{\"cap_cents\":%lld,\"used_cents\":%lld,\"granted_cents\":%lld,"
             "\"remaining_cents\":%lld}",
             name, (long long)c->cap_cents, (long long)c->used_cents, (long long)c->granted_cents,
             (long long)c->remaining_cents);
}

static bool add_cap(cJSON *caps, const char *name, const struct cap_state *c)
{
    cJSON *o = cJSON_AddObjectToObject(caps, name);
    return o != NULL && jx_add_int(o, "cap_cents", c->cap_cents) &&
           jx_add_int(o, "used_cents", c->used_cents) &&
           jx_add_int(o, "granted_cents", c->granted_cents) &&
           jx_add_int(o, "remaining_cents", c->remaining_cents);
}

static bool add_caps(cJSON *root, const struct coverage_result *r)
{
    struct cap_state ps, sp;
    bool has_ps = coverage_patient_share_cap(r, &ps), has_sp = coverage_supplements_cap(r, &sp);
    if (!has_ps && !has_sp)
        return true;
    cJSON *caps = cJSON_AddObjectToObject(root, "caps");
    return caps != NULL && (!has_ps || add_cap(caps, "patient_share", &ps)) &&
           (!has_sp || add_cap(caps, "supplements", &sp));
}

/* ---- the answer ------------------------------------------------------------ */

static bool add_amounts(cJSON *o, const struct split_result *x, bool supplements)
{
    return jx_add_int(o, "fee_cents", x->fee_cents) &&
           jx_add_int(o, "state_cents", x->state_cents) &&
           jx_add_int(o, "ocmw_cents", x->ocmw_cents) &&
           jx_add_int(o, "patient_cents", x->patient_cents) &&
           (!supplements || jx_add_int(o, "supplements_cents", x->supplements_cents));
}

static bool add_items(cJSON *root, const struct coverage_question *q,
                      const struct coverage_result *r, enum lang l)
{
    cJSON *arr = cJSON_AddArrayToObject(root, "items");
    if (arr == NULL)
        return false;
    bool any_supplements = false;
    for (int i = 0; i < r->n_items; i++) {
        const struct coverage_item *it = &q->items[i];
        const struct item_answer *a = &r->items[i];
        if (it->supplements_cents > 0)
            any_supplements = true;
        cJSON *o = cJSON_CreateObject();
        if (o == NULL)
            return false;
        if (!cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            return false;
        }
        char code[7];
        memcpy(code, it->code, 6);
        code[6] = '\0';
        if (!jx_add_str(o, "code", code) || !jx_add_int(o, "quantity", it->quantity))
            return false;
        if (a->refused) {
            cJSON *re = cJSON_AddObjectToObject(o, "refused");
            if (re == NULL || !jx_add_str(re, "code", refusal_code(RF_UNKNOWN_CODE)) ||
                !message_add(re, refusal_code(RF_UNKNOWN_CODE), l))
                return false;
        } else if (!add_amounts(o, &a->split, it->supplements_cents > 0)) {
            return false;
        }
    }
    cJSON *t = cJSON_AddObjectToObject(root, "totals");
    return t != NULL && add_amounts(t, &r->totals, any_supplements);
}

char *coverage_encode_answer(const struct coverage_question *q, const struct coverage_result *r,
                             enum lang l)
{
    cJSON *root = cJSON_CreateObject();
    if (root == NULL)
        return NULL;
    bool ok;
    if (r->reason == RF_NONE && r->decision != NULL && r->cover != NULL) {
        const struct cover *c = r->cover;
        ok = jx_add_bool(root, "covered", true) && add_decision(root, r->decision);
        cJSON *co = ok ? cJSON_AddObjectToObject(root, "cover") : NULL;
        ok = co != NULL && jx_add_str(co, "care_type", care_type_name(c->care_type)) &&
             jx_add_period(co, "period", c->period.start, c->period.end) &&
             jx_add_bool(co, "prescription_required", c->prescription_required) &&
             jx_add_bool(co, "convention", c->convention) &&
             jx_add_bool(co, "urgent_attestation_required",
                         r->decision->urgent_attestation_required);
        if (ok && q != NULL && q->n_items > 0) {
            /* items asked but not split (coverage_split not called): no guarantee
             * without its amounts, so no answer at all */
            ok = r->n_items == q->n_items && add_items(root, q, r, l);
        }
        if (ok)
            ok = add_caps(root, r);
    } else {
        /* RF_NONE without a decision cannot be a guarantee: answer as refused */
        enum refusal why = r->reason == RF_NONE ? RF_NO_ACTIVE_DECISION : r->reason;
        ok = jx_add_bool(root, "covered", false);
        cJSON *re = ok ? cJSON_AddObjectToObject(root, "reason") : NULL;
        ok = re != NULL && jx_add_str(re, "code", refusal_code(why)) &&
             message_add(re, refusal_code(why), l);
        if (ok && r->decision != NULL)
            ok = add_decision(root, r->decision);
    }
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return jx_print_free(root);
}
