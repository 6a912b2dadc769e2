/*
 * decision: parse, validate and encode the decision document (see decision.h).
 *
 * Per-field error codes (struct verr.code) this module produces; stable, part
 * of the wire contract (docs list them):
 *
 *   required                 a required field is absent (or null where null is not allowed)
 *   wrong_type               the JSON type is wrong (string expected, got a number, ...)
 *   unknown_field            a member that the document does not define
 *   duplicate_field          the same key appears twice in one object
 *   read_only_field          id, version, status, ocmw, recorded_at: set by the registry
 *   not_integer              a number with a fractional part where an integer is expected
 *   out_of_range             an integer beyond +-(2^53 - 1), or a cap below 1
 *   invalid_utf8             a string that is not valid UTF-8
 *   control_character        a string with a control character (U+0000-U+001F, U+007F-U+009F)
 *   too_short                an empty string where one character at least is needed
 *   too_long                 a string longer than allowed (reference: 64 bytes)
 *   too_few                  an empty list where one element at least is needed
 *   too_many                 a list longer than allowed (covers 8, providers 64, types 16)
 *   invalid_value            not one of the allowed words (kind, care_type, none|full|partial)
 *   invalid_ssin             beneficiary.ssin fails the SSIN check
 *   invalid_date             not a calendar date YYYY-MM-DD in 1900-9999
 *   death_date_in_future     beneficiary.death_date after today
 *   period_reversed          a period whose start is after its end
 *   start_too_early          period.start more than 60 days before today
 *   period_too_long          period longer than one year
 *   not_allowed_for_principle  state_share or covers on a principle decision
 *   invalid_percentage       a state percentage other than 0, 50 or 100
 *   duplicate_care_type      two covers with the same care type
 *   hospitalisation_requires_ambulatory  hospitalisation covered without ambulatory_hospital
 *   cover_outside_period     a cover's period not inside the decision's period
 *   cap_required             partial without its cap (or without allowed_supplement_types)
 *   cap_not_allowed          a cap (or supplement type list) while the part is not partial
 *   supplements_not_allowed  supplements partial, a supplements cap or a type list on a
 *                            non-hospital cover
 *   invalid_supplement_type  a supplement type not matching [a-z0-9_]{1,32}
 *   duplicate_supplement_type  the same supplement type twice
 *   invalid_provider         a designated provider that is not a NIHII (or, for
 *                            medical_transport and prosthesis, KBO) number
 *   duplicate_provider       the same provider twice
 */
#include "decision.h"
#include "lifecycle.h"

#include <stdio.h>
#include <string.h>

#include "ids.h"
#include "jsonx.h"

static const char *const care_names[CT__COUNT] = {
    [CT_HOSPITALISATION] = "hospitalisation",
    [CT_AMBULATORY_HOSPITAL] = "ambulatory_hospital",
    [CT_GENERAL_PRACTICE] = "general_practice",
    [CT_PARAMEDICAL] = "paramedical",
    [CT_PHARMACY] = "pharmacy",
    [CT_PROSTHESIS] = "prosthesis",
    [CT_MEDICAL_TRANSPORT] = "medical_transport",
    [CT_MISCELLANEOUS] = "miscellaneous",
};
static const char *const domain_names[SD__COUNT] = {
    [SD_HOSPITALISATION] = "hospitalisation",
    [SD_AMBULATORY_HOSPITAL] = "ambulatory_hospital",
    [SD_OTHER] = "other",
};
static const char *const status_names[] = {
    [DS_ACTIVE] = "active", [DS_SUSPENDED] = "suspended", [DS_STOPPED] = "stopped"};
static const char *const pays_names[] = {
    [PAYS_NONE] = "none", [PAYS_FULL] = "full", [PAYS_PARTIAL] = "partial"};
static const char *const kind_names[] = {[DK_PRINCIPLE] = "principle", [DK_COVERAGE] = "coverage"};

static int lookup(const char *const *names, int n, const char *s, size_t len)
{
    if (s == NULL)
        return -1;
    for (int i = 0; i < n; i++)
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
            return i;
    return -1;
}

const char *care_type_name(enum care_type t)
{
    return (unsigned)t < CT__COUNT ? care_names[t] : "unknown";
}

