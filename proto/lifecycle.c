/*
 * lifecycle: change rules for decisions (see lifecycle.h).
 *
 * Per-field error codes used here:
 *   immutable_field     kind or beneficiary.ssin changed
 *   retroactive_change  a change would alter what was covered before today
 *   stop_before_start   a stop before the decision's start
 *   stop_after_end      a stop after the decision's current end
 *   required, wrong_type, unknown_field, duplicate_field, invalid_date
 *                       (stop and empty bodies, as elsewhere)
 */
#include "lifecycle.h"

#include <string.h>

#include <cjson/cJSON.h>

#include "jsonx.h"

static void check_period(struct verrs *e, const char *path, const struct period *o,
                         const struct period *n, pdate today)
{
    char f[128], a[PDATE_STRLEN + 1], b[PDATE_STRLEN + 1];
    date_format(today, b);
    if (n->start != o->start && (o->start < today || n->start < today)) {
        jx_path(f, sizeof f, path, "start");
        date_format(o->start, a);
        verrs_add(e, f, "retroactive_change",
                  "was %s: a start date in the past cannot move, and a start cannot move "
                  "before today (%s)",
                  a, b);
    }
    if (n->end < o->end && n->end < today) {
        jx_path(f, sizeof f, path, "end");
        verrs_add(e, f, "retroactive_change",
                  "a period can be shortened to end today (%s) at the earliest", b);
    }
    if (n->end > o->end && o->end < today - 1) {
        jx_path(f, sizeof f, path, "end");
        date_format(o->end, a);
        verrs_add(e, f, "retroactive_change",
                  "this period ended on %s and cannot be extended into days already past", a);
    }
}

bool decision_check_change(const struct decision *cur, const struct decision *next, pdate today,
                           struct verrs *errs)
{
    int before = errs->n;
    bool trunc = errs->truncated;
    if (next->kind != cur->kind)
        verrs_add(errs, "kind", "immutable_field", "cannot change (the decision is a %s decision)",
                  decision_kind_name(cur->kind));
    if (strcmp(next->ssin, cur->ssin) != 0)
        verrs_add(errs, "beneficiary.ssin", "immutable_field",
                  "cannot change: a decision belongs to one person");
    check_period(errs, "period", &cur->period, &next->period, today);
    for (int i = 0; i < next->n_covers; i++) {
        const struct cover *nc = &next->covers[i];
        const struct cover *oc = decision_cover(cur, nc->care_type);
        char path[32], ppath[48];
        jx_path_index(path, sizeof path, "covers", (size_t)i);
        jx_path(ppath, sizeof ppath, path, "period");
        if (oc) {
            check_period(errs, ppath, &oc->period, &nc->period, today);
        } else if (nc->period.start < today) {
            char f[64], t[PDATE_STRLEN + 1];
            jx_path(f, sizeof f, ppath, "start");
            date_format(today, t);
            verrs_add(errs, f, "retroactive_change",
                      "a cover added by a change starts today (%s) at the earliest", t);
        }
    }
    return errs->n == before && errs->truncated == trunc;
}

enum parse_result stop_parse(const char *buf, size_t len, pdate *end, struct verrs *errs)
{
    verrs_init(errs);
    bool refused = false;
    cJSON *root = jx_parse_checked(buf, len, errs, &refused);
    if (refused)
        return PARSE_INVALID; /* invalid_utf8, out_of_range */
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return PARSE_MALFORMED;
    }
    struct jx_field f[] = {{"end", NULL}};
    jx_walk(root, "", f, 1, NULL, errs);
    jx_get_date(f[0].item, "end", true, false, end, errs);
    cJSON_Delete(root);
    return errs->n ? PARSE_INVALID : PARSE_OK;
}

enum parse_result empty_parse(const char *buf, size_t len, struct verrs *errs)
{
    verrs_init(errs);
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    if (i == len)
        return PARSE_OK;
    bool refused = false;
    cJSON *root = jx_parse_checked(buf, len, errs, &refused);
    if (refused)
        return PARSE_INVALID; /* invalid_utf8, out_of_range */
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return PARSE_MALFORMED;
    }
    jx_walk(root, "", NULL, 0, NULL, errs);
    cJSON_Delete(root);
    return errs->n ? PARSE_INVALID : PARSE_OK;
}

bool decision_apply_stop(struct decision *d, pdate end, pdate today, struct verrs *errs)
{
    char a[PDATE_STRLEN + 1];
    verrs_init(errs);
    if (end < today) {
        date_format(today, a);
        verrs_add(errs, "end", "retroactive_change",
                  "a stop takes effect no earlier than today: end today (%s) or later", a);
    } else if (end < d->period.start) {
        date_format(d->period.start, a);
        verrs_add(errs, "end", "stop_before_start",
                  "the decision starts on %s: stop it on that day or later", a);
    } else if (end > d->period.end) {
        date_format(d->period.end, a);
        verrs_add(errs, "end", "stop_after_end", "the decision already ends on %s", a);
    }
    if (errs->n)
        return false;
    d->period.end = end;
    /* covers end with the decision; one that would start later covers no day */
    for (int i = 0; i < d->n_covers; i++)
        if (d->covers[i].period.end > end)
            d->covers[i].period.end = end;
    d->status = DS_STOPPED;
    return true;
}

cJSON *decision_summary_json(const struct decision *d)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if (!jx_add_str(o, "id", d->id) || !jx_add_str(o, "ocmw", d->ocmw) ||
        !jx_add_str(o, "kind", decision_kind_name(d->kind)) ||
        !jx_add_period(o, "period", d->period.start, d->period.end) ||
        !jx_add_str(o, "status", decision_status_name(d->status))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

struct decision_transition decision_transition(enum decision_status from,
                                               enum decision_change change)
{
    struct decision_transition t = {false, from, PROBLEM_INVALID_STATUS, NULL};
    if (from != DS_ACTIVE && from != DS_SUSPENDED && from != DS_STOPPED) {
        t.detail = "the decision's status is not known";
        return t;
    }
    switch (change) {
    case DC_UPDATE:
    case DC_STOP:
        if (from == DS_STOPPED)
            t.detail = "the decision is stopped: record a new decision";
        else
            t.to = change == DC_STOP ? DS_STOPPED : from;
        break;
    case DC_SUSPEND:
        if (from != DS_ACTIVE)
            t.detail = from == DS_SUSPENDED ? "the decision is already suspended"
                                            : "a stopped decision cannot be suspended";
        else
            t.to = DS_SUSPENDED;
        break;
    case DC_RESUME:
        if (from != DS_SUSPENDED)
            t.detail = "only a suspended decision can be resumed";
        else
            t.to = DS_ACTIVE;
        break;
    default:
        t.detail = "not a change of a decision";
        break;
    }
    t.allowed = t.detail == NULL;
    return t;
}
