/*
 * card: the provider's view of a person's card (DOMAIN.md "The provider's
 * view of the card", MediPrima's consultation). Pure: the daemon reads the
 * person's decisions as they stood on each day asked, this module answers.
 */
#ifndef MEDAID_PROTO_CARD_H
#define MEDAID_PROTO_CARD_H

#include <stdbool.h>
#include <stddef.h>

#include "coverage.h"
#include "date.h"
#include "decision.h"
#include "provider_kind.h"

#define CARD_MAX_DAYS  31 /* a period asked: at most 31 days */
#define CARD_MAX_OCMWS 8  /* OCMWs kept in a summary */

/*
 * The days asked, from the query: either date=D alone, or from=F and to=T
 * together (F <= T, at most CARD_MAX_DAYS days). Each value is YYYY-MM-DD.
 * NULL when they are right (*from, *to set), else why not, for a 400
 * invalid_parameter ("date must be YYYY-MM-DD", ...).
 */
const char *card_range(const char *date, const char *from, const char *to, pdate *from_out,
                       pdate *to_out);

/* What one card said, for the record of the consultation. */
struct card_summary {
    bool covered;     /* at least one cover is shown */
    unsigned reasons; /* bit (1u << r) per enum refusal given */
    int n_ocmws;
    char ocmws[CARD_MAX_OCMWS][16]; /* of the covers shown, distinct */
};

/*
 * The card of ssin (a valid SSIN) for the days from..to (card_range) as a
 * provider (provider: its organisation number; kind: its kind) sees it on
 * `today`. decisions holds, day after day, the person's decisions as they
 * stood for that day: per_day of them each (0: no decision at all), so
 * (to - from + 1) * per_day in all.
 *
 * For each care type the kind may ask (provider_kind_may_ask), in the order
 * of enum care_type, each day is judged as a coverage question without
 * items (coverage_evaluate_kind); consecutive days with the same outcome
 * are one entry:
 *   "covers": [{"care_type", "from", "to" (the days asked it answers for),
 *               "period" (the cover's), "prescription_required", "convention",
 *               "urgent_attestation_required", "designated" (true when the cover
 *               designates no provider or this one; never the list),
 *               "decision": {"id", "version", "ocmw"}}]
 *   "not_covered": [{"care_type", "from", "to", "reason": {"code", "message"}}]
 * The whole: {"ssin", "from", "to", "provider_kind", "covers", "not_covered"};
 * never an amount. A cover whose only refusal is provider_not_designated is
 * shown with "designated": false. Returns malloc'd JSON starting with '{'
 * (NULL when memory ran out); *sum says what it showed.
 */
char *card_encode(const char *ssin, pdate from, pdate to, const struct decision *decisions,
                  size_t per_day, const char *provider, enum provider_kind kind, pdate today,
                  enum lang l, struct card_summary *sum);

#endif