bool care_type_from_name(const char *s, size_t len, enum care_type *out)
{
    int i = lookup(care_names, CT__COUNT, s, len);
    if (i < 0)
        return false;
    *out = (enum care_type)i;
    return true;
}

enum state_domain care_type_domain(enum care_type t)
{
    switch (t) {
    case CT_HOSPITALISATION:
        return SD_HOSPITALISATION;
    case CT_AMBULATORY_HOSPITAL:
        return SD_AMBULATORY_HOSPITAL;
    default:
        return SD_OTHER;
    }
}

bool care_type_is_hospital(enum care_type t)
{
    return t == CT_HOSPITALISATION || t == CT_AMBULATORY_HOSPITAL;
}

bool care_type_allows_kbo_provider(enum care_type t)
{
    return t == CT_MEDICAL_TRANSPORT || t == CT_PROSTHESIS;
}

const char *decision_kind_name(enum decision_kind k)
{
    return (unsigned)k <= DK_COVERAGE ? kind_names[k] : "unknown";
}

const char *decision_status_name(enum decision_status s)
{
    return (unsigned)s <= DS_STOPPED ? status_names[s] : "unknown";
}

bool decision_status_from_name(const char *s, size_t len, enum decision_status *out)
{
    int i = lookup(status_names, 3, s, len);
    if (i < 0)
        return false;
    *out = (enum decision_status)i;
    return true;
}

const char *pays_name(enum pays p)
{
    return (unsigned)p <= PAYS_PARTIAL ? pays_names[p] : "unknown";
}

const struct cover *decision_cover(const struct decision *d, enum care_type t)
{
    for (int i = 0; i < d->n_covers && i < CT__COUNT; i++)
        if (d->covers[i].care_type == t)
            return &d->covers[i];
    return NULL;
}

/* ---- parsing -------------------------------------------------------------- */

struct ctx {
    bool stored; /* decision_parse_stored: structure only, no date relations */
    pdate today;
    struct verrs *e;
    const struct decision *current; /* decision_parse_update: the version it replaces */
};

#define PATH 96

/* a string member that must be one of names[]; returns the index or -1 */
static int get_word(const struct ctx *c, const cJSON *it, const char *path,
                    const char *const *names, int n)
{
    const char *s = NULL;
    if (jx_get_string(it, path, true, false, &s, c->e) != JX_OK)
        return -1;
    int i = lookup(names, n, s, strlen(s));
    if (i < 0) {
        char list[200] = "";
        for (int k = 0; k < n; k++) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof list - l, "%s%s", k ? ", " : "", names[k]);
        }
        verrs_add(c->e, path, "invalid_value", "must be one of: %s", list);
    }
    return i;
}

/* {"start","end"}; returns true when both dates are valid */
static bool parse_period(const struct ctx *c, const cJSON *it, const char *path, struct period *p)
{
    if (jx_get_object(it, path, true, c->e) != JX_OK)
        return false;
    struct jx_field f[] = {{"start", NULL}, {"end", NULL}};
    jx_walk(it, path, f, 2, NULL, c->e);
    char ps[PATH], pe[PATH];
    jx_path(ps, sizeof ps, path, "start");
    jx_path(pe, sizeof pe, path, "end");
    bool ok = jx_get_date(f[0].item, ps, true, false, &p->start, c->e) == JX_OK;
    ok = (jx_get_date(f[1].item, pe, true, false, &p->end, c->e) == JX_OK) && ok;
    if (ok && p->start > p->end && !c->stored) {
        char a[PDATE_STRLEN + 1], b[PDATE_STRLEN + 1];
        date_format(p->start, a);
        date_format(p->end, b);
        verrs_add(c->e, path, "period_reversed", "start %s is after end %s", a, b);
        return false;
    }
    return ok;
}

static bool cents_cap(const struct ctx *c, const cJSON *it, const char *path, int64_t *out)
{
    if (jx_get_int(it, path, true, out, c->e) != JX_OK)
        return false;
    if (*out < 1) {
        verrs_add(c->e, path, "out_of_range", "must be at least 1 cent");
        return false;
    }
    return true;
}

