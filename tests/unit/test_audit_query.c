/* unit tests: proto/audit_query (the audit filters) */
#include <stdio.h>
#include <string.h>

#include "audit_query.h"
#include "tap.h"

#define SSIN "85073003328"
#define KBO  "0212345668" /* valid check digits */

static struct audit_query q;
static struct verrs e;
static enum problem pr;
static const char *detail;

/* parse qs ("a=1&b", values as the HTTP layer hands them over: decoded; a
 * name without '=' has no value) for kind; true when accepted */
static bool run(enum audit_query_kind kind, const char *qs)
{
    static char buf[512];
    struct audit_param pairs[16];
    size_t n = 0;
    snprintf(buf, sizeof buf, "%s", qs);
    for (char *seg = strtok(buf, "&"); seg && n < 16; seg = strtok(NULL, "&")) {
        char *eq = strchr(seg, '=');
        if (eq)
            *eq = '\0';
        pairs[n++] = (struct audit_param){seg, eq ? eq + 1 : NULL};
    }
    verrs_init(&e);
    pr = PROBLEM__COUNT;
    detail = NULL;
    return audit_query_parse(kind, pairs, n, &q, &e, &pr, &detail);
}

/* refused with one error on field with code */
static void refused(enum audit_query_kind kind, const char *qs, enum problem want,
                    const char *field, const char *code)
{
    bool good = run(kind, qs);
    ok(!good && pr == want && e.n == 1 && strcmp(e.items[0].field, field) == 0 &&
           strcmp(e.items[0].code, code) == 0,
       "%s: %s on %s (%s)", qs, code, field, e.n ? e.items[0].code : "no error");
}

static void accepted(enum audit_query_kind kind, const char *qs)
{
    bool good = run(kind, qs);
    ok(good && e.n == 0, "%s: accepted%s%s", qs, e.n ? ", but " : "", e.n ? e.items[0].field : "");
}

