/* unit tests: proto/lifecycle decision_transition (the status rules of h_decision.c) */
#include <string.h>

#include "lifecycle.h"
#include "tap.h"

static void allowed(enum decision_status from, enum decision_change c, enum decision_status to,
                    const char *what)
{
    struct decision_transition t = decision_transition(from, c);
    ok(t.allowed && t.to == to && t.detail == NULL, "%s: allowed, to %s", what,
       decision_status_name(to));
}

static void refused(enum decision_status from, enum decision_change c, const char *detail,
                    const char *what)
{
    struct decision_transition t = decision_transition(from, c);
    ok(!t.allowed && t.problem == PROBLEM_INVALID_STATUS && problem_status(t.problem) == 409,
       "%s: refused with 409 invalid_status", what);
    is_str(t.detail ? t.detail : "(none)", detail, "%s: the detail", what);
    is_int(t.to, from, "%s: the status stays", what);
}

int main(void)
{
    allowed(DS_ACTIVE, DC_UPDATE, DS_ACTIVE, "update active");
    allowed(DS_SUSPENDED, DC_UPDATE, DS_SUSPENDED, "update suspended (no resume)");
    refused(DS_STOPPED, DC_UPDATE, "the decision is stopped: record a new decision",
            "update stopped");

    allowed(DS_ACTIVE, DC_SUSPEND, DS_SUSPENDED, "suspend active");
    refused(DS_SUSPENDED, DC_SUSPEND, "the decision is already suspended", "suspend suspended");
    refused(DS_STOPPED, DC_SUSPEND, "a stopped decision cannot be suspended", "suspend stopped");

    refused(DS_ACTIVE, DC_RESUME, "only a suspended decision can be resumed", "resume active");
    allowed(DS_SUSPENDED, DC_RESUME, DS_ACTIVE, "resume suspended");
    refused(DS_STOPPED, DC_RESUME, "only a suspended decision can be resumed", "resume stopped");

    allowed(DS_ACTIVE, DC_STOP, DS_STOPPED, "stop active");
    allowed(DS_SUSPENDED, DC_STOP, DS_STOPPED, "stop suspended");
    refused(DS_STOPPED, DC_STOP, "the decision is stopped: record a new decision", "stop stopped");

    struct decision_transition t = decision_transition((enum decision_status)7, DC_UPDATE);
    ok(!t.allowed && t.problem == PROBLEM_INVALID_STATUS, "an unknown status is refused");
    t = decision_transition(DS_ACTIVE, (enum decision_change)9);
    ok(!t.allowed && t.detail != NULL, "an unknown change is refused");
    return done_testing();
}
