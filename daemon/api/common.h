/*
 * common: what every handler of api/ shares: the one mapping from how a
 * database step ended (enum pg_outcome, db/db.h) to an answer, and the
 * allocation hooks of cJSON.
 */
#ifndef MEDAID_API_COMMON_H
#define MEDAID_API_COMMON_H

#include "proto/problem.h"
#include "db/db.h"
#include "http/request.h"

/* The problem for a failed database step, and its detail: 503
 * database_timeout for a wait past db_wait_timeout_ms, 503
 * database_unavailable for the other passing failures (both sent with
 * Retry-After; pg_outcome_transient), 500 internal_error otherwise (logged
 * with the request's prefix). o must not be PG_OK. */
enum problem api_db_problem(struct request *r, enum pg_outcome o, const char **detail);

/* Answer a failed database step with api_db_problem's problem. */
void api_db_error(struct request *r, enum pg_outcome o);

/* {"error": problem} as the slot of a batch answer, malloc'd. */
char *api_error_slot(enum problem p, const char *detail, const struct verrs *errs, enum lang l);

/* A streamed list whose database step failed after the status was sent: the
 * last line says so ({"error":{"code","status","detail":"the list is
 * incomplete"}}) and the stream ends; a list is complete only without it. */
void api_stream_fail(struct request *r, enum pg_outcome o);

/* An Idempotency-Key header value: 1 to 255 visible ASCII characters. */
bool api_idempotency_key_ok(const char *k);

/* Make cJSON allocate with xmalloc (abort on exhaustion, like the rest of the
 * daemon), so that no handler needs an out-of-memory branch for it. Called
 * once from main() before any worker starts. */
void api_init_json_hooks(void);

/* The database handle of a read that may come from the standby
 * (read_database, db/db.h: db_auditor): an auditor's reads go to the
 * standby while it is up, and the answer then says up to when it had
 * replayed (header Medaid-Replica-Replay); everyone else's to the primary
 * (they must see their own writes). Take it once per request. */
struct db *api_auditor_db(struct request *r);

#endif