bool supplement_type_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static void parse_supplement_types(const struct ctx *c, const cJSON *it, const char *path,
                                   struct cover *cv)
{
    if (jx_get_array(it, path, true, c->e) != JX_OK)
        return;
    int n = cJSON_GetArraySize(it);
    if (n < 1) {
        verrs_add(c->e, path, "too_few", "must list at least one supplement type");
        return;
    }
    if (n > MAX_SUPPLEMENT_TYPES) {
        verrs_add(c->e, path, "too_many", "must list at most %d supplement types",
                  MAX_SUPPLEMENT_TYPES);
        return;
    }
    size_t i = 0;
    for (const cJSON *el = it->child; el != NULL; el = el->next, i++) {
        char p[PATH];
        jx_path_index(p, sizeof p, path, i);
        const char *s = NULL;
        if (jx_get_string(el, p, true, false, &s, c->e) != JX_OK)
            continue;
        if (!supplement_type_valid(s)) {
            verrs_add(c->e, p, "invalid_supplement_type",
                      "must be 1 to 32 characters among a-z, 0-9 and _");
            continue;
        }
        bool dup = false;
        for (int k = 0; k < cv->n_supplement_types; k++)
            if (strcmp(cv->supplement_types[k], s) == 0)
                dup = true;
        if (dup) {
            verrs_add(c->e, p, "duplicate_supplement_type", "\"%s\" is listed twice", s);
            continue;
        }
        snprintf(cv->supplement_types[cv->n_supplement_types++], 33, "%s", s);
    }
}

static void parse_providers(const struct ctx *c, const cJSON *it, const char *path,
                            struct cover *cv, bool care_ok)
{
    enum jx_res r = jx_get_array(it, path, false, c->e);
    if (r != JX_OK)
        return;
    int n = cJSON_GetArraySize(it);
    if (n > MAX_DESIGNATED) {
        verrs_add(c->e, path, "too_many", "must list at most %d providers", MAX_DESIGNATED);
        return;
    }
    /* an unknown care type accepts both forms, to report one error, not two */
    bool kbo = !care_ok || care_type_allows_kbo_provider(cv->care_type);
    size_t i = 0;
    for (const cJSON *el = it->child; el != NULL; el = el->next, i++) {
        char p[PATH];
        jx_path_index(p, sizeof p, path, i);
        const char *s = NULL;
        if (jx_get_string(el, p, true, false, &s, c->e) != JX_OK)
            continue;
        size_t len = strlen(s);
        bool valid = ids_nihii_valid(s, len) || (kbo && ids_kbo_valid(s, len));
        if (!valid) {
            if (kbo)
                verrs_add(c->e, p, "invalid_provider",
                          "must be a NIHII number (11 digits) or a KBO number (10 digits "
                          "with a valid check)");
            else
                verrs_add(c->e, p, "invalid_provider",
                          "must be a NIHII number (11 digits) for care type %s",
                          care_type_name(cv->care_type));
            continue;
        }
        bool dup = false;
        for (int k = 0; k < cv->n_designated; k++)
            if (strcmp(cv->designated[k], s) == 0)
                dup = true;
        if (dup) {
            verrs_add(c->e, p, "duplicate_provider", "provider %s is listed twice", s);
            continue;
        }
        snprintf(cv->designated[cv->n_designated++], 12, "%s", s);
    }
}

