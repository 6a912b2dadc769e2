/* unit tests: proto/coverage_batch (the envelope of POST /v1/coverage/batch) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coverage.h"
#include "coverage_batch.h"
#include "tap.h"

#define Q "{\"ssin\":\"85073003328\",\"service_date\":\"2026-11-23\",\"care_type\":\"pharmacy\"}"

static struct verrs e;

static enum coverage_batch_result split(const char *s, struct coverage_batch **b)
{
    verrs_init(&e);
    return coverage_batch_parse(s, strlen(s), b, &e);
}

static void invalid(const char *s, const char *field, const char *code, const char *what)
{
    struct coverage_batch *b = (struct coverage_batch *)1;
    enum coverage_batch_result r = split(s, &b);
    ok(r == CB_INVALID && b == NULL && e.n >= 1 && strcmp(e.items[0].field, field) == 0 &&
           strcmp(e.items[0].code, code) == 0,
       "%s: %s on '%s' (got %s)", what, code, field, e.n ? e.items[0].code : "nothing");
}

/* a batch of n questions */
static char *questions(int n)
{
    size_t cap = 32 + (size_t)n * (sizeof Q + 1);
    char *s = malloc(cap);
    size_t o = (size_t)snprintf(s, cap, "{\"questions\":[");
    for (int i = 0; i < n; i++)
        o += (size_t)snprintf(s + o, cap - o, "%s%s", i ? "," : "", Q);
    snprintf(s + o, cap - o, "]}");
    return s;
}

int main(void)
{
    struct coverage_batch *b = NULL;
    const char *detail = NULL;

    /* a good batch */
    const char *two = "{ \"questions\" : [ " Q " , {\"ssin\":1} ] }\n";
    ok(split(two, &b) == CB_OK && b != NULL && e.n == 0, "two questions: split");
    is_int(coverage_batch_count(b), 2, "two questions counted");
    char *t0 = coverage_batch_question_text(b, 0);
    is_str(t0, Q, "question 0 as compact text");
    struct coverage_question q;
    struct verrs qe;
    verrs_init(&qe);
    ok(t0 && coverage_parse_question(t0, strlen(t0), &q, &qe) == PARSE_OK, "question 0 parses");
    free(t0);
    char *t1 = coverage_batch_question_text(b, 1);
    is_str(t1, "{\"ssin\":1}", "question 1 as compact text");
    verrs_init(&qe);
    enum parse_result pr = coverage_parse_question(t1, strlen(t1), &q, &qe);
    ok(pr == PARSE_INVALID, "question 1 is refused");
    char *slot = coverage_batch_error_slot(pr, &qe, LANG_EN);
    ok(slot && strncmp(slot, "{\"error\":{", 10) == 0 &&
           strstr(slot, "\"code\":\"validation_failed\"") &&
           strstr(slot, "\"detail\":\"this question is incomplete or wrong\"") &&
           strstr(slot, "\"errors\":[") && slot[strlen(slot) - 1] == '}',
       "its slot: {\"error\": 422 validation_failed with errors}");
    free(slot);
    free(t1);
    slot = coverage_batch_error_slot(PARSE_MALFORMED, NULL, LANG_EN);
    ok(slot && strstr(slot, "\"code\":\"malformed_json\"") && strstr(slot, "\"status\":400"),
       "a malformed question's slot: 400 malformed_json");
    free(slot);
    slot = coverage_batch_error_slot(PARSE_INVALID, &qe, LANG_DE);
    ok(slot && strstr(slot, "\"title\":\"Validierung fehlgeschlagen\"") &&
           strstr(slot, "\"detail\":\"diese Frage ist unvollständig oder falsch\""),
       "a question's slot in German: title and detail");
    free(slot);
    ok(coverage_batch_question_text(b, 2) == NULL && coverage_batch_question_text(b, -1) == NULL,
       "out of range: NULL");
    coverage_batch_free(b);
    coverage_batch_free(NULL);

    /* elements are not judged here */
    ok(split("{\"questions\":[1,\"x\",null,[]]}", &b) == CB_OK && coverage_batch_count(b) == 4,
       "any JSON elements are questions to ask");
    coverage_batch_free(b);

    /* limits */
    char *s = questions(COVERAGE_BATCH_MAX);
    ok(split(s, &b) == CB_OK && coverage_batch_count(b) == COVERAGE_BATCH_MAX, "1000 questions");
    coverage_batch_free(b);
    free(s);
    s = questions(COVERAGE_BATCH_MAX + 1);
    invalid(s, "questions", "too_many", "1001 questions");
    is_str(e.items[0].message, "must hold 1 to 1000 questions", "its message");
    free(s);
    invalid("{\"questions\":[]}", "questions", "too_few", "no question");

    /* the envelope */
    invalid("{}", "questions", "required", "no questions");
    invalid("{\"questions\":null}", "questions", "required", "questions null");
    invalid("{\"questions\":{}}", "questions", "wrong_type", "questions an object");
    invalid("{\"questions\":\"x\"}", "questions", "wrong_type", "questions a string");
    invalid("{\"questions\":[" Q "],\"more\":1}", "more", "unknown_field", "another member");
    invalid("{\"questions\":[" Q "],\"questions\":[" Q "]}", "questions", "duplicate_field",
            "questions twice");
    is_int(coverage_batch_problem(CB_INVALID, &detail), PROBLEM_VALIDATION_FAILED,
           "invalid: 422 validation_failed");
    is_str(detail, "the batch is not a list of questions", "its detail");

    /* not an object */
    static const char *const bad[] = {"",
                                      "[]",
                                      "[" Q "]",
                                      "\"questions\"",
                                      "{\"questions\":[",
                                      "{\"questions\":[" Q "]} x",
                                      "{\"questions\":[1,]}",
                                      "{\"questions\":[\"\\u0000\"]}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        b = (struct coverage_batch *)1;
        ok(split(bad[i], &b) == CB_MALFORMED && b == NULL && e.n == 0, "malformed: '%s'", bad[i]);
    }
    is_int(coverage_batch_problem(CB_MALFORMED, &detail), PROBLEM_MALFORMED_JSON,
           "malformed: 400 malformed_json");
    is_str(detail, "the body is not a JSON object", "its detail");
    is_int(coverage_batch_problem(CB_NO_MEMORY, &detail), PROBLEM_INTERNAL_ERROR, "no memory: 500");
    {
        char buf[64];
        memcpy(buf, "{\"questions\":[{}]}", 19);
        ok(coverage_batch_parse(buf, 17, &b, &e) == CB_MALFORMED,
           "the length counts (a cut body is malformed)");
    }
    return done_testing();
}
