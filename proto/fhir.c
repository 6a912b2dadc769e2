/*
 * fhir: CoverageEligibilityRequest -> coverage question, recorded answer ->
 * CoverageEligibilityResponse, problem -> OperationOutcome (docs/fhir.md).
 */
#include "fhir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ids.h"
#include "jsonx.h"

#define RT "CoverageEligibilityRequest"

/* ---- request ---------------------------------------------------------------- */

static const cJSON *member(const cJSON *o, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(o, name);
}

/* the array, or NULL when a is not one (for cJSON_ArrayForEach) */
static const cJSON *array_or_null(const cJSON *a)
{
    return cJSON_IsArray(a) ? a : NULL;
}

static const char *str_member(const cJSON *o, const char *name)
{
    const cJSON *m = member(o, name);
    return cJSON_IsString(m) && m->valuestring[0] ? m->valuestring : NULL;
}

/* The code of the first coding of a CodeableConcept with that system:
 * NULL (and an error at path) when there is none. */
static const char *coding_code(const cJSON *cc, const char *system, const char *path,
                               struct verrs *e)
{
    if (!cJSON_IsObject(cc)) {
        verrs_add(e, path, cc ? "wrong_type" : "required", "a CodeableConcept is required");
        return NULL;
    }
    const cJSON *codings = member(cc, "coding");
    const cJSON *c;
    const cJSON *codings_a = array_or_null(codings);
    cJSON_ArrayForEach(c, codings_a)
    {
        const char *s = str_member(c, "system");
        if (s && strcmp(s, system) == 0) {
            const char *code = str_member(c, "code");
            if (code)
                return code;
        }
    }
    char p[96];
    snprintf(p, sizeof p, "%s.coding", path);
    verrs_add(e, p, "required", "a coding with system %.150s and a code is required", system);
    return NULL;
}

/* The SSIN identifier among an array of Identifiers, or NULL. */
static const char *ssin_of(const cJSON *identifiers)
{
    const cJSON *id;
    if (cJSON_IsObject(identifiers)) {
        const char *s = str_member(identifiers, "system");
        return s && strcmp(s, FHIR_SSIN_SYSTEM) == 0 ? str_member(identifiers, "value") : NULL;
    }
    const cJSON *identifiers_a = array_or_null(identifiers);
    cJSON_ArrayForEach(id, identifiers_a)
    {
        const char *s = str_member(id, "system");
        if (s && strcmp(s, FHIR_SSIN_SYSTEM) == 0)
            return str_member(id, "value");
    }
    return NULL;
}

static void parse_patient(const cJSON *root, struct coverage_question *q, struct verrs *e)
{
    const cJSON *pat = member(root, "patient");
    if (!cJSON_IsObject(pat)) {
        verrs_add(e, RT ".patient", pat ? "wrong_type" : "required",
                  "the patient (a Reference) is required");
        return;
    }
    const char *ssin = NULL;
    const char *ref = str_member(pat, "reference");
    if (ref) {
        if (ref[0] != '#') {
            verrs_add(e, RT ".patient.reference", "not_supported",
                      "only a reference to a contained Patient (#id) is supported");
            return;
        }
        const cJSON *c, *contained = member(root, "contained");
        const cJSON *contained_a = array_or_null(contained);
        cJSON_ArrayForEach(c, contained_a)
        {
            const char *rt = str_member(c, "resourceType"), *id = str_member(c, "id");
            if (rt && id && strcmp(rt, "Patient") == 0 && strcmp(id, ref + 1) == 0) {
                ssin = ssin_of(member(c, "identifier"));
                if (!ssin) {
                    verrs_add(
                        e, RT ".contained.where(resourceType='Patient').identifier", "required",
                        "the contained Patient has no identifier with system " FHIR_SSIN_SYSTEM);
                    return;
                }
                break;
            }
        }
        if (!ssin) {
            verrs_add(e, RT ".patient.reference", "unresolved", "no contained Patient has that id");
            return;
        }
    } else {
        ssin = ssin_of(member(pat, "identifier"));
        if (!ssin) {
            verrs_add(e, RT ".patient.identifier", "required",
                      "an identifier with system " FHIR_SSIN_SYSTEM " and a value is required");
            return;
        }
    }
    size_t n = strlen(ssin);
    snprintf(q->ssin, sizeof q->ssin, "%s", ssin);
    q->ssin_valid = n == 11 && ids_ssin_valid(ssin, n);
    if (!q->ssin_valid) /* repeated in the answer and recorded: digits or '?' only (a
                         * multi-byte character cut at 11 bytes is never sent back) */
        for (char *c = q->ssin; *c; c++)
            if (*c < '0' || *c > '9')
                *c = '?';
}

