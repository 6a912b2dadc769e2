/*
 * lifecycle: the rules for changing a decision (DOMAIN.md "Rules the
 * registry enforces" 2-5): new versions, stops, and what other OCMWs may
 * see of a person's decisions. Pure.
 *
 * No change is retroactive. A version takes effect on the day it is
 * recorded: for a service date, the registry answers from the last version
 * recorded on or before that date (version 1 for dates before it was
 * recorded). So that the current version never claims less than was
 * promised for days already past, a change may not:
 *   - change the kind or the beneficiary's SSIN          (immutable_field)
 *   - move a start date that is already past, or move a start into the
 *     past (decision or cover)                            (retroactive_change)
 *   - end a period (decision or cover) before today when it ended later
 *                                                         (retroactive_change)
 *   - extend a period that ended before yesterday        (retroactive_change)
 *   - add a cover that starts before today                (retroactive_change)
 * Removing a cover, changing amounts, caps, lists, conditions and the state
 * share are allowed and apply from the day they are recorded.
 */
#ifndef MEDAID_PROTO_LIFECYCLE_H
#define MEDAID_PROTO_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>

#include "date.h"
#include "decision.h"
#include "problem.h"

/* Check next (a parsed, valid document) against cur (the current version).
 * Adds errors to errs; returns true when the change is allowed. */
bool decision_check_change(const struct decision *cur, const struct decision *next, pdate today,
                           struct verrs *errs);

/* Parse a stop request {"end": "YYYY-MM-DD"} (the last day still covered). */
enum parse_result stop_parse(const char *buf, size_t len, pdate *end, struct verrs *errs);

/* Parse the body of suspend/resume: empty, or an empty JSON object. */
enum parse_result empty_parse(const char *buf, size_t len, struct verrs *errs);

/* Apply a stop to d (the current version): end >= today, end >= start,
 * end <= the current end. Cover periods are cut at end (a cover that
 * starts after it keeps its start and so covers no day; it stays in the
 * version as a record of what was decided). Sets status stopped. Returns false with errs
 * filled when the stop is refused (codes: retroactive_change,
 * stop_before_start, stop_after_end). */
bool decision_apply_stop(struct decision *d, pdate end, pdate today, struct verrs *errs);

/* A change of an existing decision (POST /v1/decisions has no current status). */
enum decision_change { DC_UPDATE, DC_SUSPEND, DC_RESUME, DC_STOP };

/* What a change may do from a status. */
struct decision_transition {
    bool allowed;
    enum decision_status to; /* allowed: the status of the new version */
    enum problem problem;    /* refused: PROBLEM_INVALID_STATUS (409) */
    const char *detail;      /* refused: why, for the problem's detail */
};

/*
 * The status rules: update and stop from active or suspended (an update keeps
 * the status, a stop makes it stopped); suspend only from active; resume only
 * from suspended; nothing from stopped ("record a new decision").
 */
struct decision_transition decision_transition(enum decision_status from,
                                               enum decision_change change);

/* The summary another OCMW may see (GET /v1/beneficiaries/{ssin}/decisions):
 * {"id","ocmw","kind","period","status"}. d must carry meta. Returns a
 * cJSON object (caller owns) or NULL on allocation failure. */
struct cJSON *decision_summary_json(const struct decision *d);

#endif
