/*
 * mem: xmalloc and friends, assertions, the arena.
 */
#include "base/mem.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static _Noreturn void oom(size_t n)
{
    char msg[96];
    int len = snprintf(msg, sizeof msg, "medaidd: out of memory (%zu bytes); aborting\n", n);
    if (len > 0)
        (void)!write(STDERR_FILENO, msg, (size_t)len);
    abort();
}

_Noreturn void die_impossible(const char *file, int line, const char *what)
{
    char msg[512];
    int len = snprintf(msg, sizeof msg, "medaidd: %s:%d: impossible state: %s; aborting\n", file,
                       line, what);
    if (len > 0)
        (void)!write(STDERR_FILENO, msg, (size_t)len);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        oom(count * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = NULL;
    int n = vasprintf(&out, fmt, ap);
    va_end(ap);
    if (n < 0)
        oom(0);
    return out;
}

/* ---- arena ------------------------------------------------------------------- */

#define ARENA_BLOCK 4096
#define ARENA_ALIGN alignof(max_align_t)

struct block {
    struct block *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    alignas(max_align_t) unsigned char data[];
};

struct arena {
    struct block *head; /* the block being carved; older blocks follow */
    size_t total;
};

static struct block *block_new(size_t at_least)
{
    size_t size = at_least > ARENA_BLOCK ? at_least : ARENA_BLOCK;
    struct block *b = xmalloc(sizeof *b + size);
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

struct arena *arena_new(void)
{
    return xcalloc(1, sizeof(struct arena));
}

void arena_free(struct arena *a)
{
    if (!a)
        return;
    struct block *b = a->head;
    while (b) {
        struct block *next = b->next;
        free(b);
        b = next;
    }
    free(a);
}

void arena_reset(struct arena *a)
{
    if (!a->head)
        return;
    /* keep the oldest block (the last in the chain), free the rest */
    struct block *b = a->head;
    while (b->next) {
        struct block *next = b->next;
        free(b);
        b = next;
    }
    b->used = 0;
    a->head = b;
    a->total = b->size;
}

void *arena_alloc(struct arena *a, size_t n)
{
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (need < n)
        oom(n);
    struct block *b = a->head;
    if (!b || b->size - b->used < need) {
        b = block_new(need);
        b->next = a->head;
        a->head = b;
        a->total += b->size;
    }
    void *p = b->data + b->used;
    b->used += need;
    return p;
}

void *arena_zalloc(struct arena *a, size_t n)
{
    void *p = arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

size_t arena_size(const struct arena *a)
{
    return a->total;
}