static void parse_purpose(const cJSON *root, struct fhir_request_meta *m, struct verrs *e)
{
    const cJSON *p = member(root, "purpose");
    if (!cJSON_IsArray(p) || cJSON_GetArraySize(p) == 0) {
        verrs_add(e, RT ".purpose", p ? "wrong_type" : "required",
                  "purpose (1 or more codes) is required");
        return;
    }
    int i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, p)
    {
        const char *s = cJSON_IsString(c) ? c->valuestring : "";
        if (strcmp(s, "benefits") == 0)
            m->purpose_benefits = true;
        else if (strcmp(s, "validation") == 0)
            m->purpose_validation = true;
        else if (strcmp(s, "discovery") == 0)
            m->purpose_discovery = true;
        else if (strcmp(s, "auth-requirements") == 0)
            m->purpose_auth = true;
        else {
            char path[64];
            snprintf(path, sizeof path, RT ".purpose[%d]", i);
            verrs_add(e, path, "invalid_code",
                      "auth-requirements, benefits, discovery or validation");
        }
        i++;
    }
    if (e->n == 0 && !m->purpose_benefits && !m->purpose_validation)
        verrs_add(e, RT ".purpose", "not_supported",
                  "this registry answers the purposes benefits and validation: ask one of them");
}

static void parse_items(const cJSON *root, struct coverage_question *q, struct verrs *e)
{
    const cJSON *items = member(root, "item");
    if (!cJSON_IsArray(items) || cJSON_GetArraySize(items) == 0) {
        verrs_add(e, RT ".item", items ? "wrong_type" : "required",
                  "at least one item with the care type as its category is required");
        return;
    }
    bool have_type = false;
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        char path[48], sub[96];
        snprintf(path, sizeof path, RT ".item[%d]", i++);
        if (!cJSON_IsObject(it)) {
            verrs_add(e, path, "wrong_type", "an item is an object");
            continue;
        }
        if (member(it, "modifierExtension")) {
            snprintf(sub, sizeof sub, "%s.modifierExtension", path);
            verrs_add(e, sub, "not_supported", "modifier extensions are not understood");
        }
        snprintf(sub, sizeof sub, "%s.category", path);
        const char *ct = coding_code(member(it, "category"), FHIR_CARE_TYPE_SYSTEM, sub, e);
        enum care_type t;
        if (ct) {
            if (!care_type_from_name(ct, strlen(ct), &t))
                verrs_add(e, sub, "invalid_care_type", "not one of the eight care types");
            else if (have_type && t != q->care_type)
                verrs_add(e, sub, "care_type_mixed",
                          "every item of one request must have the same care type");
            else {
                q->care_type = t;
                have_type = true;
            }
        }
        const cJSON *pos = member(it, "productOrService");
        if (!pos)
            continue; /* the care type only */
        snprintf(sub, sizeof sub, "%s.productOrService", path);
        const char *code = coding_code(pos, FHIR_NOMENCLATURE_SYSTEM, sub, e);
        if (code && !ids_all_digits(code, strlen(code), 6)) {
            verrs_add(e, sub, "invalid_code", "a nomenclature code is 6 digits");
            code = NULL;
        }
        int64_t quantity = 1;
        const cJSON *qty = member(it, "quantity");
        if (qty) {
            snprintf(sub, sizeof sub, "%s.quantity.value", path);
            const cJSON *v = cJSON_IsObject(qty) ? member(qty, "value") : NULL;
            if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int64_t)v->valuedouble) {
                verrs_add(e, sub, "not_integer", "a whole number of services");
                code = NULL;
            } else if (v->valuedouble < 1 || v->valuedouble > 999) {
                verrs_add(e, sub, "out_of_range", "1 to 999");
                code = NULL;
            } else
                quantity = (int64_t)v->valuedouble;
        }
        if (!code)
            continue;
        if (q->n_items == COVERAGE_MAX_ITEMS) {
            verrs_add(e, RT ".item", "too_many", "at most %d items with a productOrService",
                      COVERAGE_MAX_ITEMS);
            return;
        }
        struct coverage_item *ci = &q->items[q->n_items++];
        memcpy(ci->code, code, 7);
        ci->quantity = (int)quantity;
    }
}

