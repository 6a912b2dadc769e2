/*
 * h_card: the provider's view of a person's card (DOMAIN.md "The provider's
 * view of the card"):
 *   1. the SSIN (400 invalid_parameter when it is not valid) and the days
 *      (date, or from and to: at most 31 days; 400 invalid_parameter);
 *   2. the person's decisions as they stood on each of those days, read
 *      under the person's lock (db_card_lookup);
 *   3. the card, for the care types the provider's kind may ask
 *      (proto/card.c, pure);
 *   4. recorded as a consultation with its own number (C...) before it is
 *      sent; that record is the read's trace in the audit trail.
 */
#include "api/card.h"

#include <stdlib.h>
#include <string.h>

#include "proto/card.h"
#include "proto/ids.h"
#include "api/common.h"
#include "base/mem.h"
#include "db/cards.h"

struct card_job {
    struct request *r;
    char ssin[12];
    pdate from, to;
    struct card_facts facts;
};

static void job_free(struct card_job *job)
{
    card_facts_free(&job->facts);
    free(job);
}

/* The job ends: with the recorded card (text, not NULL) or o's problem. */
static void job_end(struct card_job *job, enum pg_outcome o, const char *text)
{
    struct request *r = job->r;
    char *copy = o == PG_OK ? xstrdup(text) : NULL;
    job_free(job);
    if (copy)
        request_json(r, 200, copy);
    else
        api_db_error(r, o);
}

static void recorded_cb(void *arg, enum pg_outcome o, const char *answer)
{
    job_end(arg, o, answer);
}

static void lookup_cb(void *arg, enum pg_outcome o)
{
    struct card_job *job = arg;
    struct request *r = job->r;
    if (o != PG_OK) {
        job_end(job, o, NULL);
        return;
    }
    const struct principal *who = request_principal(r);
    struct card_summary sum;
    char *card =
        card_encode(job->ssin, job->from, job->to, job->facts.decisions, job->facts.per_day,
                    who->org, who->kind, request_today(r), request_lang(r), &sum);
    ASSERT(card != NULL);
    struct card_rec rec = {
        .provider_id = who->id,
        .provider_org = who->org,
        .ssin = job->ssin,
        .from = job->from,
        .to = job->to,
        .summary = &sum,
        .card = card,
    };
    db_card_record(request_db(r), &rec, recorded_cb, job);
    free(card);
}

void h_card(struct request *r)
{
    const char *ssin = request_param(r, 0);
    if (!ssin || !ids_ssin_valid(ssin, strlen(ssin))) {
        request_problem(r, PROBLEM_INVALID_PARAMETER,
                        "the SSIN is not a valid national register or BIS number", NULL, NULL);
        return;
    }
    pdate from, to;
    const char *why = card_range(request_query(r, "date"), request_query(r, "from"),
                                 request_query(r, "to"), &from, &to);
    if (why) {
        request_problem(r, PROBLEM_INVALID_PARAMETER, why, NULL, NULL);
        return;
    }
    struct card_job *job = xcalloc(1, sizeof *job);
    job->r = r;
    memcpy(job->ssin, ssin, 11);
    job->from = from;
    job->to = to;
    db_card_lookup(request_db(r), job->ssin, from, to, &job->facts, lookup_cb, job);
}
