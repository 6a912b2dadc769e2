/*
 * invoice: the check of invoice lines against agreements, payments, months.
 */
#include "invoice.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ids.h"
#include "jsonx.h"
#include "messages.h"
#include "tariff.h"

#define PATH 96

static const char *const reject_codes[IR__COUNT] = {
    [IR_NONE] = "accepted",
    [IR_UNKNOWN_AGREEMENT] = "unknown_agreement",
    [IR_AGREEMENT_VOID] = "agreement_void",
    [IR_AGREEMENT_NOT_COVERED] = "agreement_not_covered",
    [IR_CODE_NOT_AGREED] = "code_not_agreed",
    [IR_QUANTITY_EXCEEDED] = "quantity_exceeded",
    [IR_AMOUNT_EXCEEDED] = "amount_exceeded",
    [IR_INVOICE_TOO_LATE] = "invoice_too_late",
};

/* the key of a rejection's text in proto/messages.c */
static void message_key(enum invoice_reject r, char *out, size_t n)
{
    snprintf(out, n, "invoice.%s", invoice_reject_code(r));
}

const char *invoice_reject_code(enum invoice_reject r)
{
    return (unsigned)r < IR__COUNT ? reject_codes[r] : "unknown";
}

const char *invoice_reject_message(enum invoice_reject r, enum lang l)
{
    if ((unsigned)r >= IR__COUNT)
        r = IR_UNKNOWN_AGREEMENT;
    char key[48];
    message_key(r, key, sizeof key);
    return message_text(key, l);
}

bool invoice_reject_from_code(const char *code, enum invoice_reject *out)
{
    for (int i = 0; i < IR__COUNT; i++) {
        if (strcmp(code, reject_codes[i]) == 0) {
            *out = (enum invoice_reject)i;
            return true;
        }
    }
    return false;
}

/* ---- parsing ------------------------------------------------------------------------ */

static bool reference_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > INVOICE_REFERENCE_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return false;
    return true;
}

static void get_cents(const cJSON *it, const char *base, const char *name, int64_t max, int64_t min,
                      int64_t *out, struct verrs *e)
{
    char p[PATH];
    jx_path(p, sizeof p, base, name);
    int64_t v;
    if (jx_get_int(it, p, true, &v, e) != JX_OK)
        return;
    if (v < min || v > max)
        verrs_add(e, p, "out_of_range", "must be from %lld to %lld", (long long)min,
                  (long long)max);
    else
        *out = v;
}

static void parse_line(const cJSON *el, const char *base, struct invoice_line *l, struct verrs *e)
{
    if (jx_get_object(el, base, true, e) != JX_OK)
        return;
    struct jx_field f[] = {{"agreement", NULL},   {"code", NULL},       {"quantity", NULL},
                           {"state_cents", NULL}, {"ocmw_cents", NULL}, {"patient_cents", NULL}};
    jx_walk(el, base, f, 6, NULL, e);
    char p[PATH];
    const char *s = NULL;
    jx_path(p, sizeof p, base, "agreement");
    if (jx_get_string(f[0].item, p, true, false, &s, e) == JX_OK) {
        if (ids_registry_number(s, 'A'))
            memcpy(l->agreement, s, 15);
        else
            verrs_add(e, p, "invalid_agreement", "must be an agreement number (A2026-00000042)");
    }
    jx_path(p, sizeof p, base, "code");
    if (jx_get_string(f[1].item, p, true, false, &s, e) == JX_OK) {
        if (tariff_code_valid(s, strlen(s)))
            memcpy(l->code, s, 7);
        else
            verrs_add(e, p, "invalid_code", "must be 6 digits");
    }
    get_cents(f[2].item, base, "quantity", 999, 1, &l->quantity, e);
    get_cents(f[3].item, base, "state_cents", INVOICE_MAX_CENTS, 0, &l->state_cents, e);
    get_cents(f[4].item, base, "ocmw_cents", INVOICE_MAX_CENTS, 0, &l->ocmw_cents, e);
    get_cents(f[5].item, base, "patient_cents", INVOICE_MAX_CENTS, 0, &l->patient_cents, e);
}

