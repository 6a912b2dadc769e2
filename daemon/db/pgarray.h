/*
 * pgarray: text literals of PostgreSQL arrays ({"a","b",NULL}) to pass many
 * values as one parameter of a prepared statement.
 */
#ifndef MEDAID_PGARRAY_H
#define MEDAID_PGARRAY_H

#include <stdbool.h>
#include <stddef.h>

struct pgarray {
    char *buf;
    size_t len, cap;
    size_t n;
    bool oom;
};

void pgarray_init(struct pgarray *a);
/* Append one element; NULL is SQL NULL. */
void pgarray_add(struct pgarray *a, const char *s);
/* The literal (never NULL: memory is xrealloc'd). Valid until pgarray_free. */
const char *pgarray_finish(struct pgarray *a);
void pgarray_free(struct pgarray *a);

#endif
