/*
 * router: authentication, routing and role checks.
 */
#include "http/router.h"

#include <stdlib.h>
#include <string.h>

#include "net/conn.h"
#include "api/agreements.h"
#include "api/audit.h"
#include "api/coverage.h"
#include "api/decisions.h"
#include "api/health.h"
#include "api/tariffs.h"
#include "base/log.h"
#include "db/db.h"
#include "db/queries.h"
#include "net/server.h"

typedef void (*handler_fn)(struct request *r);

struct route {
    enum http_method method;
    const char *pattern; /* "*" matches one path segment */
    unsigned roles;
    handler_fn fn;
    bool csv;  /* takes a text/csv body as well as JSON */
    bool bulk; /* body up to max_bulk_body_bytes */
};

#define ANY_ROLE                                                                                   \
    (ROLE_BIT(ROLE_OCMW) | ROLE_BIT(ROLE_PROVIDER) | ROLE_BIT(ROLE_AUDITOR) | ROLE_BIT(ROLE_ADMIN))

static const struct route routes[] = {
    {HM_GET, "/v1/health", ANY_ROLE, h_health},
    {HM_POST, "/v1/decisions", ROLE_BIT(ROLE_OCMW), h_decision_create},
    {HM_GET, "/v1/decisions/*", ROLE_BIT(ROLE_OCMW) | ROLE_BIT(ROLE_AUDITOR), h_decision_get},
    {HM_PUT, "/v1/decisions/*", ROLE_BIT(ROLE_OCMW), h_decision_update},
    {HM_POST, "/v1/decisions/*/suspend", ROLE_BIT(ROLE_OCMW), h_decision_suspend},
    {HM_POST, "/v1/decisions/*/resume", ROLE_BIT(ROLE_OCMW), h_decision_resume},
    {HM_POST, "/v1/decisions/*/stop", ROLE_BIT(ROLE_OCMW), h_decision_stop},
    {HM_GET, "/v1/decisions/*/history", ROLE_BIT(ROLE_OCMW) | ROLE_BIT(ROLE_AUDITOR),
     h_decision_history},
    {HM_GET, "/v1/beneficiaries/*/decisions", ROLE_BIT(ROLE_OCMW) | ROLE_BIT(ROLE_AUDITOR),
     h_beneficiary_decisions},
    {HM_POST, "/v1/coverage", ROLE_BIT(ROLE_PROVIDER), h_coverage},
    {HM_POST, "/v1/coverage/batch", ROLE_BIT(ROLE_PROVIDER), h_coverage_batch, false, true},
    {HM_GET, "/v1/agreements/*", ROLE_BIT(ROLE_PROVIDER) | ROLE_BIT(ROLE_AUDITOR), h_agreement_get},
    {HM_POST, "/v1/agreements/*/void", ROLE_BIT(ROLE_PROVIDER), h_agreement_void},
    {HM_PUT, "/v1/tariffs", ROLE_BIT(ROLE_ADMIN), h_tariff_import, true, true},
    {HM_GET, "/v1/tariffs/*", ANY_ROLE, h_tariff_get},
    {HM_GET, "/v1/audit/verify", ROLE_BIT(ROLE_AUDITOR), h_audit_verify},
    {HM_GET, "/v1/audit/consultations", ROLE_BIT(ROLE_AUDITOR), h_audit_consultations},
    {HM_GET, "/v1/audit/decisions", ROLE_BIT(ROLE_AUDITOR), h_audit_decisions},
    {HM_GET, "/v1/audit/coverage-as-of", ROLE_BIT(ROLE_AUDITOR), h_audit_as_of},
};
#define N_ROUTES (sizeof routes / sizeof routes[0])

static bool segment_char_ok(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_' || ch == '.';
}

/* Match path against pattern; on success the "*" segments are copied into
 * r->param_buf and pointed to by r->params. */
static bool match(const char *pattern, const char *path, struct request *r, bool capture)
{
    const char *p = pattern, *s = path;
    int n = 0;
    char *buf = NULL;
    size_t used = 0;
    if (capture) {
        buf = malloc(strlen(path) + REQUEST_MAX_PARAMS + 1);
        if (!buf)
            return false;
    }
    while (*p && *s) {
        if (*p == '*') {
            const char *e = s;
            while (*e && *e != '/') {
                if (!segment_char_ok(*e))
                    goto no;
                e++;
            }
            if (e == s || n == REQUEST_MAX_PARAMS)
                goto no;
            if (capture) {
                memcpy(buf + used, s, (size_t)(e - s));
                buf[used + (size_t)(e - s)] = '\0';
                r->params[n] = buf + used;
                used += (size_t)(e - s) + 1;
            }
            n++;
            p++;
            s = e;
        } else if (*p == *s) {
            p++;
            s++;
        } else {
            goto no;
        }
    }
    if (*p || *s)
        goto no;
    if (capture) {
        free(r->param_buf);
        r->param_buf = buf;
    }
    return true;
no:
    free(buf);
    return false;
}

