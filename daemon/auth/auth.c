/*
 * auth: certificate -> principal, the per-connection cache, role checks.
 */
#include "auth/auth.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/config.h"
#include "base/log.h"
#include "base/mem.h"
#include "auth/ratelimit.h"
#include "db/principals.h"
#include "http/router.h"

enum pstate { PS_NONE, PS_KNOWN, PS_UNKNOWN, PS_REVOKED };

/* per connection */
struct auth_cache {
    enum pstate state;
    int64_t checked_ms;
};

static void role_limits(const struct config *cfg, enum role role, int64_t *per_s, int64_t *burst)
{
    switch (role) {
    case ROLE_OCMW:
        *per_s = cfg->rate_limit_ocmw_per_s;
        *burst = cfg->rate_limit_ocmw_burst;
        return;
    case ROLE_PROVIDER:
        *per_s = cfg->rate_limit_provider_per_s;
        *burst = cfg->rate_limit_provider_burst;
        return;
    case ROLE_AUDITOR:
        *per_s = cfg->rate_limit_auditor_per_s;
        *burst = cfg->rate_limit_auditor_burst;
        return;
    default:
        *per_s = cfg->rate_limit_admin_per_s;
        *burst = cfg->rate_limit_admin_burst;
        return;
    }
}

/* The principal is known: its rate limit, then the route. */
static void proceed(struct request *r)
{
    static _Atomic int64_t last_log_ms;
    const struct principal *p = request_principal(r);
    int64_t per_s, burst, retry = 1;
    role_limits(request_config(r), p->role, &per_s, &burst);
    int64_t now = mono_ms();
    if (ratelimit_take(p->id, per_s, burst, now, &retry)) {
        router_route(r);
        return;
    }
    int64_t prev = atomic_load(&last_log_ms);
    if (now - prev >= 1000 && atomic_compare_exchange_strong(&last_log_ms, &prev, now))
        log_ctx(LOG_WARN, request_log_prefix(r),
                "rate limit: principal %lld (%s) refused; %llu refusals since the start",
                (long long)p->id, role_name(p->role), (unsigned long long)ratelimit_refused());
    char v[24];
    snprintf(v, sizeof v, "%lld", (long long)retry);
    request_add_header(r, "Retry-After", v);
    /* a fixed detail (translated, proto/messages.c); the wait is in Retry-After */
    request_problem(r, PROBLEM_RATE_LIMITED,
                    "too many requests from this principal; retry after the seconds of Retry-After",
                    NULL, NULL);
}

/* A failed lookup: the same answer as any failed database step. */
static void lookup_failed(struct request *r, enum pg_outcome o)
{
    const char *detail;
    enum problem p = db_outcome_problem(o, &detail);
    if (p == PROBLEM_INTERNAL_ERROR)
        log_ctx(LOG_ERROR, request_log_prefix(r), "principal lookup failed (outcome %d)", (int)o);
    request_problem(r, p, detail, NULL, NULL);
}

static struct auth_cache *cache_of(struct request *r)
{
    struct auth_cache *a = request_conn_data(r);
    if (!a) {
        a = xcalloc(1, sizeof *a);
        request_set_conn_data(r, a, free);
    }
    return a;
}

static void found_cb(void *arg, enum pg_outcome o, enum principal_found f,
                     const struct principal *p)
{
    struct request *r = arg;
    if (request_client_gone(r)) {
        request_respond(r, 499, NULL, NULL, 0);
        return;
    }
    if (o != PG_OK) {
        lookup_failed(r, o);
        return;
    }
    struct auth_cache *a = cache_of(r);
    switch (f) {
    case PRINCIPAL_NONE:
        a->state = PS_UNKNOWN;
        request_set_principal(r, NULL);
        log_ctx(LOG_INFO, request_log_prefix(r), "unknown certificate %.16s...",
                request_fingerprint(r));
        request_problem(r, PROBLEM_PRINCIPAL_UNKNOWN,
                        "this certificate is not registered as a principal", NULL, NULL);
        return;
    case PRINCIPAL_BAD_ROLE:
        request_problem(r, PROBLEM_INTERNAL_ERROR, "bad principal role", NULL, NULL);
        return;
    case PRINCIPAL_REVOKED:
        a->state = PS_REVOKED;
        request_set_principal(r, NULL);
        request_problem(r, PROBLEM_PRINCIPAL_REVOKED, "this principal has been revoked", NULL,
                        NULL);
        return;
    case PRINCIPAL_FOUND:
        break;
    }
    a->state = PS_KNOWN;
    a->checked_ms = mono_ms();
    request_set_principal(r, p);
    proceed(r);
}

static void authenticate(struct request *r)
{
    const struct config *cfg = request_config(r);
    struct auth_cache *a = cache_of(r);
    if (a->state == PS_KNOWN && mono_ms() - a->checked_ms < cfg->principal_cache_ms) {
        proceed(r);
        return;
    }
    principals_by_fingerprint(request_db(r), request_fingerprint(r), found_cb, r);
}

static bool authorize(struct request *r, unsigned roles)
{
    const struct principal *pr = request_principal(r);
    if (roles & ROLE_BIT(pr->role))
        return true;
    char d[96];
    snprintf(d, sizeof d, "the %s role may not do this", role_name(pr->role));
    request_problem(r, PROBLEM_FORBIDDEN, d, NULL, NULL);
    return false;
}

void auth_install(void)
{
    static const struct router_auth a = {authenticate, authorize};
    router_set_auth(&a);
}