static void parse_cover(const struct ctx *c, const cJSON *it, const char *path,
                        const struct decision *d, bool period_ok, struct cover *cv, bool *care_ok)
{
    *care_ok = false;
    if (jx_get_object(it, path, true, c->e) != JX_OK)
        return;
    enum { F_CARE, F_PERIOD, F_PAYS, F_PSCAP, F_SUPCAP, F_SUPTYPES, F_PRESC, F_CONV, F_PROV, F_N };
    struct jx_field f[F_N] = {
        [F_CARE] = {"care_type", NULL},
        [F_PERIOD] = {"period", NULL},
        [F_PAYS] = {"ocmw_pays", NULL},
        [F_PSCAP] = {"patient_share_cap_cents", NULL},
        [F_SUPCAP] = {"supplements_cap_cents", NULL},
        [F_SUPTYPES] = {"allowed_supplement_types", NULL},
        [F_PRESC] = {"prescription_required", NULL},
        [F_CONV] = {"convention", NULL},
        [F_PROV] = {"designated_providers", NULL},
    };
    jx_walk(it, path, f, F_N, NULL, c->e);
    char p[PATH];

    jx_path(p, sizeof p, path, "care_type");
    int ct = get_word(c, f[F_CARE].item, p, care_names, CT__COUNT);
    if (ct >= 0) {
        cv->care_type = (enum care_type)ct;
        *care_ok = true;
    }
    bool hospital = *care_ok && care_type_is_hospital(cv->care_type);

    jx_path(p, sizeof p, path, "period");
    if (parse_period(c, f[F_PERIOD].item, p, &cv->period) && period_ok && !c->stored &&
        (cv->period.start < d->period.start || cv->period.end > d->period.end)) {
        char a[PDATE_STRLEN + 1], b[PDATE_STRLEN + 1];
        date_format(d->period.start, a);
        date_format(d->period.end, b);
        verrs_add(c->e, p, "cover_outside_period", "must lie within the decision period %s to %s",
                  a, b);
    }

    /* ocmw_pays */
    int ins = -1, ps = -1, sup = -1;
    jx_path(p, sizeof p, path, "ocmw_pays");
    if (jx_get_object(f[F_PAYS].item, p, true, c->e) == JX_OK) {
        struct jx_field pf[] = {
            {"insurance_part", NULL}, {"patient_share", NULL}, {"supplements", NULL}};
        jx_walk(f[F_PAYS].item, p, pf, 3, NULL, c->e);
        char q[PATH];
        jx_path(q, sizeof q, p, "insurance_part");
        ins = get_word(c, pf[0].item, q, pays_names, 3);
        jx_path(q, sizeof q, p, "patient_share");
        ps = get_word(c, pf[1].item, q, pays_names, 3);
        jx_path(q, sizeof q, p, "supplements");
        sup = get_word(c, pf[2].item, q, pays_names, 3);
        if (ins >= 0)
            cv->insurance_part = (enum pays)ins;
        if (ps >= 0)
            cv->patient_share = (enum pays)ps;
        if (sup >= 0) {
            cv->supplements = (enum pays)sup;
            if (sup == PAYS_PARTIAL && *care_ok && !hospital)
                verrs_add(c->e, q, "supplements_not_allowed",
                          "may be partial only on hospitalisation and ambulatory_hospital "
                          "covers");
        }
    }

    /* patient share cap: exactly when patient_share is partial */
    jx_path(p, sizeof p, path, "patient_share_cap_cents");
    if (ps == PAYS_PARTIAL) {
        if (f[F_PSCAP].item == NULL)
            verrs_add(c->e, p, "cap_required",
                      "is required when ocmw_pays.patient_share is "
                      "partial");
        else if (cents_cap(c, f[F_PSCAP].item, p, &cv->patient_share_cap_cents))
            cv->has_patient_share_cap = true;
    } else if (f[F_PSCAP].item != NULL && ps >= 0) {
        verrs_add(c->e, p, "cap_not_allowed",
                  "is allowed only when ocmw_pays.patient_share is partial (it is %s)",
                  pays_names[ps]);
    }

    /* supplements cap and types: hospital covers with supplements partial */
    const int sf[2] = {F_SUPCAP, F_SUPTYPES};
    for (int k = 0; k < 2; k++) {
        const cJSON *v = f[sf[k]].item;
        jx_path(p, sizeof p, path, f[sf[k]].name);
        if (!*care_ok)
            continue; /* the care type error is enough */
        if (!hospital) {
            if (v != NULL)
                verrs_add(c->e, p, "supplements_not_allowed",
                          "is allowed only on hospitalisation and ambulatory_hospital covers");
            continue;
        }
        if (sup == PAYS_PARTIAL) {
            if (v == NULL)
                verrs_add(c->e, p, "cap_required",
                          "is required when ocmw_pays.supplements is partial");
            else if (k == 0 && cents_cap(c, v, p, &cv->supplements_cap_cents))
                cv->has_supplements_cap = true;
            else if (k == 1)
                parse_supplement_types(c, v, p, cv);
        } else if (v != NULL && sup >= 0) {
            verrs_add(c->e, p, "cap_not_allowed",
                      "is allowed only when ocmw_pays.supplements is partial (it is %s)",
                      pays_names[sup]);
        }
    }

    jx_path(p, sizeof p, path, "prescription_required");
    jx_get_bool(f[F_PRESC].item, p, false, &cv->prescription_required, c->e);
    jx_path(p, sizeof p, path, "convention");
    jx_get_bool(f[F_CONV].item, p, false, &cv->convention, c->e);
    jx_path(p, sizeof p, path, "designated_providers");
    parse_providers(c, f[F_PROV].item, p, cv, *care_ok);
}

