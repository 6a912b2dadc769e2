/*
 * mem: allocation that never returns NULL, and a per-request arena.
 *
 * The daemon does not try to answer 500 when malloc fails: a process out of
 * memory cannot promise anything, so xmalloc and friends print one line and
 * abort (the service manager restarts it; nothing acknowledged is lost, since
 * an answer is sent only after its commit).
 *
 * An arena is a chain of blocks from which small objects are carved and that
 * is freed as a whole (http/request.c frees a request's arena in one place).
 */
#ifndef MEDAID_BASE_MEM_H
#define MEDAID_BASE_MEM_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Abort with a message: for states that cannot happen. */
_Noreturn void die_impossible(const char *file, int line, const char *what);
/* Like assert(), but also in release builds, with a message. */
#define ASSERT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond))                                                                               \
            die_impossible(__FILE__, __LINE__, #cond);                                             \
    } while (0)

struct arena;

struct arena *arena_new(void);
/* Free every block; a NULL arena is ignored. */
void arena_free(struct arena *a);
/* Give back every object but keep the first block for reuse. */
void arena_reset(struct arena *a);
/* n bytes aligned for any object; never NULL */
void *arena_alloc(struct arena *a, size_t n);
void *arena_zalloc(struct arena *a, size_t n);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
/* bytes held by the arena (for tests and metrics) */
size_t arena_size(const struct arena *a);

#endif
