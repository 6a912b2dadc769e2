/*
 * coverage_batch: split and check the envelope of a batch of coverage
 * questions (see coverage_batch.h); the rules are those of the daemon's
 * h_coverage_batch before they moved here.
 */
#include "coverage_batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "jsonx.h"

struct coverage_batch {
    cJSON *root;
    int n;
    const cJSON **questions; /* into root */
};

enum coverage_batch_result coverage_batch_parse(const char *buf, size_t len,
                                                struct coverage_batch **out, struct verrs *errs)
{
    *out = NULL;
    bool refused = false;
    cJSON *root = jx_parse_checked(buf, len, errs, &refused);
    if (refused)
        return CB_INVALID; /* invalid_utf8, out_of_range: the request as a whole */
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return CB_MALFORMED;
    }
    int first = errs->n;
    struct jx_field f[] = {{"questions", NULL}};
    jx_walk(root, "", f, 1, NULL, errs);
    int n = 0;
    if (jx_get_array(f[0].item, "questions", true, errs) == JX_OK) {
        n = cJSON_GetArraySize(f[0].item);
        if (n < 1 || n > COVERAGE_BATCH_MAX)
            verrs_add(errs, "questions", n < 1 ? "too_few" : "too_many",
                      "must hold 1 to %d questions", COVERAGE_BATCH_MAX);
    }
    if (errs->n != first || errs->truncated) {
        cJSON_Delete(root);
        return CB_INVALID;
    }
    struct coverage_batch *b = calloc(1, sizeof *b);
    const cJSON **qs = calloc((size_t)n, sizeof *qs);
    if (!b || !qs) {
        free(b);
        free(qs);
        cJSON_Delete(root);
        return CB_NO_MEMORY;
    }
    int i = 0;
    for (const cJSON *q = f[0].item->child; q && i < n; q = q->next)
        qs[i++] = q;
    b->root = root;
    b->n = n;
    b->questions = qs;
    *out = b;
    return CB_OK;
}

enum problem coverage_batch_problem(enum coverage_batch_result r, const char **detail)
{
    switch (r) {
    case CB_MALFORMED:
        *detail = "the body is not a JSON object";
        return PROBLEM_MALFORMED_JSON;
    case CB_INVALID:
        *detail = "the batch is not a list of questions";
        return PROBLEM_VALIDATION_FAILED;
    default:
        *detail = "out of memory";
        return PROBLEM_INTERNAL_ERROR;
    }
}

int coverage_batch_count(const struct coverage_batch *b)
{
    return b ? b->n : 0;
}

char *coverage_batch_question_text(const struct coverage_batch *b, int i)
{
    if (!b || i < 0 || i >= b->n)
        return NULL;
    return cJSON_PrintUnformatted(b->questions[i]);
}

char *coverage_batch_error_slot(enum parse_result pr, const struct verrs *errs, enum lang l)
{
    char *doc = problem_encode_lang(pr == PARSE_MALFORMED ? PROBLEM_MALFORMED_JSON
                                                          : PROBLEM_VALIDATION_FAILED,
                                    "this question is incomplete or wrong", errs, NULL, l);
    size_t n = doc ? strlen(doc) + 12 : 0;
    char *slot = doc ? malloc(n) : NULL;
    if (slot)
        snprintf(slot, n, "{\"error\":%s}", doc);
    free(doc);
    return slot;
}

void coverage_batch_free(struct coverage_batch *b)
{
    if (!b)
        return;
    free(b->questions);
    cJSON_Delete(b->root);
    free(b);
}