enum parse_result invoice_parse(const char *buf, size_t len, struct invoice_input *out,
                                struct verrs *errs)
{
    verrs_init(errs);
    memset(out, 0, sizeof *out);
    bool refused = false;
    cJSON *root = jx_parse_checked(buf, len, errs, &refused);
    if (refused)
        return PARSE_INVALID;
    if (root == NULL || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return PARSE_MALFORMED;
    }
    struct jx_field f[] = {{"reference", NULL}, {"lines", NULL}};
    jx_walk(root, "", f, 2, NULL, errs);
    const char *s = NULL;
    if (jx_get_string(f[0].item, "reference", false, true, &s, errs) == JX_OK) {
        if (reference_valid(s)) {
            out->has_reference = true;
            memcpy(out->reference, s, strlen(s) + 1);
        } else {
            verrs_add(errs, "reference", "invalid_reference",
                      "must be 1 to %d visible ASCII characters", INVOICE_REFERENCE_MAX);
        }
    }
    if (jx_get_array(f[1].item, "lines", true, errs) == JX_OK) {
        int n = cJSON_GetArraySize(f[1].item);
        if (n == 0)
            verrs_add(errs, "lines", "required", "must list at least one line");
        else if (n > INVOICE_MAX_LINES)
            verrs_add(errs, "lines", "too_many", "must list at most %d lines", INVOICE_MAX_LINES);
        int i = 0;
        for (const cJSON *el = f[1].item->child; el && i < INVOICE_MAX_LINES; el = el->next, i++) {
            char base[PATH];
            jx_path_index(base, sizeof base, "lines", (size_t)i);
            parse_line(el, base, &out->lines[i], errs);
        }
        out->n_lines = i;
    }
    cJSON_Delete(root);
    return errs->n > 0 || errs->truncated ? PARSE_INVALID : PARSE_OK;
}

enum parse_result payment_parse(const char *buf, size_t len, pdate today, struct payment_input *out,
                                struct verrs *errs)
{
    verrs_init(errs);
    memset(out, 0, sizeof *out);
    bool refused = false;
    cJSON *root = jx_parse_checked(buf, len, errs, &refused);
    if (refused)
        return PARSE_INVALID;
    if (root == NULL || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return PARSE_MALFORMED;
    }
    struct jx_field f[] = {{"amount_cents", NULL}, {"date", NULL}, {"reference", NULL}};
    jx_walk(root, "", f, 3, NULL, errs);
    get_cents(f[0].item, "", "amount_cents", JX_INT_MAX, 1, &out->amount_cents, errs);
    if (jx_get_date(f[1].item, "date", true, false, &out->date, errs) == JX_OK && out->date > today)
        verrs_add(errs, "date", "date_in_future", "a payment cannot be dated after today");
    const char *s = NULL;
    if (jx_get_string(f[2].item, "reference", true, false, &s, errs) == JX_OK) {
        if (reference_valid(s))
            memcpy(out->reference, s, strlen(s) + 1);
        else
            verrs_add(errs, "reference", "invalid_reference",
                      "must be 1 to %d visible ASCII characters", INVOICE_REFERENCE_MAX);
    }
    cJSON_Delete(root);
    return errs->n > 0 || errs->truncated ? PARSE_INVALID : PARSE_OK;
}

bool month_parse(const char *s, pdate *first)
{
    if (!s || strlen(s) != 7 || s[4] != '-')
        return false;
    char buf[11];
    memcpy(buf, s, 7);
    memcpy(buf + 7, "-01", 4);
    return date_parse(buf, 10, first);
}

/* ---- the check ---------------------------------------------------------------------- */

int64_t invoice_pro_rata(int64_t agreed_cents, int64_t agreed_qty, int64_t billed)
{
    if (agreed_qty <= 0 || agreed_cents <= 0 || billed <= 0)
        return 0;
    /* agreed cents are at most ~10^12 and quantities at most 999 (64 items
     * of one code: < 64 000): the product stays far below 2^63 */
    return agreed_cents * billed / agreed_qty;
}

const struct agreed_item *invoice_item_of(const struct agreement_facts *a, const char *code)
{
    for (int i = 0; a && i < a->n_items && i < INVOICE_MAX_ITEMS; i++)
        if (strcmp(a->items[i].code, code) == 0)
            return &a->items[i];
    return NULL;
}

