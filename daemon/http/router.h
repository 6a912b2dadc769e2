/*
 * router: from a complete request to a handler. The route table belongs to
 * the layer above (api/routes.c registers it); who is asking and what a
 * role may do belong to auth/ (registered as the router's authenticator).
 * The router matches the path, the method and the query parameters a route
 * accepts.
 */
#ifndef MEDAID_ROUTER_H
#define MEDAID_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/request.h"

struct config;

typedef void (*route_fn)(struct request *r);

struct route {
    enum http_method method; /* HM_GET also serves HEAD */
    const char *pattern;     /* "*" matches one path segment */
    unsigned roles;          /* ROLE_BIT()s that may use it (auth decides) */
    route_fn fn;
    bool csv;                 /* takes a text/csv body as well as JSON */
    bool bulk;                /* body up to max_bulk_body_bytes */
    const char *const *query; /* the query parameters it accepts, NULL-ended; NULL: none */
};

/* Set once, before the workers start; the table must outlive them. */
void router_set_routes(const struct route *routes, size_t n);

struct router_auth {
    /* for every complete request: find who is asking, then call
     * router_route(r), or answer */
    void (*authenticate)(struct request *r);
    /* may the request's principal use a route open to roles? When not,
     * it answers and returns false */
    bool (*authorize)(struct request *r, unsigned roles);
};
void router_set_auth(const struct router_auth *a);

/* The index in the route table of the route that serves method and path
 * (HEAD: the GET route), -1 when none does (metrics). */
int router_index(enum http_method m, const char *path);
size_t router_n_routes(void);
const struct route *router_route_at(size_t i);

/* A complete request (framing.c): authenticate, then route. */
void router_dispatch(struct request *r);
/* An authenticated request: match, check, run the handler. */
void router_route(struct request *r);

/* The largest body accepted for that method and path: max_bulk_body_bytes
 * for the bulk routes (tariff import, coverage batch), max_body_bytes
 * otherwise. Known when the head arrives, before the body is read. */
int64_t router_body_limit(enum http_method m, const char *path, const struct config *cfg);

#endif