enum parse_result fhir_parse_eligibility_request(const char *buf, size_t len,
                                                 struct coverage_question *q,
                                                 struct fhir_request_meta *meta, struct verrs *e)
{
    memset(q, 0, sizeof *q);
    memset(meta, 0, sizeof *meta);
    bool invalid = false;
    cJSON *root = jx_parse_checked(buf, len, e, &invalid);
    if (!root)
        return invalid ? PARSE_INVALID : PARSE_MALFORMED;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return PARSE_MALFORMED;
    }
    const char *rt = str_member(root, "resourceType");
    if (!rt || strcmp(rt, RT) != 0) {
        verrs_add(e, "resourceType", rt ? "wrong_resource" : "required", "the body must be a " RT);
        cJSON_Delete(root);
        return PARSE_INVALID;
    }
    if (member(root, "modifierExtension"))
        verrs_add(e, RT ".modifierExtension", "not_supported",
                  "modifier extensions are not understood");
    const char *status = str_member(root, "status");
    if (!status)
        verrs_add(e, RT ".status", "required", "status is required (active)");
    else if (strcmp(status, "active") != 0)
        verrs_add(e, RT ".status", "invalid_status", "only an active request is answered");
    parse_purpose(root, meta, e);
    parse_patient(root, q, e);
    const char *created = str_member(root, "created");
    pdate ignored;
    if (!created || strlen(created) < 10 || !date_parse(created, 10, &ignored))
        verrs_add(e, RT ".created", created ? "invalid_date" : "required",
                  "created (a dateTime) is required");
    if (!cJSON_IsObject(member(root, "insurer")))
        verrs_add(e, RT ".insurer", "required", "insurer (a Reference) is required");
    if (member(root, "servicedPeriod"))
        verrs_add(e, RT ".servicedPeriod", "not_supported", "ask for one servicedDate");
    const char *sd = str_member(root, "servicedDate");
    if (!sd)
        verrs_add(e, RT ".servicedDate", "required", "servicedDate is required");
    else if (!date_parse(sd, strlen(sd), &q->service_date))
        verrs_add(e, RT ".servicedDate", "invalid_date", "a date, YYYY-MM-DD");
    parse_items(root, q, e);
    const cJSON *ids = member(root, "identifier");
    if (cJSON_IsArray(ids) && cJSON_GetArraySize(ids) > 0) {
        const cJSON *id0 = cJSON_GetArrayItem(ids, 0);
        const char *s = str_member(id0, "system"), *v = str_member(id0, "value");
        if (v && strlen(v) < sizeof meta->id_value && (!s || strlen(s) < sizeof meta->id_system)) {
            meta->has_identifier = true;
            snprintf(meta->id_value, sizeof meta->id_value, "%s", v);
            snprintf(meta->id_system, sizeof meta->id_system, "%s", s ? s : "");
        }
    }
    cJSON_Delete(root);
    return e->n ? PARSE_INVALID : PARSE_OK;
}

/* ---- response --------------------------------------------------------------- */

static cJSON *coding_cc(const char *system, const char *code, const char *text)
{
    cJSON *cc = cJSON_CreateObject();
    cJSON *codings = cJSON_AddArrayToObject(cc, "coding");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToArray(codings, c);
    jx_add_str(c, "system", system);
    jx_add_str(c, "code", code);
    if (text)
        jx_add_str(cc, "text", text);
    return cc;
}

static cJSON *money(int64_t cents)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddNumberToObject(m, "value", (double)cents / 100.0);
    jx_add_str(m, "currency", "EUR");
    return m;
}

static int64_t cents(const cJSON *o, const char *name, bool *ok)
{
    const cJSON *v = member(o, name);
    if (!cJSON_IsNumber(v)) {
        *ok = false;
        return 0;
    }
    return (int64_t)v->valuedouble;
}

static void add_benefit(cJSON *benefits, const char *type, const char *allowed_or_used, int64_t c)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddItemToObject(b, "type", coding_cc(FHIR_BENEFIT_SYSTEM, type, NULL));
    cJSON_AddItemToObject(b, allowed_or_used, money(c));
    cJSON_AddItemToArray(benefits, b);
}

