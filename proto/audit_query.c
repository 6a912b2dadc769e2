/*
 * audit_query: check the parameters of the audit lists and of as-of (see
 * audit_query.h). The rules and messages are those the daemon answered with
 * before they moved here (h_audit.c).
 */
#include "audit_query.h"

#include <stdlib.h>
#include <string.h>

#include "coverage.h"
#include "ids.h"

/* how a value is checked */
enum check {
    CK_SSIN,      /* a valid SSIN */
    CK_KBO,       /* a valid KBO number */
    CK_PROVIDER,  /* 10 or 11 digits */
    CK_DATE,      /* YYYY-MM-DD */
    CK_TIMESTAMP, /* RFC 3339 or a date */
    CK_TEXT,      /* 1 to 63 bytes */
    CK_LIMIT,
    CK_CURSOR,
};

struct def {
    const char *name;
    enum check check;
    int slot; /* index in param[], or -1 */
};

static const struct def consultations[] = {
    {"ssin", CK_SSIN, AQC_SSIN},
    {"provider", CK_PROVIDER, AQC_PROVIDER},
    {"ocmw", CK_KBO, AQC_OCMW},
    {"service_from", CK_DATE, AQC_SERVICE_FROM},
    {"service_to", CK_DATE, AQC_SERVICE_TO},
    {"recorded_from", CK_TIMESTAMP, AQC_RECORDED_FROM},
    {"recorded_to", CK_TIMESTAMP, AQC_RECORDED_TO},
    {"outcome", CK_TEXT, AQC_OUTCOME},
    {"limit", CK_LIMIT, -1},
    {"cursor", CK_CURSOR, -1},
};
static const struct def decisions[] = {
    {"ocmw", CK_KBO, AQD_OCMW},
    {"ssin", CK_SSIN, AQD_SSIN},
    {"changed_since", CK_TIMESTAMP, AQD_CHANGED_SINCE},
    {"status", CK_TEXT, AQD_STATUS},
    {"limit", CK_LIMIT, -1},
    {"cursor", CK_CURSOR, -1},
};
static const struct def as_of[] = {
    {"ssin", CK_SSIN, AQA_SSIN},
    {"service_date", CK_DATE, AQA_SERVICE_DATE},
    {"care_type", CK_TEXT, AQA_CARE_TYPE},
    {"known_at", CK_TIMESTAMP, AQA_KNOWN_AT},
    {"provider", CK_PROVIDER, AQA_PROVIDER},
    {"items", CK_TEXT, AQA_ITEMS},
};

static const struct def reads[] = {
    {"ssin", CK_SSIN, AQR_SSIN},
    {"limit", CK_LIMIT, -1},
    {"cursor", CK_CURSOR, -1},
};