static void route(struct request *r)
{
    const struct principal *pr = request_principal(r);
    const char *path = request_path(r);
    char allow[64] = "";
    for (size_t i = 0; i < N_ROUTES; i++) {
        const struct route *rt = &routes[i];
        if (!match(rt->pattern, path, r, false))
            continue;
        if (rt->method != request_method(r) &&
            !(rt->method == HM_GET && request_method(r) == HM_HEAD)) {
            const char *m = rt->method == HM_GET    ? "GET, HEAD"
                            : rt->method == HM_POST ? "POST"
                            : rt->method == HM_PUT  ? "PUT"
                                                    : "DELETE";
            size_t l = strlen(allow);
            snprintf(allow + l, sizeof allow - l, "%s%s", l ? ", " : "", m);
            continue;
        }
        if (!(rt->roles & ROLE_BIT(pr->role))) {
            char d[96];
            snprintf(d, sizeof d, "the %s role may not do this", role_name(pr->role));
            request_problem(r, PROBLEM_FORBIDDEN, d, NULL, NULL);
            return;
        }
        if (request_body_is_csv(r) && !rt->csv) {
            request_problem(r, PROBLEM_UNSUPPORTED_MEDIA_TYPE, "this resource takes JSON only",
                            NULL, NULL);
            return;
        }
        if (!match(rt->pattern, path, r, true)) {
            request_problem(r, PROBLEM_INTERNAL_ERROR, "out of memory", NULL, NULL);
            return;
        }
        rt->fn(r);
        return;
    }
    if (allow[0]) {
        request_add_header(r, "Allow", allow);
        request_problem(r, PROBLEM_METHOD_NOT_ALLOWED, NULL, NULL, NULL);
        return;
    }
    request_problem(r, PROBLEM_NOT_FOUND, "no such resource", NULL, NULL);
}

int64_t router_body_limit(enum http_method m, const char *path, const struct config *cfg)
{
    for (size_t i = 0; i < N_ROUTES; i++)
        if (routes[i].bulk && routes[i].method == m && match(routes[i].pattern, path, NULL, false))
            return cfg->max_bulk_body_bytes > cfg->max_body_bytes ? cfg->max_bulk_body_bytes
                                                                  : cfg->max_body_bytes;
    return cfg->max_body_bytes;
}

void request_db_error(struct request *r, enum pg_outcome o, const PGresult *res)
{
    const char *state = pg_sqlstate(res);
    if (o == PG_UNAVAILABLE || o == PG_LOST || strcmp(state, "57014") == 0 ||
        strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
        strcmp(state, "57P03") == 0 || strcmp(state, "53300") == 0) {
        request_problem(r, PROBLEM_DATABASE_UNAVAILABLE,
                        o == PG_LOST ? "the database connection was lost; the outcome is "
                                       "unknown, retry (writes are idempotent with "
                                       "Idempotency-Key)"
                                     : "the database is unavailable; retry shortly",
                        NULL, NULL);
        return;
    }
    log_ctx(LOG_ERROR, request_log_prefix(r), "database error %s", state);
    request_problem(r, PROBLEM_INTERNAL_ERROR, "the registry could not complete the request", NULL,
                    NULL);
}

static void principal_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct request *r = arg;
    struct conn *c = r->conn;
    if (c->state == CS_CLOSED) {
        request_respond(r, 499, NULL, NULL, 0);
        return;
    }
    if (o != PG_OK) {
        request_db_error(r, o, res);
        return;
    }
    if (PQntuples(res) != 1) {
        c->pstate = PS_UNKNOWN;
        log_ctx(LOG_INFO, request_log_prefix(r), "unknown certificate %.16s...", c->fingerprint);
        request_problem(r, PROBLEM_PRINCIPAL_UNKNOWN,
                        "this certificate is not registered as a principal", NULL, NULL);
        return;
    }
    enum role role;
    if (!role_from_name(PQgetvalue(res, 0, 1), &role)) {
        request_problem(r, PROBLEM_INTERNAL_ERROR, "bad principal role", NULL, NULL);
        return;
    }
    if (strcmp(PQgetvalue(res, 0, 3), "t") == 0) {
        c->pstate = PS_REVOKED;
        request_problem(r, PROBLEM_PRINCIPAL_REVOKED, "this principal has been revoked", NULL,
                        NULL);
        return;
    }
    c->principal.id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    c->principal.role = role;
    snprintf(c->principal.org, sizeof c->principal.org, "%s", PQgetvalue(res, 0, 2));
    c->pstate = PS_KNOWN;
    c->principal_checked_ms = mono_ms();
    conn_set_prefix(c);
    route(r);
}

void router_dispatch(struct request *r)
{
    struct conn *c = r->conn;
    const struct config *cfg = c->w->cfg;
    if (c->pstate == PS_KNOWN && mono_ms() - c->principal_checked_ms < cfg->principal_cache_ms) {
        route(r);
        return;
    }
    const char *params[] = {c->fingerprint};
    pg_submit(db_pool(c->w->db), &Q_PRINCIPAL_BY_FINGERPRINT, params, principal_cb, r);
}