static void add_ext_bool(cJSON *exts, const char *name, const cJSON *v)
{
    if (!cJSON_IsBool(v))
        return;
    cJSON *x = cJSON_CreateObject();
    char url[160];
    snprintf(url, sizeof url, FHIR_EXT_BASE "%s", name);
    jx_add_str(x, "url", url);
    jx_add_bool(x, "valueBoolean", cJSON_IsTrue(v));
    cJSON_AddItemToArray(exts, x);
}

static cJSON *refusal_cc(const cJSON *reason)
{
    const char *code = str_member(reason, "code");
    return coding_cc(FHIR_REFUSAL_SYSTEM, code ? code : "unknown", str_member(reason, "message"));
}

/* The split amounts of one answer item (or the totals) as benefits. */
static bool split_benefits(const cJSON *src, cJSON *benefits)
{
    bool ok = true;
    int64_t fee = cents(src, "fee_cents", &ok), state = cents(src, "state_cents", &ok),
            ocmw = cents(src, "ocmw_cents", &ok), patient = cents(src, "patient_cents", &ok);
    if (!ok)
        return false;
    add_benefit(benefits, "fee", "allowedMoney", fee);
    add_benefit(benefits, "state", "allowedMoney", state);
    add_benefit(benefits, "ocmw", "allowedMoney", ocmw);
    add_benefit(benefits, "patient", "allowedMoney", patient);
    bool sup_ok = true;
    int64_t sup = cents(src, "supplements_cents", &sup_ok);
    if (sup_ok)
        add_benefit(benefits, "supplements", "allowedMoney", sup);
    return true;
}

static cJSON *care_item(const char *care_type, const char *name)
{
    cJSON *it = cJSON_CreateObject();
    cJSON_AddItemToObject(it, "category", coding_cc(FHIR_CARE_TYPE_SYSTEM, care_type, NULL));
    jx_add_str(it, "name", name);
    return it;
}

static bool add_cap(cJSON *items, const cJSON *caps, const char *name, const char *care_type)
{
    const cJSON *c = member(caps, name);
    if (!c)
        return true;
    bool ok = true;
    int64_t cap = cents(c, "cap_cents", &ok), used = cents(c, "used_cents", &ok),
            granted = cents(c, "granted_cents", &ok), remaining = cents(c, "remaining_cents", &ok);
    if (!ok)
        return false;
    char item_name[48];
    snprintf(item_name, sizeof item_name, "%s_cap", name);
    cJSON *it = care_item(care_type, item_name);
    cJSON *term = cJSON_AddObjectToObject(it, "term");
    jx_add_str(term, "text",
               strcmp(name, "patient_share") == 0 ? "calendar month of the service date"
                                                  : "this answer");
    cJSON *b = cJSON_AddArrayToObject(it, "benefit");
    cJSON *cap_b = cJSON_CreateObject();
    cJSON_AddItemToObject(cap_b, "type", coding_cc(FHIR_BENEFIT_SYSTEM, "cap", NULL));
    cJSON_AddItemToObject(cap_b, "allowedMoney", money(cap));
    cJSON_AddItemToObject(cap_b, "usedMoney", money(used));
    cJSON_AddItemToArray(b, cap_b);
    add_benefit(b, "granted", "usedMoney", granted);
    add_benefit(b, "remaining", "allowedMoney", remaining);
    cJSON_AddItemToArray(items, it);
    return true;
}

static void add_purpose(cJSON *root, const struct fhir_request_meta *m)
{
    cJSON *p = cJSON_AddArrayToObject(root, "purpose");
    if (m->purpose_auth)
        cJSON_AddItemToArray(p, cJSON_CreateString("auth-requirements"));
    if (m->purpose_benefits)
        cJSON_AddItemToArray(p, cJSON_CreateString("benefits"));
    if (m->purpose_discovery)
        cJSON_AddItemToArray(p, cJSON_CreateString("discovery"));
    if (m->purpose_validation)
        cJSON_AddItemToArray(p, cJSON_CreateString("validation"));
}

static void add_identifier_ref(cJSON *parent, const char *name, const char *system,
                               const char *value, const char *display)
{
    cJSON *ref = cJSON_AddObjectToObject(parent, name);
    if (value) {
        cJSON *id = cJSON_AddObjectToObject(ref, "identifier");
        if (system && system[0])
            jx_add_str(id, "system", system);
        jx_add_str(id, "value", value);
    }
    if (display)
        jx_add_str(ref, "display", display);
}

