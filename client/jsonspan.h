/*
 * jsonspan: find JSON values in a text as they are written, without
 * re-encoding them, so that the client can pass on an element of an answer
 * byte for byte as the server sent it. The text is normally valid JSON (it
 * was parsed already); on any other text the functions stay inside it and
 * give up (-1) rather than guess.
 */
#ifndef MEDAID_CLIENT_JSONSPAN_H
#define MEDAID_CLIENT_JSONSPAN_H

#include <stddef.h>

struct jsonspan {
    const char *p;
    size_t n;
};

/* the first byte at or after p that is not JSON white space (or e) */
const char *jsonspan_skip_ws(const char *p, const char *e);
/* The end of the JSON value that starts at p: after a string, object or
 * array, at the delimiter after a number or literal; at most e. */
const char *jsonspan_value_end(const char *p, const char *e);
/*
 * The elements of the array `member` (e.g. "answers") of the top-level object
 * of the JSON text b[0..len), as they are in the text. Returns their number,
 * or -1 when the text is not of that form or has more than max of them.
 */
int jsonspan_array_elements(const char *b, size_t len, const char *member, struct jsonspan *sp,
                            int max);

#endif
