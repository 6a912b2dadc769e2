/*
 * ratelimit: per-principal token buckets (see ratelimit.h).
 *
 * Tokens are counted in thousandths so that the refill is integer
 * arithmetic: per_s tokens a second are per_s thousandths a millisecond.
 * The table is open addressing on the principal id, grown at 3/4; buckets
 * are never removed (there is one per registered principal that asked).
 */
#include "auth/ratelimit.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "base/mem.h"

#define MILLI 1000

struct bucket {
    int64_t id;
    int64_t milli;   /* tokens x 1000 */
    int64_t last_ms; /* when milli was last brought up to date */
    bool used;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct bucket *table;
static size_t cap, count;
static _Atomic uint64_t refused;

static size_t slot_of(int64_t id, size_t n)
{
    uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 17) & (n - 1);
}

static struct bucket *find_or_add(int64_t id)
{
    if (cap == 0 || (count + 1) * 4 > cap * 3) {
        size_t ncap = cap ? cap * 2 : 64;
        struct bucket *nt = xcalloc(ncap, sizeof *nt);
        for (size_t i = 0; i < cap; i++) {
            if (!table[i].used)
                continue;
            size_t s = slot_of(table[i].id, ncap);
            while (nt[s].used)
                s = (s + 1) & (ncap - 1);
            nt[s] = table[i];
        }
        free(table);
        table = nt;
        cap = ncap;
    }
    size_t s = slot_of(id, cap);
    while (table[s].used && table[s].id != id)
        s = (s + 1) & (cap - 1);
    return &table[s];
}

bool ratelimit_take(int64_t id, int64_t per_s, int64_t burst, int64_t now_ms,
                    int64_t *retry_after_s)
{
    if (per_s <= 0)
        return true;
    if (burst < 1)
        burst = 1;
    int64_t full = burst * MILLI;
    bool ok;
    pthread_mutex_lock(&lock);
    struct bucket *b = find_or_add(id);
    if (!b->used) {
        b->used = true;
        b->id = id;
        b->milli = full;
        b->last_ms = now_ms;
        count++;
    }
    if (now_ms > b->last_ms) {
        int64_t gained = (now_ms - b->last_ms) * per_s; /* thousandths */
        b->milli = gained >= full - b->milli ? full : b->milli + gained;
        b->last_ms = now_ms;
    }
    if (b->milli > full) /* the burst was lowered by a reload */
        b->milli = full;
    ok = b->milli >= MILLI;
    if (ok) {
        b->milli -= MILLI;
    } else {
        int64_t wait_ms = (MILLI - b->milli + per_s - 1) / per_s;
        *retry_after_s = (wait_ms + 999) / 1000;
        if (*retry_after_s < 1)
            *retry_after_s = 1;
    }
    pthread_mutex_unlock(&lock);
    if (!ok)
        atomic_fetch_add(&refused, 1);
    return ok;
}

uint64_t ratelimit_refused(void)
{
    return atomic_load(&refused);
}

void ratelimit_reset(void)
{
    pthread_mutex_lock(&lock);
    free(table);
    table = NULL;
    cap = count = 0;
    pthread_mutex_unlock(&lock);
}