static bool digits(const char *s, size_t lo, size_t hi)
{
    size_t n = strlen(s);
    if (n < lo || n > hi)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool value_ok(enum check c, const char *v)
{
    size_t n = strlen(v);
    pdate d;
    switch (c) {
    case CK_SSIN:
        return ids_ssin_valid(v, n);
    case CK_KBO:
        return ids_kbo_valid(v, n);
    case CK_PROVIDER:
        return digits(v, 10, 11);
    case CK_DATE:
        return date_parse(v, n, &d);
    case CK_TIMESTAMP:
        return timestamp_valid(v, n);
    default:
        return n > 0 && n < 64;
    }
}

static const char *what(enum check c)
{
    switch (c) {
    case CK_SSIN:
        return "SSIN";
    case CK_KBO:
        return "KBO number";
    case CK_PROVIDER:
        return "NIHII or KBO number";
    case CK_DATE:
        return "date (YYYY-MM-DD)";
    case CK_TIMESTAMP:
        return "timestamp (RFC 3339) or date";
    default:
        return "value";
    }
}

/* the outcome filter: covered, not_covered or a reason a whole answer is refused for */
bool audit_outcome_valid(const char *oc)
{
    if (strcmp(oc, "covered") == 0 || strcmp(oc, "not_covered") == 0)
        return true;
    for (int k = RF_INVALID_SSIN; k < RF__COUNT; k++)
        if (k != RF_UNKNOWN_CODE && /* refuses items only */
            strcmp(oc, refusal_code((enum refusal)k)) == 0)
            return true;
    return false;
}

/* the cursor's time: YYYY-MM-DDTHH:MM:SS.ffffff (UTC, as the list gave it) */
static bool cursor_time_ok(const char *s)
{
    char buf[40];
    size_t n = strlen(s);
    if (n != 26 || s[19] != '.')
        return false;
    memcpy(buf, s, n);
    buf[n] = 'Z';
    return timestamp_valid(buf, n + 1);
}

static bool cursor_parse(enum audit_query_kind kind, const char *cur, struct audit_query *q)
{
    if (kind == AQ_READS) { /* a sequence number of the trail, from 1 */
        if (!digits(cur, 1, 18) || cur[0] == '0')
            return false;
        memcpy(q->cursor[0], cur, strlen(cur) + 1);
        return true;
    }
    if (kind == AQ_CONSULTATIONS) {
        /* an agreement (A...) or a card consultation (C...) number */
        if (strlen(cur) != 14 || (cur[0] != 'A' && cur[0] != 'C'))
            return false;
        memcpy(q->cursor[0], cur, 15);
        return true;
    }
    /* recorded_at~decision~version */
    const char *a = strchr(cur, '~');
    const char *b = a ? strchr(a + 1, '~') : NULL;
    if (!a || !b || a - cur < 19 || a - cur >= 40 || b - a - 1 != 14 || !digits(b + 1, 1, 9))
        return false;
    memcpy(q->cursor[0], cur, (size_t)(a - cur));
    q->cursor[0][a - cur] = '\0';
    memcpy(q->cursor[1], a + 1, 14);
    q->cursor[1][14] = '\0';
    memcpy(q->cursor[2], b + 1, strlen(b + 1) + 1);
    return cursor_time_ok(q->cursor[0]) && q->cursor[1][0] == 'D';
}

static const struct def *defs_of(enum audit_query_kind kind, size_t *n)
{
    switch (kind) {
    case AQ_CONSULTATIONS:
        *n = sizeof consultations / sizeof consultations[0];
        return consultations;
    case AQ_DECISIONS:
        *n = sizeof decisions / sizeof decisions[0];
        return decisions;
    case AQ_READS:
        *n = sizeof reads / sizeof reads[0];
        return reads;
    case AQ_AS_OF:
    default:
        *n = sizeof as_of / sizeof as_of[0];
        return as_of;
    }
}

const char *audit_query_name(enum audit_query_kind kind, size_t i)
{
    size_t n;
    const struct def *defs = defs_of(kind, &n);
    return i < n ? defs[i].name : NULL;
}

/* the first value given for name; NULL when none */
static const char *value_of(const struct audit_param *pairs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (pairs[i].value && strcmp(pairs[i].name, name) == 0)
            return pairs[i].value;
    return NULL;
}

bool audit_query_parse(enum audit_query_kind kind, const struct audit_param *pairs, size_t n,
                       struct audit_query *q, struct verrs *errs, enum problem *problem,
                       const char **detail)
{
    size_t nd;
    const struct def *defs = defs_of(kind, &nd);
    int first = errs->n;

    memset(q, 0, sizeof *q);
    q->kind = kind;
    q->n_params = kind == AQ_CONSULTATIONS ? AQC__COUNT
                  : kind == AQ_DECISIONS   ? AQD__COUNT
                  : kind == AQ_READS       ? AQR__COUNT
                                           : AQA__COUNT;
    q->limit = AUDIT_LIMIT_DEFAULT;
    *problem = PROBLEM_INVALID_PARAMETER;
    *detail = kind == AQ_AS_OF   ? "the question is incomplete"
              : kind == AQ_READS ? "a parameter is not valid"
                                 : "a filter is not valid";

    /* values, in the order of the definitions */
    for (size_t k = 0; k < nd; k++) {
        const struct def *d = &defs[k];
        const char *v = value_of(pairs, n, d->name);
        if (kind == AQ_AS_OF) {
            if (d->check == CK_PROVIDER) {
                if (v && !digits(v, 10, 11))
                    verrs_add(errs, d->name, "invalid_value", "is a NIHII or KBO number");
                else
                    q->param[d->slot] = v;
                continue;
            }
            if (d->slot == AQA_ITEMS) {
                struct coverage_question items;
                if (v && !coverage_items_from_query(v, &items))
                    verrs_add(errs, d->name, "invalid_value",
                              "is code[:quantity[:supplements_cents[:supplement_type]]], "
                              "comma-separated, at most %d",
                              COVERAGE_MAX_ITEMS);
                else
                    q->param[d->slot] = v;
                continue;
            }
            bool good = v != NULL;
            if (good && d->slot == AQA_SERVICE_DATE)
                good = date_parse(v, strlen(v), &q->service_date);
            else if (good && d->slot == AQA_CARE_TYPE)
                good = care_type_from_name(v, strlen(v), &q->care_type);
            else if (good)
                good = value_ok(d->check, v);
            if (!good)
                verrs_add(errs, d->name, v ? "invalid_value" : "required", "%s",
                          d->slot == AQA_SSIN           ? "a valid SSIN is required"
                          : d->slot == AQA_SERVICE_DATE ? "a date YYYY-MM-DD is required"
                          : d->slot == AQA_CARE_TYPE
                              ? "one of the eight care types is required"
                              : "an RFC 3339 timestamp (or a date) is required");
            else
                q->param[d->slot] = v;
            continue;
        }
        if (!v) {
            if (kind == AQ_READS && d->slot == AQR_SSIN) /* whose reads: always named */
                verrs_add(errs, d->name, "required", "a valid SSIN is required");
            continue;
        }
        if (d->check == CK_LIMIT) {
            if (!digits(v, 1, 4) || atoi(v) < 1 || atoi(v) > AUDIT_LIMIT_MAX)
                verrs_add(errs, "limit", "invalid_value", "is a number from 1 to %d",
                          AUDIT_LIMIT_MAX);
            else
                q->limit = atoi(v);
            continue;
        }
        if (d->check == CK_CURSOR) {
            q->has_cursor = cursor_parse(kind, v, q);
            if (!q->has_cursor) {
                memset(q->cursor, 0, sizeof q->cursor);
                verrs_add(errs, "cursor", "invalid_value", "is not a cursor this list gave");
            }
            continue;
        }
        if (!value_ok(d->check, v)) {
            verrs_add(errs, d->name, "invalid_value", "is not a valid %s", what(d->check));
            continue;
        }
        q->param[d->slot] = v;
        enum decision_status st;
        if (kind == AQ_CONSULTATIONS && d->slot == AQC_OUTCOME && !audit_outcome_valid(v))
            verrs_add(errs, "outcome", "invalid_value",
                      "is covered, not_covered or a refusal reason code");
        else if (kind == AQ_DECISIONS && d->slot == AQD_STATUS &&
                 !decision_status_from_name(v, strlen(v), &st))
            verrs_add(errs, "status", "invalid_value", "is active, suspended or stopped");
    }
    return errs->n == first && !errs->truncated;
}
