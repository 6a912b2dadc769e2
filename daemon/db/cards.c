/*
 * cards: the card's lookup and the record of a consultation (see cards.h).
 */
#include "db/cards.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/coverage.h"
#include "base/log.h"
#include "base/mem.h"
#include "db/pgarray.h"
#include "db/store.h"

void card_facts_free(struct card_facts *f)
{
    free(f->decisions);
    memset(f, 0, sizeof *f);
}

struct lookup_call {
    struct card_facts *out;
    size_t days;
    db_done_cb cb;
    void *arg;
};

static void lookup_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct lookup_call call = *(struct lookup_call *)arg;
    free(arg);
    struct card_facts *f = call.out;
    if (o != PG_OK) {
        call.cb(call.arg, store_outcome(&Q_CARD_LOOKUP, o, res));
        return;
    }
    size_t n = 0;
    if ((size_t)PQntuples(res) % call.days != 0 ||
        !decisions_known_from_rows(res, &f->decisions, &n)) {
        log_error("db: card_lookup: %d rows for %zu days", PQntuples(res), call.days);
        card_facts_free(f);
        call.cb(call.arg, PG_BAD_DATA);
        return;
    }
    /* every day lists the same decisions (as they stood that day) */
    f->per_day = n / call.days;
    call.cb(call.arg, PG_OK);
}

void db_card_lookup(struct db *db, const char *ssin, pdate from, pdate to, struct card_facts *out,
                    db_done_cb cb, void *arg)
{
    struct lookup_call *call = xmalloc(sizeof *call);
    call->out = out;
    call->days = (size_t)(to - from + 1);
    call->cb = cb;
    call->arg = arg;
    char f[PDATE_STRLEN + 1], t[PDATE_STRLEN + 1];
    date_format(from, f);
    date_format(to, t);
    const char *params[] = {ssin, f, t, db->cfg->timezone};
    pg_submit(db->pool, &Q_CARD_LOOKUP, params, lookup_cb, call);
}

struct record_call {
    card_recorded_cb cb;
    void *arg;
};

static void record_cb(void *arg, enum pg_outcome o, const PGresult *res)
{
    struct record_call call = *(struct record_call *)arg;
    free(arg);
    if (o != PG_OK || PQntuples(res) != 1) {
        call.cb(call.arg, o == PG_OK ? PG_ERROR : store_outcome(&Q_CARD_INSERT, o, res), NULL);
        return;
    }
    call.cb(call.arg, PG_OK, PQgetvalue(res, 0, store_col(res, "answer")));
}

void db_card_record(struct db *db, const struct card_rec *rec, card_recorded_cb cb, void *arg)
{
    struct record_call *call = xmalloc(sizeof *call);
    call->cb = cb;
    call->arg = arg;
    char pid[24], f[PDATE_STRLEN + 1], t[PDATE_STRLEN + 1];
    snprintf(pid, sizeof pid, "%lld", (long long)rec->provider_id);
    date_format(rec->from, f);
    date_format(rec->to, t);
    struct pgarray reasons, ocmws;
    pgarray_init(&reasons);
    pgarray_init(&ocmws);
    for (int r = 0; r < RF__COUNT; r++)
        if (rec->summary->reasons & (1u << r))
            pgarray_add(&reasons, refusal_code((enum refusal)r));
    for (int i = 0; i < rec->summary->n_ocmws; i++)
        pgarray_add(&ocmws, rec->summary->ocmws[i]);
    const char *params[] = {pid,
                            rec->provider_org,
                            rec->ssin,
                            f,
                            t,
                            rec->summary->covered ? "t" : "f",
                            pgarray_finish(&reasons),
                            pgarray_finish(&ocmws),
                            rec->card};
    pg_submit(db->pool, &Q_CARD_INSERT, params, record_cb, call);
    pgarray_free(&reasons);
    pgarray_free(&ocmws);
}
