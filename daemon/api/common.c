/*
 * common: database outcomes to answers, cJSON's allocator.
 */
#include "api/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/principal.h"

enum problem api_db_problem(struct request *r, enum pg_outcome o, const char **detail)
{
    enum problem p = db_outcome_problem(o, detail);
    if (p == PROBLEM_INTERNAL_ERROR)
        log_ctx(LOG_ERROR, request_log_prefix(r), "database step failed (outcome %d)", (int)o);
    return p;
}

void api_db_error(struct request *r, enum pg_outcome o)
{
    const char *detail;
    enum problem p = api_db_problem(r, o, &detail);
    request_problem(r, p, detail, NULL, NULL);
}

void api_stream_fail(struct request *r, enum pg_outcome o)
{
    const char *detail;
    enum problem p = api_db_problem(r, o, &detail);
    char line[256];
    int n = snprintf(line, sizeof line,
                     "{\"error\":{\"code\":\"%s\",\"status\":%d,\"detail\":\"the list is "
                     "incomplete\"}}",
                     problem_code(p), problem_status(p));
    request_stream_line(r, line, (size_t)n);
    request_stream_end(r);
}

char *api_error_slot(enum problem p, const char *detail, const struct verrs *errs, enum lang l)
{
    char *doc = problem_encode_lang(p, detail, errs, NULL, l);
    ASSERT(doc != NULL);
    char *slot = xasprintf("{\"error\":%s}", doc);
    free(doc);
    return slot;
}

static void *json_malloc(size_t n)
{
    return xmalloc(n);
}

void api_init_json_hooks(void)
{
    cJSON_Hooks hooks = {.malloc_fn = json_malloc, .free_fn = free};
    cJSON_InitHooks(&hooks);
}

bool api_idempotency_key_ok(const char *k)
{
    size_t n = strlen(k);
    if (n < 1 || n > 255)
        return false;
    for (size_t i = 0; i < n; i++)
        if (k[i] < 0x21 || k[i] > 0x7e)
            return false;
    return true;
}

struct db *api_auditor_db(struct request *r)
{
    const struct principal *p = request_principal(r);
    if (!p || p->role != ROLE_AUDITOR)
        return request_db(r);
    struct db *db = db_auditor(request_db(r));
    char at[48];
    if (db_standby_replay(db, at, sizeof at))
        request_add_header(r, "Medaid-Replica-Replay", at);
    return db;
}
