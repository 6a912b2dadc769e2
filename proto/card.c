/*
 * card: the provider's view of a person's card (see card.h).
 */
#include "card.h"

#include <stdio.h>
#include <string.h>

#include "jsonx.h"

const char *card_range(const char *date, const char *from, const char *to, pdate *from_out,
                       pdate *to_out)
{
    if (date && (from || to))
        return "give either date, or from and to";
    if (date) {
        if (!date_parse(date, strlen(date), from_out))
            return "date must be YYYY-MM-DD";
        *to_out = *from_out;
        return NULL;
    }
    if (!from || !to)
        return "give date=YYYY-MM-DD, or from= and to= (a period of at most 31 days)";
    if (!date_parse(from, strlen(from), from_out))
        return "from must be YYYY-MM-DD";
    if (!date_parse(to, strlen(to), to_out))
        return "to must be YYYY-MM-DD";
    if (*to_out < *from_out)
        return "to must not be before from";
    if (*to_out - *from_out + 1 > CARD_MAX_DAYS)
        return "a period of at most 31 days";
    return NULL;
}

/* one day's outcome for one care type */
struct outcome {
    enum refusal reason; /* RF_NONE: a cover is shown (designated or not) */
    bool designated;
    const struct decision *d;
    const struct cover *c;
};

static bool same(const struct outcome *a, const struct outcome *b)
{
    if (a->reason != b->reason)
        return false;
    if (a->reason != RF_NONE)
        return true;
    return a->designated == b->designated && strcmp(a->d->id, b->d->id) == 0 &&
           a->d->version == b->d->version && a->c->period.start == b->c->period.start &&
           a->c->period.end == b->c->period.end &&
           a->c->prescription_required == b->c->prescription_required &&
           a->c->convention == b->c->convention &&
           a->d->urgent_attestation_required == b->d->urgent_attestation_required;
}

static void judge_day(const char *ssin, pdate day, enum care_type t, const struct decision *ds,
                      size_t n, const char *provider, enum provider_kind kind, pdate today,
                      struct outcome *o)
{
    struct coverage_question q;
    memset(&q, 0, sizeof q);
    snprintf(q.ssin, sizeof q.ssin, "%s", ssin);
    q.ssin_valid = true;
    q.service_date = day;
    q.care_type = t;
    struct coverage_result r;
    coverage_evaluate_kind(&q, ds, n, provider, kind, today, &r);
    memset(o, 0, sizeof *o);
    if ((r.reason == RF_NONE || r.reason == RF_PROVIDER_NOT_DESIGNATED) && r.decision && r.cover) {
        o->reason = RF_NONE;
        o->designated = r.reason == RF_NONE;
        o->d = r.decision;
        o->c = r.cover;
    } else {
        o->reason = r.reason == RF_NONE ? RF_NO_ACTIVE_DECISION : r.reason;
    }
}

static void note_ocmw(struct card_summary *sum, const char *ocmw)
{
    for (int i = 0; i < sum->n_ocmws; i++)
        if (strcmp(sum->ocmws[i], ocmw) == 0)
            return;
    if (sum->n_ocmws < CARD_MAX_OCMWS)
        snprintf(sum->ocmws[sum->n_ocmws++], sizeof sum->ocmws[0], "%s", ocmw);
}

static bool add_run(cJSON *covers, cJSON *not_covered, enum care_type t, pdate from, pdate to,
                    const struct outcome *o, enum lang l, struct card_summary *sum)
{
    cJSON *e = cJSON_CreateObject();
    if (e == NULL)
        return false;
    if (!cJSON_AddItemToArray(o->reason == RF_NONE ? covers : not_covered, e)) {
        cJSON_Delete(e);
        return false;
    }
    bool ok = jx_add_str(e, "care_type", care_type_name(t)) && jx_add_date(e, "from", from) &&
              jx_add_date(e, "to", to);
    if (!ok)
        return false;
    if (o->reason != RF_NONE) {
        sum->reasons |= 1u << o->reason;
        cJSON *re = cJSON_AddObjectToObject(e, "reason");
        return re != NULL && jx_add_str(re, "code", refusal_code(o->reason)) &&
               jx_add_str(re, "message", refusal_message(o->reason, l));
    }
    sum->covered = true;
    note_ocmw(sum, o->d->ocmw);
    cJSON *dj = NULL;
    ok = jx_add_period(e, "period", o->c->period.start, o->c->period.end) &&
         jx_add_bool(e, "prescription_required", o->c->prescription_required) &&
         jx_add_bool(e, "convention", o->c->convention) &&
         jx_add_bool(e, "urgent_attestation_required", o->d->urgent_attestation_required) &&
         jx_add_bool(e, "designated", o->designated) &&
         (dj = cJSON_AddObjectToObject(e, "decision")) != NULL;
    return ok && jx_add_str(dj, "id", o->d->id) && jx_add_int(dj, "version", o->d->version) &&
           jx_add_str(dj, "ocmw", o->d->ocmw);
}

char *card_encode(const char *ssin, pdate from, pdate to, const struct decision *decisions,
                  size_t per_day, const char *provider, enum provider_kind kind, pdate today,
                  enum lang l, struct card_summary *sum)
{
    memset(sum, 0, sizeof *sum);
    cJSON *root = cJSON_CreateObject();
    if (root == NULL)
        return NULL;
    bool ok = jx_add_str(root, "ssin", ssin) && jx_add_date(root, "from", from) &&
              jx_add_date(root, "to", to) &&
              jx_add_str(root, "provider_kind", provider_kind_name(kind));
    cJSON *covers = ok ? cJSON_AddArrayToObject(root, "covers") : NULL;
    cJSON *not_covered = covers ? cJSON_AddArrayToObject(root, "not_covered") : NULL;
    ok = not_covered != NULL && to >= from && to - from < CARD_MAX_DAYS;
    for (int t = 0; ok && t < CT__COUNT; t++) {
        if (!provider_kind_may_ask(kind, (enum care_type)t))
            continue;
        struct outcome run, cur;
        pdate run_from = from;
        for (pdate day = from; ok && day <= to; day++) {
            const struct decision *ds = per_day ? decisions + (size_t)(day - from) * per_day : NULL;
            judge_day(ssin, day, (enum care_type)t, ds, per_day, provider, kind, today, &cur);
            if (day == from) {
                run = cur;
            } else if (!same(&run, &cur)) {
                ok = add_run(covers, not_covered, (enum care_type)t, run_from, day - 1, &run, l,
                             sum);
                run = cur;
                run_from = day;
            }
        }
        if (ok)
            ok = add_run(covers, not_covered, (enum care_type)t, run_from, to, &run, l, sum);
    }
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return jx_print_free(root);
}