static void parse_state_share(const struct ctx *c, const cJSON *it, struct decision *d)
{
    if (jx_get_object(it, "state_share", true, c->e) != JX_OK)
        return;
    struct jx_field f[SD__COUNT];
    for (int i = 0; i < SD__COUNT; i++)
        f[i] = (struct jx_field){domain_names[i], NULL};
    jx_walk(it, "state_share", f, SD__COUNT, NULL, c->e);
    for (int i = 0; i < SD__COUNT; i++) {
        char p[PATH];
        jx_path(p, sizeof p, "state_share", domain_names[i]);
        if (jx_get_object(f[i].item, p, true, c->e) != JX_OK)
            continue;
        struct jx_field g[] = {{"insurance_pct", NULL}, {"patient_share_pct", NULL}};
        jx_walk(f[i].item, p, g, 2, NULL, c->e);
        int *dst[2] = {&d->state_share[i].insurance_pct, &d->state_share[i].patient_share_pct};
        for (int k = 0; k < 2; k++) {
            char q[PATH];
            jx_path(q, sizeof q, p, g[k].name);
            int64_t v;
            if (jx_get_int(g[k].item, q, true, &v, c->e) != JX_OK)
                continue;
            if (v != 0 && v != 50 && v != 100) {
                verrs_add(c->e, q, "invalid_percentage", "must be 0, 50 or 100 (got %lld)",
                          (long long)v);
                continue;
            }
            *dst[k] = (int)v;
        }
    }
}

static void parse_covers(const struct ctx *c, const cJSON *it, struct decision *d, bool period_ok)
{
    if (jx_get_array(it, "covers", true, c->e) != JX_OK)
        return;
    int n = cJSON_GetArraySize(it);
    if (n < 1) {
        verrs_add(c->e, "covers", "too_few", "a coverage decision must have at least one cover");
        return;
    }
    if (n > CT__COUNT) {
        verrs_add(c->e, "covers", "too_many", "must have at most %d covers (one per care type)",
                  CT__COUNT);
        return;
    }
    bool seen[CT__COUNT] = {false};
    size_t i = 0;
    for (const cJSON *el = it->child; el != NULL; el = el->next, i++) {
        char p[PATH];
        jx_path_index(p, sizeof p, "covers", i);
        struct cover *cv = &d->covers[d->n_covers];
        memset(cv, 0, sizeof *cv);
        bool care_ok;
        parse_cover(c, el, p, d, period_ok, cv, &care_ok);
        if (!care_ok)
            continue;
        if (seen[cv->care_type]) {
            char q[PATH];
            jx_path(q, sizeof q, p, "care_type");
            verrs_add(c->e, q, "duplicate_care_type", "%s is covered twice",
                      care_type_name(cv->care_type));
            continue;
        }
        seen[cv->care_type] = true;
        d->n_covers++;
    }
    if (seen[CT_HOSPITALISATION] && !seen[CT_AMBULATORY_HOSPITAL])
        verrs_add(c->e, "covers", "hospitalisation_requires_ambulatory",
                  "a decision that covers hospitalisation must also cover ambulatory_hospital");
}

static bool printable_ascii(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n < 1 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return false;
    return true;
}

