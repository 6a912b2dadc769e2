/*
 * query: the query string of a request as (name, value) pairs. Pure.
 */
#ifndef MEDAID_PROTO_QUERY_H
#define MEDAID_PROTO_QUERY_H

#include <stddef.h>

struct query_param {
    const char *name;  /* as sent (not decoded) */
    const char *value; /* decoded: %XX and '+' (a space); a %00 ends it */
};

/*
 * Split query (the text after '?', NUL-terminated, NULL for none) at '&'.
 * Empty segments are skipped; a segment without '=' is a name with the value
 * "". Values are decoded as the daemon's request_query decodes them today: a
 * '%' not followed by two hex digits stays as it is. On success *out is one
 * malloc'd block (free it with free()) of the returned number of pairs, in
 * the order sent; -1 when memory ran out. 0 pairs: *out is NULL.
 */
int query_split(const char *query, struct query_param **out);

#endif
