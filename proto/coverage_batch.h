/*
 * coverage_batch: the envelope of POST /v1/coverage/batch,
 * {"questions": [question, ...]} (docs/protocol.md). Pure: the daemon asks
 * each question as POST /v1/coverage would, and puts the answers, or an
 * error for a question that cannot be asked, in order.
 */
#ifndef MEDAID_PROTO_COVERAGE_BATCH_H
#define MEDAID_PROTO_COVERAGE_BATCH_H

#include <stddef.h>

#include "decision.h" /* enum parse_result */
#include "messages.h" /* enum lang */
#include "problem.h"

#define COVERAGE_BATCH_MAX 1000 /* questions in one batch */

/* the slot of a question the registry failed to ask (memory) */
#define COVERAGE_BATCH_INTERNAL_ERROR_SLOT                                                         \
    "{\"error\":{\"code\":\"internal_error\",\"status\":500}}"

struct coverage_batch; /* opaque */

enum coverage_batch_result {
    CB_OK,
    CB_MALFORMED, /* not one JSON object: 400 malformed_json */
    CB_INVALID,   /* errs says why: 422 validation_failed */
    CB_NO_MEMORY, /* 500 internal_error */
};

/*
 * Split buf[0..len) (strict JSON, jsonx rules). The object must have exactly
 * the member "questions" (others: unknown_field; twice: duplicate_field), an
 * array (required, wrong_type) of 1 to COVERAGE_BATCH_MAX elements (too_few,
 * too_many, field "questions", "must hold 1 to 1000 questions"). The
 * elements are not checked here: each is a question for
 * coverage_batch_question. On CB_OK *out is the batch (coverage_batch_free).
 */
enum coverage_batch_result coverage_batch_parse(const char *buf, size_t len,
                                                struct coverage_batch **out, struct verrs *errs);

/* How to answer a result that is not CB_OK: the problem and its detail
 * ("the body is not a JSON object", "the batch is not a list of questions",
 * "out of memory"). */
enum problem coverage_batch_problem(enum coverage_batch_result r, const char **detail);

int coverage_batch_count(const struct coverage_batch *b);

/* Question i (0 <= i < count) as compact JSON text, as coverage_parse_question
 * takes it. malloc'd; NULL when memory ran out (its slot is then
 * COVERAGE_BATCH_INTERNAL_ERROR_SLOT). */
char *coverage_batch_question_text(const struct coverage_batch *b, int i);

/* The slot of a question coverage_parse_question refused (pr is
 * PARSE_MALFORMED or PARSE_INVALID): {"error":<problem document>} with
 * malformed_json or validation_failed, the detail "this question is
 * incomplete or wrong" and errs. malloc'd; NULL when memory ran out. */
char *coverage_batch_error_slot(enum parse_result pr, const struct verrs *errs, enum lang l);

void coverage_batch_free(struct coverage_batch *b);

#endif