/* id, version, status, ocmw, recorded_at (stored documents only) */
static void parse_meta(const struct ctx *c, struct jx_field *m, struct decision *d)
{
    bool any = false;
    for (int i = 0; i < 5; i++)
        any = any || m[i].item != NULL;
    if (!any)
        return;
    d->has_meta = true;
    const char *s = NULL;
    if (jx_get_string(m[0].item, "id", true, false, &s, c->e) == JX_OK) {
        if (printable_ascii(s, sizeof d->id - 1))
            snprintf(d->id, sizeof d->id, "%s", s);
        else
            verrs_add(c->e, "id", "invalid_value", "is not a decision number");
    }
    int64_t v;
    if (jx_get_int(m[1].item, "version", true, &v, c->e) == JX_OK) {
        if (v >= 1 && v <= 2147483647)
            d->version = (int)v;
        else
            verrs_add(c->e, "version", "out_of_range", "must be at least 1");
    }
    int st = get_word(c, m[2].item, "status", status_names, 3);
    if (st >= 0)
        d->status = (enum decision_status)st;
    if (jx_get_string(m[3].item, "ocmw", true, false, &s, c->e) == JX_OK) {
        if (ids_all_digits(s, strlen(s), 10))
            snprintf(d->ocmw, sizeof d->ocmw, "%s", s);
        else
            verrs_add(c->e, "ocmw", "invalid_value", "is not a KBO number");
    }
    if (jx_get_string(m[4].item, "recorded_at", true, false, &s, c->e) == JX_OK) {
        if (printable_ascii(s, sizeof d->recorded_at - 1))
            snprintf(d->recorded_at, sizeof d->recorded_at, "%s", s);
        else
            verrs_add(c->e, "recorded_at", "invalid_value", "is not a timestamp");
    }
}

static enum parse_result parse_doc(const struct ctx *c, const char *buf, size_t len,
                                   struct decision *d)
{
    memset(d, 0, sizeof *d);
    bool refused = false;
    cJSON *root = jx_parse_checked(buf, len, c->e, &refused);
    if (refused)
        return PARSE_INVALID; /* invalid_utf8, out_of_range: the body as a whole */
    if (root == NULL || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return PARSE_MALFORMED;
    }
    enum {
        F_ID,
        F_VERSION,
        F_STATUS,
        F_OCMW,
        F_RECORDED,
        F_KIND,
        F_BENEF,
        F_PERIOD,
        F_REF,
        F_URGENT,
        F_SHARE,
        F_COVERS,
        F_N
    };
    struct jx_field f[F_N] = {
        [F_ID] = {"id", NULL},
        [F_VERSION] = {"version", NULL},
        [F_STATUS] = {"status", NULL},
        [F_OCMW] = {"ocmw", NULL},
        [F_RECORDED] = {"recorded_at", NULL},
        [F_KIND] = {"kind", NULL},
        [F_BENEF] = {"beneficiary", NULL},
        [F_PERIOD] = {"period", NULL},
        [F_REF] = {"reference", NULL},
        [F_URGENT] = {"urgent_attestation_required", NULL},
        [F_SHARE] = {"state_share", NULL},
        [F_COVERS] = {"covers", NULL},
    };
    static const char *const readonly[] = {"id", "version", "status", "ocmw", "recorded_at", NULL};
    if (c->stored) {
        jx_walk(root, "", f, F_N, NULL, c->e);
        parse_meta(c, f, d);
    } else {
        /* meta members are not looked up: they are reported as read-only */
        jx_walk(root, "", f + F_KIND, F_N - F_KIND, readonly, c->e);
    }

    int kind = get_word(c, f[F_KIND].item, "kind", kind_names, 2);
    if (kind >= 0)
        d->kind = (enum decision_kind)kind;

