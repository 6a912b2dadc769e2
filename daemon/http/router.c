/*
 * router: matching requests against the registered routes.
 */
#include "http/router.h"

#include <stdio.h>
#include <string.h>

#include "base/config.h"
#include "http/exchange.h"

static const struct route *routes;
static size_t n_routes;
static struct router_auth auth;

void router_set_routes(const struct route *table, size_t n)
{
    routes = table;
    n_routes = n;
}

void router_set_auth(const struct router_auth *a)
{
    auth = *a;
}

static bool segment_char_ok(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_' || ch == '.';
}

/* Match path against pattern; with r, the "*" segments are copied into the
 * request (request_param). */
static bool match(const char *pattern, const char *path, struct request *r)
{
    const char *p = pattern, *s = path;
    const char *params[REQUEST_MAX_PARAMS];
    int n = 0;
    while (*p && *s) {
        if (*p == '*') {
            const char *e = s;
            while (*e && *e != '/') {
                if (!segment_char_ok(*e))
                    return false;
                e++;
            }
            if (e == s || n == REQUEST_MAX_PARAMS)
                return false;
            params[n++] = r ? request_arena_strndup(r, s, (size_t)(e - s)) : NULL;
            p++;
            s = e;
        } else if (*p == *s) {
            p++;
            s++;
        } else {
            return false;
        }
    }
    if (*p || *s)
        return false;
    if (r)
        request_set_params(r, params, n);
    return true;
}

static bool accepted(const struct route *rt, const char *name)
{
    for (const char *const *q = rt->query; q && *q; q++)
        if (strcmp(*q, name) == 0)
            return true;
    return false;
}

/* every query parameter must be one the route takes, and only once */
static bool query_ok(const struct route *rt, struct request *r)
{
    struct verrs e;
    verrs_init(&e);
    size_t n = request_n_query(r);
    for (size_t i = 0; i < n; i++) {
        const char *name = request_query_name(r, i);
        bool again = false;
        for (size_t j = 0; j < i && !again; j++)
            again = strcmp(request_query_name(r, j), name) == 0;
        if (!accepted(rt, name)) {
            verrs_add(&e, name, "unknown_parameter", "is not a parameter of this resource");
        } else if (again) {
            bool listed = false;
            for (int k = 0; k < e.n && !listed; k++)
                listed = strcmp(e.items[k].field, name) == 0;
            if (!listed)
                verrs_add(&e, name, "repeated_parameter", "may be given once");
        } else {
            continue;
        }
    }
    if (e.n == 0)
        return true;
    /* an unknown parameter is its own problem (a client that thinks it
     * filters must not read an unfiltered answer as filtered) */
    bool unknown = false;
    for (int k = 0; k < e.n && !unknown; k++)
        unknown = strcmp(e.items[k].code, "unknown_parameter") == 0;
    /* a fixed detail (translated, proto/messages.c); errors[] names the parameters */
    const char *d = strcmp(e.items[0].code, "unknown_parameter") == 0
                        ? "a query parameter is not one this route takes"
                        : "a query parameter is given more than once";
    request_problem(r, unknown ? PROBLEM_UNKNOWN_PARAMETER : PROBLEM_INVALID_PARAMETER, d, &e,
                    NULL);
    return false;
}

void router_route(struct request *r)
{
    const char *path = request_path(r);
    enum http_method m = request_method(r);
    char allow[64] = "";
    for (size_t i = 0; i < n_routes; i++) {
        const struct route *rt = &routes[i];
        if (!match(rt->pattern, path, NULL))
            continue;
        if (rt->method != m && !(rt->method == HM_GET && m == HM_HEAD)) {
            const char *name = rt->method == HM_GET    ? "GET, HEAD"
                               : rt->method == HM_POST ? "POST"
                               : rt->method == HM_PUT  ? "PUT"
                                                       : "DELETE";
            size_t l = strlen(allow);
            snprintf(allow + l, sizeof allow - l, "%s%s", l ? ", " : "", name);
            continue;
        }
        if (auth.authorize && !auth.authorize(r, rt->roles))
            return;
        if (request_body_is_csv(r) && !rt->csv) {
            request_problem(r, PROBLEM_UNSUPPORTED_MEDIA_TYPE, "this resource takes JSON only",
                            NULL, NULL);
            return;
        }
        if (!query_ok(rt, r))
            return;
        match(rt->pattern, path, r);
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

void router_dispatch(struct request *r)
{
    if (auth.authenticate)
        auth.authenticate(r);
    else
        router_route(r);
}

int router_index(enum http_method m, const char *path)
{
    if (m == HM_HEAD)
        m = HM_GET;
    for (size_t i = 0; i < n_routes; i++)
        if (routes[i].method == m && match(routes[i].pattern, path, NULL))
            return (int)i;
    return -1;
}

size_t router_n_routes(void)
{
    return n_routes;
}

const struct route *router_route_at(size_t i)
{
    return i < n_routes ? &routes[i] : NULL;
}

int64_t router_body_limit(enum http_method m, const char *path, const struct config *cfg)
{
    for (size_t i = 0; i < n_routes; i++)
        if (routes[i].bulk && routes[i].method == m && match(routes[i].pattern, path, NULL))
            return cfg->max_bulk_body_bytes > cfg->max_body_bytes ? cfg->max_bulk_body_bytes
                                                                  : cfg->max_body_bytes;
    return cfg->max_body_bytes;
}