static bool build_items(cJSON *items, const cJSON *answer, const char *care_type)
{
    const cJSON *ai;
    cJSON_ArrayForEach(ai, member(answer, "items"))
    {
        const char *code = str_member(ai, "code");
        if (!code)
            return false;
        cJSON *it = cJSON_CreateObject();
        cJSON_AddItemToArray(items, it);
        cJSON_AddItemToObject(it, "productOrService",
                              coding_cc(FHIR_NOMENCLATURE_SYSTEM, code, NULL));
        const cJSON *qty = member(ai, "quantity");
        if (cJSON_IsNumber(qty)) {
            char unit[32];
            snprintf(unit, sizeof unit, "quantity %d", (int)qty->valuedouble);
            jx_add_str(it, "unit", unit);
        }
        const cJSON *refused = member(ai, "refused");
        if (refused) {
            jx_add_bool(it, "excluded", true);
            const char *msg = str_member(refused, "message");
            if (msg)
                jx_add_str(it, "description", msg);
            cJSON *exts = cJSON_AddArrayToObject(it, "extension");
            cJSON *x = cJSON_CreateObject();
            jx_add_str(x, "url", FHIR_EXT_BASE "refusal");
            cJSON_AddItemToObject(x, "valueCodeableConcept", refusal_cc(refused));
            cJSON_AddItemToArray(exts, x);
            continue;
        }
        jx_add_bool(it, "excluded", false);
        if (!split_benefits(ai, cJSON_AddArrayToObject(it, "benefit")))
            return false;
    }
    const cJSON *totals = member(answer, "totals");
    if (totals) {
        cJSON *it = care_item(care_type, "totals");
        cJSON_AddItemToArray(items, it);
        if (!split_benefits(totals, cJSON_AddArrayToObject(it, "benefit")))
            return false;
    }
    const cJSON *caps = member(answer, "caps");
    return add_cap(items, caps, "patient_share", care_type) &&
           add_cap(items, caps, "supplements", care_type);
}