    /* beneficiary */
    if (jx_get_object(f[F_BENEF].item, "beneficiary", true, c->e) == JX_OK) {
        struct jx_field b[] = {{"ssin", NULL}, {"death_date", NULL}};
        jx_walk(f[F_BENEF].item, "beneficiary", b, 2, NULL, c->e);
        const char *s = NULL;
        if (jx_get_string(b[0].item, "beneficiary.ssin", true, false, &s, c->e) == JX_OK) {
            if (ids_ssin_valid(s, strlen(s)))
                memcpy(d->ssin, s, 12);
            else
                verrs_add(c->e, "beneficiary.ssin", "invalid_ssin",
                          "is not a valid national register or BIS number (11 digits, "
                          "check digits 97 - N mod 97)");
        }
        if (jx_get_date(b[1].item, "beneficiary.death_date", false, true, &d->death_date, c->e) ==
            JX_OK) {
            d->has_death_date = true;
            if (!c->stored && d->death_date > c->today) {
                char t[PDATE_STRLEN + 1];
                date_format(c->today, t);
                verrs_add(c->e, "beneficiary.death_date", "death_date_in_future",
                          "must not be after today (%s)", t);
            }
        }
    }

    /* period */
    bool period_ok = parse_period(c, f[F_PERIOD].item, "period", &d->period);
    if (period_ok && !c->stored) {
        pdate earliest = c->today - 60;
        pdate latest_end = date_add_years(d->period.start, 1) - 1;
        char a[PDATE_STRLEN + 1], b[PDATE_STRLEN + 1];
        /* an update may keep a start that has since moved further back;
         * changing the start is judged by decision_check_change */
        bool start_kept = c->current != NULL && c->current->period.start == d->period.start;
        if (d->period.start < earliest && !start_kept) {
            date_format(c->today, a);
            date_format(earliest, b);
            verrs_add(c->e, "period.start", "start_too_early",
                      "must be at most 60 days before today (%s): %s or later", a, b);
            period_ok = false;
        }
        if (d->period.end > latest_end) {
            date_format(latest_end, b);
            verrs_add(c->e, "period.end", "period_too_long",
                      "the period may last at most one year: end %s or earlier", b);
            period_ok = false;
        }
    }

    /* reference */
    const char *ref = NULL;
    if (jx_get_string(f[F_REF].item, "reference", false, true, &ref, c->e) == JX_OK) {
        size_t n = strlen(ref);
        if (n < 1)
            verrs_add(c->e, "reference", "too_short", "must not be empty (use null)");
        else if (n > MAX_REFERENCE)
            verrs_add(c->e, "reference", "too_long", "must be at most %d bytes of UTF-8",
                      MAX_REFERENCE);
        else {
            memcpy(d->reference, ref, n + 1);
            d->has_reference = true;
        }
    }

    jx_get_bool(f[F_URGENT].item, "urgent_attestation_required", false,
                &d->urgent_attestation_required, c->e);

    if (kind == DK_PRINCIPLE) {
        if (f[F_SHARE].item != NULL)
            verrs_add(c->e, "state_share", "not_allowed_for_principle",
                      "a principle decision has no state share");
        if (f[F_COVERS].item != NULL)
            verrs_add(c->e, "covers", "not_allowed_for_principle",
                      "a principle decision has no covers");
    } else if (kind == DK_COVERAGE) {
        parse_state_share(c, f[F_SHARE].item, d);
        parse_covers(c, f[F_COVERS].item, d, period_ok);
    }

    cJSON_Delete(root);
    return c->e->n > 0 || c->e->truncated ? PARSE_INVALID : PARSE_OK;
}

enum parse_result decision_parse_input(const char *buf, size_t len, pdate today,
                                       struct decision *out, struct verrs *errs)
{
    verrs_init(errs);
    struct ctx c = {.stored = false, .today = today, .e = errs};
    return parse_doc(&c, buf, len, out);
}

enum parse_result decision_parse_update(const char *buf, size_t len, pdate today,
                                        const struct decision *current, struct decision *out,
                                        struct verrs *errs)
{
    verrs_init(errs);
    struct ctx c = {.stored = false, .today = today, .e = errs, .current = current};
    enum parse_result r = parse_doc(&c, buf, len, out);
    if (r != PARSE_OK)
        return r;
    return decision_check_change(current, out, today, errs) ? PARSE_OK : PARSE_INVALID;
}

bool decision_parse_stored(const char *buf, size_t len, struct decision *out)
{
    struct verrs e;
    verrs_init(&e);
    struct ctx c = {.stored = true, .today = 0, .e = &e};
    return parse_doc(&c, buf, len, out) == PARSE_OK;
}

/* ---- encoding ------------------------------------------------------------- */