enum invoice_reject invoice_check_line(const struct invoice_line *l,
                                       const struct agreement_facts *a, int64_t billed_before,
                                       pdate invoice_date)
{
    if (!a || !a->found)
        return IR_UNKNOWN_AGREEMENT;
    if (a->voided)
        return IR_AGREEMENT_VOID;
    if (!a->covered)
        return IR_AGREEMENT_NOT_COVERED;
    const struct agreed_item *it = invoice_item_of(a, l->code);
    if (!it)
        return IR_CODE_NOT_AGREED;
    if (billed_before + l->quantity > it->quantity)
        return IR_QUANTITY_EXCEEDED;
    if (l->state_cents > invoice_pro_rata(it->state_cents, it->quantity, l->quantity) ||
        l->ocmw_cents > invoice_pro_rata(it->ocmw_cents, it->quantity, l->quantity))
        return IR_AMOUNT_EXCEEDED;
    if (a->service_date < date_add_months(invoice_date, -24))
        return IR_INVOICE_TOO_LATE;
    return IR_NONE;
}

static const struct agreement_facts *facts_of(const struct agreement_facts *facts, size_t n,
                                              const char *number)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(facts[i].number, number) == 0)
            return &facts[i];
    return NULL;
}

void invoice_check(const struct invoice_input *in, const struct agreement_facts *facts, size_t n,
                   pdate invoice_date, enum invoice_reject *out)
{
    for (int i = 0; i < in->n_lines; i++) {
        const struct invoice_line *l = &in->lines[i];
        const struct agreement_facts *a = facts_of(facts, n, l->agreement);
        const struct agreed_item *it = a ? invoice_item_of(a, l->code) : NULL;
        int64_t billed = it ? it->billed : 0;
        /* what the earlier lines of this invoice accepted of the same item */
        for (int j = 0; j < i; j++)
            if (out[j] == IR_NONE && strcmp(in->lines[j].agreement, l->agreement) == 0 &&
                strcmp(in->lines[j].code, l->code) == 0)
                billed += in->lines[j].quantity;
        out[i] = invoice_check_line(l, a, billed, invoice_date);
    }
}

const char *invoice_status(const enum invoice_reject *out, int n_lines)
{
    int ok = 0;
    for (int i = 0; i < n_lines; i++)
        ok += out[i] == IR_NONE;
    return ok == n_lines ? "accepted" : ok == 0 ? "rejected" : "partial";
}

char *invoice_encode_answer(const struct invoice_input *in, const enum invoice_reject *out,
                            const char *provider, pdate invoice_date, enum lang l)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    bool ok = jx_add_str(root, "provider", provider) &&
              jx_add_date(root, "invoice_date", invoice_date) &&
              (!in->has_reference || jx_add_str(root, "reference", in->reference)) &&
              jx_add_str(root, "status", invoice_status(out, in->n_lines));
    cJSON *lines = ok ? cJSON_AddArrayToObject(root, "lines") : NULL;
    ok = lines != NULL;
    int64_t st = 0, oc = 0, pa = 0;
    int accepted = 0;
    for (int i = 0; ok && i < in->n_lines; i++) {
        const struct invoice_line *x = &in->lines[i];
        cJSON *o = cJSON_CreateObject();
        ok = o && cJSON_AddItemToArray(lines, o) && jx_add_int(o, "line", i + 1) &&
             jx_add_str(o, "agreement", x->agreement) && jx_add_str(o, "code", x->code) &&
             jx_add_int(o, "quantity", (long long)x->quantity) &&
             jx_add_int(o, "state_cents", (long long)x->state_cents) &&
             jx_add_int(o, "ocmw_cents", (long long)x->ocmw_cents) &&
             jx_add_int(o, "patient_cents", (long long)x->patient_cents) &&
             jx_add_bool(o, "accepted", out[i] == IR_NONE);
        if (ok && out[i] != IR_NONE) {
            cJSON *rj = cJSON_AddObjectToObject(o, "rejected");
            char key[48];
            message_key(out[i], key, sizeof key);
            ok = rj && jx_add_str(rj, "code", invoice_reject_code(out[i])) &&
                 message_add(rj, key, l);
        } else if (ok) {
            accepted++;
            st += x->state_cents;
            oc += x->ocmw_cents;
            pa += x->patient_cents;
        }
    }
    cJSON *t = ok ? cJSON_AddObjectToObject(root, "totals") : NULL;
    ok = t && jx_add_int(t, "lines", in->n_lines) && jx_add_int(t, "accepted_lines", accepted) &&
         jx_add_int(t, "rejected_lines", in->n_lines - accepted) &&
         jx_add_int(t, "state_cents", (long long)st) &&
         jx_add_int(t, "ocmw_cents", (long long)oc) &&
         jx_add_int(t, "patient_cents", (long long)pa);
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return jx_print_free(root);
}