char *fhir_eligibility_response(const char *answer_text, size_t answer_len,
                                const struct coverage_question *q,
                                const struct fhir_request_meta *meta, const char *created)
{
    cJSON *answer = cJSON_ParseWithLength(answer_text, answer_len);
    const char *agreement = str_member(answer, "agreement");
    const cJSON *covered = member(answer, "covered");
    if (!agreement || !cJSON_IsBool(covered)) {
        cJSON_Delete(answer);
        return NULL;
    }
    bool is_covered = cJSON_IsTrue(covered);
    const char *care_type = care_type_name(q->care_type);
    const cJSON *decision = member(answer, "decision"), *cover = member(answer, "cover"),
                *reason = member(answer, "reason");

    cJSON *r = cJSON_CreateObject();
    jx_add_str(r, "resourceType", "CoverageEligibilityResponse");
    jx_add_str(r, "id", agreement);
    cJSON *ids = cJSON_AddArrayToObject(r, "identifier");
    cJSON *id = cJSON_CreateObject();
    jx_add_str(id, "system", FHIR_AGREEMENT_SYSTEM);
    jx_add_str(id, "value", agreement);
    cJSON_AddItemToArray(ids, id);
    jx_add_str(r, "status", "active");
    add_purpose(r, meta);
    add_identifier_ref(r, "patient", FHIR_SSIN_SYSTEM, q->ssin, NULL);
    jx_add_date(r, "servicedDate", q->service_date);
    jx_add_str(r, "created", created);
    if (meta->has_identifier)
        add_identifier_ref(r, "request", meta->id_system, meta->id_value, NULL);
    else
        add_identifier_ref(r, "request", NULL, NULL, "the submitted " RT);
    jx_add_str(r, "outcome", is_covered ? "complete" : "error");
    const char *why = str_member(reason, "message");
    jx_add_str(r, "disposition", is_covered ? "covered" : why ? why : "not covered");
    const char *ocmw = str_member(decision, "ocmw");
    if (ocmw)
        add_identifier_ref(r, "insurer", FHIR_KBO_SYSTEM, ocmw, "OCMW/CPAS");
    else
        add_identifier_ref(r, "insurer", NULL, NULL, "medaid registry (no decision found)");
    jx_add_str(r, "preAuthRef", agreement);

    cJSON *insurance = cJSON_AddArrayToObject(r, "insurance");
    cJSON *ins = cJSON_CreateObject();
    cJSON_AddItemToArray(insurance, ins);
    const char *did = str_member(decision, "id");
    const cJSON *dver = member(decision, "version");
    if (did) {
        char disp[64];
        snprintf(disp, sizeof disp, "decision %s version %d", did,
                 cJSON_IsNumber(dver) ? (int)dver->valuedouble : 0);
        add_identifier_ref(ins, "coverage", FHIR_DECISION_SYSTEM, did, disp);
    } else {
        add_identifier_ref(ins, "coverage", NULL, NULL, "no medical-aid decision for this date");
    }
    jx_add_bool(ins, "inforce", is_covered);
    bool ok = true;
    if (cover) {
        const cJSON *period = member(cover, "period");
        const char *start = str_member(period, "start"), *end = str_member(period, "end");
        if (start && end) {
            cJSON *bp = cJSON_AddObjectToObject(ins, "benefitPeriod");
            jx_add_str(bp, "start", start);
            jx_add_str(bp, "end", end);
        }
    }
    if (cover || cJSON_IsNumber(dver)) {
        cJSON *exts = cJSON_AddArrayToObject(ins, "extension");
        if (cJSON_IsNumber(dver)) {
            cJSON *x = cJSON_CreateObject();
            jx_add_str(x, "url", FHIR_EXT_BASE "decision-version");
            jx_add_int(x, "valueInteger", (long long)dver->valuedouble);
            cJSON_AddItemToArray(exts, x);
        }
        add_ext_bool(exts, "prescription-required", member(cover, "prescription_required"));
        add_ext_bool(exts, "convention", member(cover, "convention"));
        add_ext_bool(exts, "urgent-attestation-required",
                     member(cover, "urgent_attestation_required"));
    }
    if (member(answer, "items") || member(answer, "caps")) {
        cJSON *items = cJSON_AddArrayToObject(ins, "item");
        ok = build_items(items, answer, care_type);
    } else if (is_covered) {
        cJSON *items = cJSON_AddArrayToObject(ins, "item");
        cJSON_AddItemToArray(items, care_item(care_type, care_type));
    }
    if (!is_covered) {
        cJSON *errs = cJSON_AddArrayToObject(r, "error");
        cJSON *err = cJSON_CreateObject();
        cJSON_AddItemToObject(err, "code", refusal_cc(reason));
        cJSON_AddItemToArray(errs, err);
    }
    if (cJSON_IsObject(member(answer, "signature")) && ok) {
        /* The agreement as recorded and signed (docs/verifying.md): what
         * `medaid agreement verify` or openssl checks; the resource itself is
         * derived from it and carries no signature of its own. */
        char *text = malloc(answer_len + 1);
        if (text) {
            memcpy(text, answer_text, answer_len);
            text[answer_len] = '\0';
            cJSON *exts = cJSON_AddArrayToObject(r, "extension");
            cJSON *x = cJSON_CreateObject();
            jx_add_str(x, "url", FHIR_EXT_BASE "signed-agreement");
            jx_add_str(x, "valueString", text);
            cJSON_AddItemToArray(exts, x);
            free(text);
        } else {
            ok = false;
        }
    }
    cJSON_Delete(answer);
    if (!ok) {
        cJSON_Delete(r);
        return NULL;
    }
    return jx_print_free(r);
}

/* ---- OperationOutcome ----------------------------------------------------------- */

const char *fhir_issue_type(enum problem p)
{
    switch (problem_status(p)) {
    case 400:
        return p == PROBLEM_MALFORMED_JSON ? "structure" : "invalid";
    case 403:
        return "forbidden";
    case 404:
        return "not-found";
    case 405:
    case 415:
    case 501:
        return "not-supported";
    case 408:
        return "timeout";
    case 409:
        return "conflict";
    case 412:
    case 428:
        return "conflict";
    case 413:
    case 431:
        return "too-costly";
    case 422:
        return "invalid";
    case 429:
        return "throttled";
    case 503:
        return "transient";
    default:
        return "exception";
    }
}