static bool encode_cover(cJSON *arr, const struct cover *cv)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return false;
    if (!cJSON_AddItemToArray(arr, o)) {
        cJSON_Delete(o);
        return false;
    }
    bool ok = jx_add_str(o, "care_type", care_type_name(cv->care_type)) &&
              jx_add_period(o, "period", cv->period.start, cv->period.end);
    cJSON *pays = ok ? cJSON_AddObjectToObject(o, "ocmw_pays") : NULL;
    ok = pays != NULL && jx_add_str(pays, "insurance_part", pays_name(cv->insurance_part)) &&
         jx_add_str(pays, "patient_share", pays_name(cv->patient_share)) &&
         jx_add_str(pays, "supplements", pays_name(cv->supplements));
    if (ok && cv->patient_share == PAYS_PARTIAL)
        ok = jx_add_int(o, "patient_share_cap_cents", cv->patient_share_cap_cents);
    if (ok && care_type_is_hospital(cv->care_type) && cv->supplements == PAYS_PARTIAL) {
        ok = jx_add_int(o, "supplements_cap_cents", cv->supplements_cap_cents);
        cJSON *types = ok ? cJSON_AddArrayToObject(o, "allowed_supplement_types") : NULL;
        ok = types != NULL;
        for (int i = 0; ok && i < cv->n_supplement_types && i < MAX_SUPPLEMENT_TYPES; i++) {
            cJSON *s = cJSON_CreateString(cv->supplement_types[i]);
            ok = s != NULL && cJSON_AddItemToArray(types, s);
        }
    }
    ok = ok && jx_add_bool(o, "prescription_required", cv->prescription_required) &&
         jx_add_bool(o, "convention", cv->convention);
    cJSON *prov = ok ? cJSON_AddArrayToObject(o, "designated_providers") : NULL;
    ok = prov != NULL;
    for (int i = 0; ok && i < cv->n_designated && i < MAX_DESIGNATED; i++) {
        cJSON *s = cJSON_CreateString(cv->designated[i]);
        ok = s != NULL && cJSON_AddItemToArray(prov, s);
    }
    return ok;
}

char *decision_encode(const struct decision *d, bool with_meta)
{
    cJSON *root = cJSON_CreateObject();
    if (root == NULL)
        return NULL;
    bool ok = true;
    if (with_meta)
        ok = jx_add_str(root, "id", d->id) && jx_add_int(root, "version", d->version) &&
             jx_add_str(root, "status", decision_status_name(d->status)) &&
             jx_add_str(root, "ocmw", d->ocmw) && jx_add_str(root, "recorded_at", d->recorded_at);
    ok = ok && jx_add_str(root, "kind", decision_kind_name(d->kind));
    cJSON *b = ok ? cJSON_AddObjectToObject(root, "beneficiary") : NULL;
    ok = b != NULL && jx_add_str(b, "ssin", d->ssin) &&
         (d->has_death_date ? jx_add_date(b, "death_date", d->death_date)
                            : jx_add_null(b, "death_date"));
    ok = ok && jx_add_period(root, "period", d->period.start, d->period.end);
    ok = ok && (d->has_reference ? jx_add_str(root, "reference", d->reference)
                                 : jx_add_null(root, "reference"));
    ok = ok && jx_add_bool(root, "urgent_attestation_required", d->urgent_attestation_required);
    if (ok && d->kind == DK_COVERAGE) {
        cJSON *ss = cJSON_AddObjectToObject(root, "state_share");
        ok = ss != NULL;
        for (int i = 0; ok && i < SD__COUNT; i++) {
            cJSON *o = cJSON_AddObjectToObject(ss, domain_names[i]);
            ok = o != NULL && jx_add_int(o, "insurance_pct", d->state_share[i].insurance_pct) &&
                 jx_add_int(o, "patient_share_pct", d->state_share[i].patient_share_pct);
        }
        cJSON *arr = ok ? cJSON_AddArrayToObject(root, "covers") : NULL;
        ok = arr != NULL;
        for (int i = 0; ok && i < d->n_covers && i < CT__COUNT; i++)
            ok = encode_cover(arr, &d->covers[i]);
    }
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return jx_print_free(root);
}
