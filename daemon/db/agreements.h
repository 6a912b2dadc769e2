/*
 * agreements: recording coverage answers, with group commit.
 *
 * Answers that arrive during one turn of a worker's event loop are written
 * in one statement (one transaction, one commit) at the end of that turn:
 * durability costs one fsync per turn, not one per answer. Each answer is
 * acknowledged to its caller only after that commit.
 */
#ifndef MEDAID_AGREEMENTS_H
#define MEDAID_AGREEMENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/date.h"
#include "proto/decision.h"
#include "db/pg.h"

struct event_base;
struct agreement_queue;

struct agreement_rec {
    int64_t provider_id;
    char provider_org[16];
    char ssin[12];
    pdate service_date;
    enum care_type care_type;
    bool covered;
    const char *reason;   /* refusal code (static) or NULL */
    char decision_id[24]; /* "" when no decision answered */
    int decision_version;
    char known_at[40]; /* when the answer's data was read ("" when none was) */
    char *question;    /* JSON, malloc'd, taken over */
    char *answer;      /* JSON object without "agreement", malloc'd, taken over */
};

/* answer: the text recorded and to be sent (NULL unless o == PG_OK); valid
 * during the call only. */
typedef void (*agreement_cb)(void *arg, enum pg_outcome o, const char *answer, const PGresult *res);

struct agreement_queue *agreements_new(struct event_base *base, struct pg_pool *pool);
void agreements_free(struct agreement_queue *q);
/* Queue rec (taken over, freed by the queue) for the end of this loop turn. */
void agreements_record(struct agreement_queue *q, struct agreement_rec *rec, agreement_cb cb,
                       void *arg);

#endif
