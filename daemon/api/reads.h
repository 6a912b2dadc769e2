/*
 * reads: every read of a person's data leaves an audit record (db/reads.h)
 * before it is answered: what was read is in the trail once the client has
 * it. A record that cannot be written fails the read (503 or 500, no data).
 */
#ifndef MEDAID_API_READS_H
#define MEDAID_API_READS_H

#include "http/request.h"

/* Record the read (the request's principal; action "read.<what>", object,
 * ssin or NULL), then answer r with status and json (taken over). */
void api_read_answer(struct request *r, const char *action, const char *object, const char *ssin,
                     int status, char *json);

/* Record the read, then call next(arg) (which answers r); on failure
 * answer r with the error and call fail(arg) to free it (may be NULL). */
void api_read_then(struct request *r, const char *action, const char *object, const char *ssin,
                   void (*next)(void *arg), void (*fail)(void *arg), void *arg);

#endif
