/*
 * reads: the read record, then the answer.
 */
#include "api/reads.h"

#include <stdlib.h>

#include "api/common.h"
#include "base/mem.h"
#include "db/reads.h"

struct read_answer {
    struct request *r;
    int status;
    char *json;
    void (*next)(void *arg);
    void (*fail)(void *arg);
    void *arg;
};

static void recorded_cb(void *arg, enum pg_outcome o)
{
    struct read_answer a = *(struct read_answer *)arg;
    free(arg);
    if (o != PG_OK) {
        free(a.json);
        api_db_error(a.r, o);
        if (a.fail)
            a.fail(a.arg);
        return;
    }
    if (a.next)
        a.next(a.arg);
    else if (a.status == 304) {
        free(a.json);
        request_not_modified(a.r);
    } else
        request_json(a.r, a.status, a.json);
}

static void record(struct request *r, const char *action, const char *object, const char *ssin,
                   struct read_answer *a)
{
    db_read_record(request_db(r), request_principal(r)->id, action, object, ssin, recorded_cb, a);
}

void api_read_answer(struct request *r, const char *action, const char *object, const char *ssin,
                     int status, char *json)
{
    struct read_answer *a = xcalloc(1, sizeof *a);
    a->r = r;
    a->status = status;
    a->json = json;
    record(r, action, object, ssin, a);
}

void api_read_then(struct request *r, const char *action, const char *object, const char *ssin,
                   void (*next)(void *arg), void (*fail)(void *arg), void *arg)
{
    struct read_answer *a = xcalloc(1, sizeof *a);
    a->r = r;
    a->next = next;
    a->fail = fail;
    a->arg = arg;
    record(r, action, object, ssin, a);
}
