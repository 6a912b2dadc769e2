/*
 * cards: the provider's view of a person's card: what it is computed from
 * (the person's decisions as they stood on each day asked) and the record
 * of each consultation (schema/007: card_consultation), made before the
 * card is sent. Every call ends in exactly one callback, later.
 */
#ifndef MEDAID_DB_CARDS_H
#define MEDAID_DB_CARDS_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/card.h"
#include "proto/date.h"
#include "proto/decision.h"
#include "db/db.h"

struct card_facts {
    struct decision *decisions; /* day after day, per_day each; malloc'd */
    size_t per_day;             /* 0: the person has no decision at all */
};
void card_facts_free(struct card_facts *f);

/* Fill *out for ssin and the days from..to (at most CARD_MAX_DAYS). */
void db_card_lookup(struct db *db, const char *ssin, pdate from, pdate to, struct card_facts *out,
                    db_done_cb cb, void *arg);

struct card_rec {
    int64_t provider_id;
    const char *provider_org;
    const char *ssin;
    pdate from, to;
    const struct card_summary *summary;
    const char *card; /* the card without its number (card_encode) */
};
/* answer: the card as recorded and to be sent, with "consultation" (NULL
 * unless o == PG_OK). */
typedef void (*card_recorded_cb)(void *arg, enum pg_outcome o, const char *answer);
void db_card_record(struct db *db, const struct card_rec *rec, card_recorded_cb cb, void *arg);

#endif