static cJSON *issue(enum problem p, const char *title, const char *field_code, const char *diag,
                    const char *expression)
{
    cJSON *is = cJSON_CreateObject();
    jx_add_str(is, "severity", problem_status(p) >= 500 ? "fatal" : "error");
    const char *type = fhir_issue_type(p);
    if (field_code && strcmp(field_code, "required") == 0)
        type = "required";
    jx_add_str(is, "code", type);
    cJSON *details = coding_cc(FHIR_PROBLEM_SYSTEM, problem_code(p), title);
    if (field_code) {
        cJSON *c = cJSON_CreateObject();
        jx_add_str(c, "system", FHIR_PROBLEM_SYSTEM "-field");
        jx_add_str(c, "code", field_code);
        cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(details, "coding"), c);
    }
    cJSON_AddItemToObject(is, "details", details);
    if (diag && diag[0])
        jx_add_str(is, "diagnostics", diag);
    if (expression && expression[0]) {
        cJSON *ex = cJSON_AddArrayToObject(is, "expression");
        cJSON_AddItemToArray(ex, cJSON_CreateString(expression));
    }
    return is;
}

char *fhir_operation_outcome(enum problem p, const char *detail, const struct verrs *errs,
                             enum lang l)
{
    const char *title = message_text(problem_code(p), l);
    if (!title)
        title = problem_title(p);
    cJSON *o = cJSON_CreateObject();
    jx_add_str(o, "resourceType", "OperationOutcome");
    cJSON *issues = cJSON_AddArrayToObject(o, "issue");
    if (errs && errs->n > 0) {
        for (int i = 0; i < errs->n; i++) {
            const struct verr *v = &errs->items[i];
            cJSON_AddItemToArray(issues, issue(p, title, v->code, v->message, v->field));
        }
    } else {
        cJSON_AddItemToArray(issues, issue(p, title, NULL, detail ? detail : title, NULL));
    }
    return jx_print_free(o);
}

/* ---- CapabilityStatement ---------------------------------------------------------- */

char *fhir_capability_statement(const char *date, const char *version)
{
    cJSON *c = cJSON_CreateObject();
    jx_add_str(c, "resourceType", "CapabilityStatement");
    jx_add_str(c, "status", "active");
    jx_add_str(c, "date", date);
    jx_add_str(c, "publisher", "medaid");
    jx_add_str(c, "kind", "instance");
    cJSON *sw = cJSON_AddObjectToObject(c, "software");
    jx_add_str(sw, "name", "medaidd");
    jx_add_str(sw, "version", version);
    cJSON *impl = cJSON_AddObjectToObject(c, "implementation");
    jx_add_str(impl, "description",
               "medaid registry of medical-aid decisions: coverage eligibility (docs/fhir.md)");
    jx_add_str(c, "fhirVersion", "4.0.1");
    cJSON *fmt = cJSON_AddArrayToObject(c, "format");
    cJSON_AddItemToArray(fmt, cJSON_CreateString("json"));
    cJSON *rest = cJSON_AddArrayToObject(c, "rest");
    cJSON *srv = cJSON_CreateObject();
    cJSON_AddItemToArray(rest, srv);
    jx_add_str(srv, "mode", "server");
    cJSON *sec = cJSON_AddObjectToObject(srv, "security");
    jx_add_bool(sec, "cors", false);
    jx_add_str(sec, "description",
               "Mutual TLS: every request, this one included, needs a client certificate "
               "registered with the registry; $submit needs the role provider, whose "
               "organisation is taken from the certificate.");
    cJSON *res = cJSON_AddArrayToObject(srv, "resource");
    cJSON *cer = cJSON_CreateObject();
    cJSON_AddItemToArray(res, cer);
    jx_add_str(cer, "type", "CoverageEligibilityRequest");
    cJSON *ops = cJSON_AddArrayToObject(cer, "operation");
    cJSON *op = cJSON_CreateObject();
    cJSON_AddItemToArray(ops, op);
    jx_add_str(op, "name", "submit");
    jx_add_str(op, "definition", FHIR_SUBMIT_DEFINITION);
    jx_add_str(op, "documentation",
               "POST a CoverageEligibilityRequest; the answer is a CoverageEligibilityResponse "
               "recorded as an agreement (preAuthRef) before it is sent");
    return jx_print_free(c);
}

bool fhir_path(const char *path)
{
    return path && strncmp(path, "/fhir", 5) == 0 && (path[5] == '\0' || path[5] == '/');
}