int main(void)
{
    /* consultations */
    accepted(AQ_CONSULTATIONS, "");
    is_int(q.limit, AUDIT_LIMIT_DEFAULT, "default limit");
    ok(!q.has_cursor && q.n_params == AQC__COUNT, "no cursor; eight filters");
    accepted(AQ_CONSULTATIONS, "ssin=" SSIN "&provider=1234567890&service_from=2026-11-01"
                               "&service_to=2026-11-30&recorded_from=2026-11-01T00:00:00Z"
                               "&recorded_to=2026-11-30T20:00:00.123+01:00&outcome=covered"
                               "&limit=1000&cursor=A2026-00000042");
    ok(q.param[AQC_SSIN] && strcmp(q.param[AQC_SSIN], SSIN) == 0, "ssin kept");
    is_str(q.param[AQC_RECORDED_TO], "2026-11-30T20:00:00.123+01:00", "a value kept as given");
    ok(q.param[AQC_OCMW] == NULL, "ocmw not given: NULL");
    is_int(q.limit, 1000, "limit 1000");
    ok(q.has_cursor && strcmp(q.cursor[0], "A2026-00000042") == 0, "the cursor");
    accepted(AQ_CONSULTATIONS, "provider=12345678901&outcome=no_active_decision&limit=1");
    accepted(AQ_CONSULTATIONS, "outcome=not_covered&recorded_from=2026-11-01");
    refused(AQ_CONSULTATIONS, "ssin=12345678901", PROBLEM_INVALID_PARAMETER, "ssin",
            "invalid_value");
    is_str(e.items[0].message, "is not a valid SSIN", "its message");
    is_str(detail, "a filter is not valid", "the detail");
    refused(AQ_CONSULTATIONS, "ssin=", PROBLEM_INVALID_PARAMETER, "ssin", "invalid_value");
    refused(AQ_CONSULTATIONS, "provider=123456789", PROBLEM_INVALID_PARAMETER, "provider",
            "invalid_value");
    refused(AQ_CONSULTATIONS, "provider=123456789012", PROBLEM_INVALID_PARAMETER, "provider",
            "invalid_value");
    refused(AQ_CONSULTATIONS, "ocmw=0212345669", PROBLEM_INVALID_PARAMETER, "ocmw",
            "invalid_value");
    refused(AQ_CONSULTATIONS, "service_from=2026-02-30", PROBLEM_INVALID_PARAMETER, "service_from",
            "invalid_value");
    refused(AQ_CONSULTATIONS, "recorded_to=noon", PROBLEM_INVALID_PARAMETER, "recorded_to",
            "invalid_value");
    is_str(e.items[0].message, "is not a valid timestamp (RFC 3339) or date", "its message");
    refused(AQ_CONSULTATIONS, "recorded_to=2026-11-01T00:00:00.1234567890Z",
            PROBLEM_INVALID_PARAMETER, "recorded_to", "invalid_value");
    refused(AQ_CONSULTATIONS, "outcome=maybe", PROBLEM_INVALID_PARAMETER, "outcome",
            "invalid_value");
    is_str(e.items[0].message, "is covered, not_covered or a refusal reason code", "its message");
    refused(AQ_CONSULTATIONS, "outcome=unknown_code", PROBLEM_INVALID_PARAMETER, "outcome",
            "invalid_value");
    refused(AQ_CONSULTATIONS, "outcome=", PROBLEM_INVALID_PARAMETER, "outcome", "invalid_value");
    is_str(e.items[0].message, "is not a valid value", "an empty outcome: not a value");
    refused(AQ_CONSULTATIONS, "limit=0", PROBLEM_INVALID_PARAMETER, "limit", "invalid_value");
    is_str(e.items[0].message, "is a number from 1 to 1000", "its message");
    refused(AQ_CONSULTATIONS, "limit=1001", PROBLEM_INVALID_PARAMETER, "limit", "invalid_value");
    refused(AQ_CONSULTATIONS, "limit=01000", PROBLEM_INVALID_PARAMETER, "limit", "invalid_value");
    refused(AQ_CONSULTATIONS, "limit=", PROBLEM_INVALID_PARAMETER, "limit", "invalid_value");
    refused(AQ_CONSULTATIONS, "limit=-1", PROBLEM_INVALID_PARAMETER, "limit", "invalid_value");
    accepted(AQ_CONSULTATIONS, "limit=0010");
    is_int(q.limit, 10, "limit=0010 is 10 (four digits)");
    refused(AQ_CONSULTATIONS, "cursor=x", PROBLEM_INVALID_PARAMETER, "cursor", "invalid_value");
    ok(!q.has_cursor, "no cursor kept");
    refused(AQ_CONSULTATIONS, "cursor=D2026-00000042", PROBLEM_INVALID_PARAMETER, "cursor",
            "invalid_value");
    refused(AQ_CONSULTATIONS, "cursor=A2026-000000421", PROBLEM_INVALID_PARAMETER, "cursor",
            "invalid_value");

    /* names: the router refuses unknown and repeated ones; here they are
     * ignored, and of a repeated name the first value counts */
    accepted(AQ_CONSULTATIONS, "sin=1&changed_since=x");
    ok(q.param[AQC_SSIN] == NULL, "a name the list does not take: ignored");
    accepted(AQ_CONSULTATIONS, "limit=5&limit=0");
    is_int(q.limit, 5, "a name given twice: the first value counts");
    refused(AQ_CONSULTATIONS, "ssin=1&ssin=" SSIN, PROBLEM_INVALID_PARAMETER, "ssin",
            "invalid_value");
    accepted(AQ_CONSULTATIONS, "ssin&limit=7");
    ok(q.param[AQC_SSIN] == NULL && q.limit == 7, "a name without a value (NULL): absent");
    is_str(audit_query_name(AQ_CONSULTATIONS, 0), "ssin", "the first name of the consultations");
    is_str(audit_query_name(AQ_CONSULTATIONS, 9), "cursor", "the last");
    ok(audit_query_name(AQ_CONSULTATIONS, 10) == NULL, "then NULL");
    is_str(audit_query_name(AQ_AS_OF, 4), "provider", "the as-of names");
    is_str(audit_query_name(AQ_AS_OF, 5), "items", "the question's items");
    ok(audit_query_name(AQ_AS_OF, 6) == NULL && audit_query_name(AQ_DECISIONS, 6) == NULL,
       "six decision names, six as-of names");
    size_t most = 0;
    for (int k = AQ_CONSULTATIONS; k <= AQ_READS; k++) {
        size_t i = 0;
        while (audit_query_name((enum audit_query_kind)k, i))
            i++;
        most = i > most ? i : most;
    }
    ok(most <= AUDIT_QUERY_MAX_NAMES, "AUDIT_QUERY_MAX_NAMES holds every kind's names");
    ok(!run(AQ_CONSULTATIONS, "limit=0&cursor=x&outcome=maybe&ssin=1") && e.n == 4 &&
           strcmp(e.items[0].field, "ssin") == 0 && strcmp(e.items[1].field, "outcome") == 0 &&
           strcmp(e.items[2].field, "limit") == 0 && strcmp(e.items[3].field, "cursor") == 0,
       "errors in the daemon's order: filters, limit, cursor");

    /* decisions */
    accepted(AQ_DECISIONS, "ocmw=" KBO "&ssin=" SSIN "&changed_since=2026-11-01t00:00:00z"
                           "&status=suspended&limit=2");
    ok(q.n_params == AQD__COUNT && strcmp(q.param[AQD_STATUS], "suspended") == 0 && q.limit == 2,
       "the filters kept");
    accepted(AQ_DECISIONS, "cursor=2026-11-23T18:14:42.123456~D2026-00000001~3");
    ok(q.has_cursor && strcmp(q.cursor[0], "2026-11-23T18:14:42.123456") == 0 &&
           strcmp(q.cursor[1], "D2026-00000001") == 0 && strcmp(q.cursor[2], "3") == 0,
       "the cursor's three parts");
    accepted(AQ_DECISIONS, "cursor=2026-11-23T18:14:42.123456~D2026-00000001~123456789");
    refused(AQ_DECISIONS, "cursor=2026-11-23T18:14:42.123456~D2026-00000001~1234567890",
            PROBLEM_INVALID_PARAMETER, "cursor", "invalid_value");
    refused(AQ_DECISIONS, "cursor=2026-11-23T18:14:42.123456~A2026-00000001~3",
            PROBLEM_INVALID_PARAMETER, "cursor", "invalid_value");
    refused(AQ_DECISIONS, "cursor=2026-11-23T18:14:42.12345~D2026-00000001~3",
            PROBLEM_INVALID_PARAMETER, "cursor", "invalid_value");
    refused(AQ_DECISIONS, "cursor=2026-11-23T24:14:42.123456~D2026-00000001~3",
            PROBLEM_INVALID_PARAMETER, "cursor", "invalid_value");
    refused(AQ_DECISIONS, "cursor=2026-11-23T18:14:42.123456~D2026-00000001~",
            PROBLEM_INVALID_PARAMETER, "cursor", "invalid_value");
    refused(AQ_DECISIONS, "cursor=2026-11-23T18:14:42.123456~D2026-00000001~3~4",
            PROBLEM_INVALID_PARAMETER, "cursor", "invalid_value");
    refused(AQ_DECISIONS, "cursor=A2026-00000001", PROBLEM_INVALID_PARAMETER, "cursor",
            "invalid_value");
    refused(AQ_DECISIONS, "status=sleeping", PROBLEM_INVALID_PARAMETER, "status", "invalid_value");
    is_str(e.items[0].message, "is active, suspended or stopped", "its message");
    refused(AQ_DECISIONS, "changed_since=2026-13-01", PROBLEM_INVALID_PARAMETER, "changed_since",
            "invalid_value");

    /* reads: whose reads is always named; the cursor is a sequence number */
    accepted(AQ_READS, "ssin=" SSIN "&limit=5&cursor=42");
    ok(q.n_params == AQR__COUNT && strcmp(q.param[AQR_SSIN], SSIN) == 0 && q.limit == 5 &&
           q.has_cursor && strcmp(q.cursor[0], "42") == 0,
       "reads: the person, the limit, the cursor");
    refused(AQ_READS, "", PROBLEM_INVALID_PARAMETER, "ssin", "required");
    is_str(detail, "a parameter is not valid", "reads: the detail");
    refused(AQ_READS, "ssin=12345678901", PROBLEM_INVALID_PARAMETER, "ssin", "invalid_value");
    refused(AQ_READS, "ssin=" SSIN "&cursor=0", PROBLEM_INVALID_PARAMETER, "cursor",
            "invalid_value");
    refused(AQ_READS, "ssin=" SSIN "&cursor=A2026-00000001", PROBLEM_INVALID_PARAMETER, "cursor",
            "invalid_value");
    refused(AQ_READS, "ssin=" SSIN "&cursor=1234567890123456789", PROBLEM_INVALID_PARAMETER,
            "cursor", "invalid_value");
    refused(AQ_READS, "ssin=" SSIN "&limit=1001", PROBLEM_INVALID_PARAMETER, "limit",
            "invalid_value");
    is_str(audit_query_name(AQ_READS, 0), "ssin", "the reads names");
    ok(audit_query_name(AQ_READS, 3) == NULL, "three reads names");

    /* as-of */
    accepted(AQ_AS_OF, "ssin=" SSIN "&service_date=2026-11-23&care_type=pharmacy"
                       "&known_at=2026-11-23T10:00:00Z");
    ok(q.n_params == AQA__COUNT && q.care_type == CT_PHARMACY &&
           q.service_date == date_from_ymd(2026, 11, 23) && q.param[AQA_PROVIDER] == NULL,
       "the question's parts");
    accepted(AQ_AS_OF, "ssin=" SSIN "&service_date=2026-11-23&care_type=pharmacy"
                       "&known_at=2026-11-23&provider=12345678901");
    is_str(q.param[AQA_PROVIDER], "12345678901", "the provider");
    accepted(AQ_AS_OF, "ssin=" SSIN "&service_date=2026-11-23&care_type=pharmacy"
                       "&known_at=2026-11-23&items=101076:2,102011,300012:1:500:room");
    is_str(q.param[AQA_ITEMS], "101076:2,102011,300012:1:500:room", "the items");
    refused(AQ_AS_OF,
            "ssin=" SSIN "&service_date=2026-11-23&care_type=pharmacy"
            "&known_at=2026-11-23&items=101076:0",
            PROBLEM_INVALID_PARAMETER, "items", "invalid_value");
    refused(AQ_AS_OF,
            "ssin=" SSIN "&service_date=2026-11-23&care_type=pharmacy"
            "&known_at=2026-11-23&items=10107,102011",
            PROBLEM_INVALID_PARAMETER, "items", "invalid_value");
    ok(!run(AQ_AS_OF, "") && e.n == 4 && pr == PROBLEM_INVALID_PARAMETER &&
           strcmp(e.items[0].code, "required") == 0 && strcmp(e.items[3].field, "known_at") == 0,
       "four required parameters missing");
    is_str(detail, "the question is incomplete", "the as-of detail");
    refused(AQ_AS_OF, "service_date=2026-11-23&care_type=pharmacy&known_at=2026-11-23",
            PROBLEM_INVALID_PARAMETER, "ssin", "required");
    is_str(e.items[0].message, "a valid SSIN is required", "its message");
    refused(AQ_AS_OF, "ssin=1&service_date=2026-11-23&care_type=pharmacy&known_at=2026-11-23",
            PROBLEM_INVALID_PARAMETER, "ssin", "invalid_value");
    refused(AQ_AS_OF,
            "ssin=" SSIN "&service_date=2026-11-23&care_type=dentistry"
            "&known_at=2026-11-23",
            PROBLEM_INVALID_PARAMETER, "care_type", "invalid_value");
    is_str(e.items[0].message, "one of the eight care types is required", "its message");
    refused(AQ_AS_OF,
            "ssin=" SSIN "&service_date=2026-11-23&care_type=pharmacy"
            "&known_at=yesterday",
            PROBLEM_INVALID_PARAMETER, "known_at", "invalid_value");
    refused(AQ_AS_OF,
            "ssin=" SSIN "&service_date=23-11-2026&care_type=pharmacy"
            "&known_at=2026-11-23",
            PROBLEM_INVALID_PARAMETER, "service_date", "invalid_value");
    refused(AQ_AS_OF,
            "ssin=" SSIN "&service_date=2026-11-23&care_type=pharmacy"
            "&known_at=2026-11-23&provider=12",
            PROBLEM_INVALID_PARAMETER, "provider", "invalid_value");
    is_str(e.items[0].message, "is a NIHII or KBO number", "its message");
    return done_testing();
}
