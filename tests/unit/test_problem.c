/* unit tests: proto/problem */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "problem.h"
#include "tap.h"

int main(void)
{
    static const struct {
        enum problem p;
        const char *code;
        int status;
    } t[] = {
        {PROBLEM_BAD_REQUEST, "bad_request", 400},
        {PROBLEM_MALFORMED_JSON, "malformed_json", 400},
        {PROBLEM_INVALID_PARAMETER, "invalid_parameter", 400},
        {PROBLEM_PRINCIPAL_UNKNOWN, "principal_unknown", 403},
        {PROBLEM_PRINCIPAL_REVOKED, "principal_revoked", 403},
        {PROBLEM_FORBIDDEN, "forbidden", 403},
        {PROBLEM_NOT_FOUND, "not_found", 404},
        {PROBLEM_METHOD_NOT_ALLOWED, "method_not_allowed", 405},
        {PROBLEM_REQUEST_TIMEOUT, "request_timeout", 408},
        {PROBLEM_LENGTH_REQUIRED, "length_required", 411},
        {PROBLEM_BODY_TOO_LARGE, "body_too_large", 413},
        {PROBLEM_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", 415},
        {PROBLEM_VALIDATION_FAILED, "validation_failed", 422},
        {PROBLEM_HEADERS_TOO_LARGE, "headers_too_large", 431},
        {PROBLEM_INTERNAL_ERROR, "internal_error", 500},
        {PROBLEM_NOT_IMPLEMENTED, "not_implemented", 501},
        {PROBLEM_DATABASE_UNAVAILABLE, "database_unavailable", 503},
        {PROBLEM_SHUTTING_DOWN, "shutting_down", 503},
        {PROBLEM_DECISION_OVERLAP, "decision_overlap", 409},
        {PROBLEM_INVALID_STATUS, "invalid_status", 409},
        {PROBLEM_VERSION_MISMATCH, "version_mismatch", 412},
        {PROBLEM_PRECONDITION_REQUIRED, "precondition_required", 428},
        {PROBLEM_IDEMPOTENCY_KEY_REUSED, "idempotency_key_reused", 422},
        {PROBLEM_UNKNOWN_PARAMETER, "unknown_parameter", 400},
        {PROBLEM_DATABASE_TIMEOUT, "database_timeout", 503},
        {PROBLEM_RATE_LIMITED, "rate_limited", 429},
        {PROBLEM_CHECKPOINTS_DISABLED, "checkpoints_disabled", 503},
        {PROBLEM_CHECKPOINT_INVALID, "checkpoint_invalid", 422},
        {PROBLEM_AGREEMENT_BILLED, "agreement_billed", 409},
        {PROBLEM_PAYMENT_EXCEEDS_DUE, "payment_exceeds_due", 409},
        {PROBLEM_PAYMENT_DUPLICATE, "payment_duplicate", 409},
    };
    is_int(sizeof t / sizeof t[0], PROBLEM__COUNT, "every problem is listed");
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        is_str(problem_code(t[i].p), t[i].code, "code of %s", t[i].code);
        is_int(problem_status(t[i].p), t[i].status, "status of %s", t[i].code);
        ok(problem_title(t[i].p) && problem_title(t[i].p)[0], "title of %s", t[i].code);
        enum problem back = PROBLEM__COUNT;
        ok(problem_from_code(t[i].code, &back) && back == t[i].p, "from_code(%s)", t[i].code);
    }
    enum problem x;
    ok(!problem_from_code("nope", &x), "unknown code refused");
    /* Retry-After: exactly the passing conditions */
    ok(problem_retry_later(PROBLEM_DATABASE_UNAVAILABLE) &&
           problem_retry_later(PROBLEM_DATABASE_TIMEOUT) &&
           problem_retry_later(PROBLEM_SHUTTING_DOWN) && problem_retry_later(PROBLEM_RATE_LIMITED),
       "retry later: database unavailable or slow, shutting down, rate limited");
    ok(!problem_retry_later(PROBLEM_INTERNAL_ERROR) &&
           !problem_retry_later(PROBLEM_VALIDATION_FAILED) &&
           !problem_retry_later(PROBLEM_UNKNOWN_PARAMETER),
       "no retry later for a bug or a bad request");
    ok(!problem_from_code(NULL, &x), "NULL code refused");
    is_str(problem_code((enum problem)999), "internal_error", "out of range -> internal_error");

    /* verrs */
    struct verrs e;
    verrs_init(&e);
    is_int(e.n, 0, "verrs empty after init");
    verrs_add(&e, "covers[0].period.end", "cover_outside_period", "must lie within %s",
              "2026-11-01 to 2027-04-30");
    is_int(e.n, 1, "one error");
    is_str(e.items[0].field, "covers[0].period.end", "field kept");
    is_str(e.items[0].message, "must lie within 2026-11-01 to 2027-04-30", "message formatted");
    for (int i = 0; i < 40; i++)
        verrs_add(&e, "x", "required", "is required");
    is_int(e.n, VERRS_MAX, "bounded at VERRS_MAX");
    ok(e.truncated, "marked truncated");
    {
        struct verrs u;
        verrs_init(&u);
        char m[400];
        memset(m, 'a', sizeof m);
        strcpy(m + 198, "\xc3\xa9\xc3\xa9 end"); /* a 2-byte char straddles the limit */
        verrs_add(&u, "f", "c", "%s", m);
        size_t len = strlen(u.items[0].message);
        ok(len == 198, "a truncated UTF-8 sequence is dropped (len %zu)", len);
    }

    /* encode */
    char *s = problem_encode(PROBLEM_NOT_FOUND, NULL, NULL, NULL);
    is_str(s,
           "{\"type\":\"urn:medaid:problem:not_found\",\"title\":\"Not found\",\"status\":404,"
           "\"code\":\"not_found\",\"detail\":\"Not found\"}",
           "plain problem");
    free(s);

    verrs_init(&e);
    verrs_add(&e, "beneficiary.ssin", "invalid_ssin", "is not valid");
    cJSON *extra = cJSON_CreateObject();
    cJSON *conflict = cJSON_AddObjectToObject(extra, "conflict");
    cJSON_AddStringToObject(conflict, "decision", "D2026-00000001");
    cJSON_AddStringToObject(extra, "code", "must not override");
    s = problem_encode(PROBLEM_VALIDATION_FAILED, "2 errors", &e, extra);
    is_str(s,
           "{\"type\":\"urn:medaid:problem:validation_failed\",\"title\":\"Validation failed\","
           "\"status\":422,\"code\":\"validation_failed\",\"detail\":\"2 errors\",\"errors\":[{"
           "\"field\":\"beneficiary.ssin\",\"code\":\"invalid_ssin\",\"message\":\"is not "
           "valid\"}],\"conflict\":{\"decision\":\"D2026-00000001\"}}",
           "problem with errors and extra (standard members not overridden)");
    free(s);
    cJSON_Delete(extra);

    verrs_init(&e);
    for (int i = 0; i < VERRS_MAX + 1; i++)
        verrs_add(&e, "f", "required", "is required");
    s = problem_encode(PROBLEM_VALIDATION_FAILED, NULL, &e, NULL);
    cJSON *j = cJSON_Parse(s);
    ok(j != NULL, "truncated problem parses");
    ok(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "errors_truncated")),
       "errors_truncated true");
    is_int(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "errors")), VERRS_MAX,
           "32 errors listed");
    cJSON_Delete(j);
    free(s);

    verrs_init(&e);
    s = problem_encode(PROBLEM_VALIDATION_FAILED, NULL, &e, NULL);
    ok(s && strstr(s, "errors") == NULL, "no errors member when the list is empty");
    free(s);
    return done_testing();
}
