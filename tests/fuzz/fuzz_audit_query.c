/*
 * fuzz target: audit_query_parse (the first byte picks the kind, the rest
 * is the query string, split here at '&' and '=' as the HTTP layer would
 * hand it over, without decoding), and timestamp_parse on the same bytes.
 * Checks: an accepted query has no error, a limit of 1..1000 and only values
 * that pass their rule again; a refused one has errors with known codes and
 * a 400 invalid_parameter (unknown and repeated names are the router's); an accepted timestamp
 * formats in UTC and parses back to the same instant.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit_query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_timestamp(const char *s, size_t n)
{
    struct ptimestamp t;
    if (!timestamp_parse(s, n, &t))
        return;
    if (n > PTIMESTAMP_STRLEN_MAX || t.nanos < 0 || t.nanos > 999999999 || t.second > 60)
        abort();
    char out[PTIMESTAMP_STRLEN_MAX + 1];
    int64_t u = timestamp_unix(&t);
    size_t len = timestamp_format_utc(u, t.nanos, 9, out);
    struct ptimestamp back;
    if (len != strlen(out) || !timestamp_parse(out, len, &back) || back.offset_minutes != 0 ||
        back.nanos != t.nanos)
        abort();
    /* a leap second formats as the next second: the instant is the same */
    if (timestamp_unix(&back) != u)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    check_timestamp((const char *)data, size);
    char *qs = malloc(size);
    if (qs == NULL)
        return 0;
    memcpy(qs, data + 1, size - 1);
    qs[size - 1] = '\0';
    enum audit_query_kind kind = (enum audit_query_kind)(data[0] % 3);
    struct audit_param pairs[64];
    size_t n = 0;
    char *name = qs, *value = NULL;
    for (char *at = qs; n < sizeof pairs / sizeof pairs[0]; at++) {
        if (*at == '=' && value == NULL) {
            *at = '\0';
            value = at + 1;
        } else if (*at == '&' || *at == '\0') {
            bool last = *at == '\0';
            *at = '\0';
            if (*name)
                pairs[n++] = (struct audit_param){name, value};
            if (last)
                break;
            name = at + 1;
            value = NULL;
        }
    }
    struct audit_query q;
    struct verrs e;
    enum problem p;
    const char *detail;
    verrs_init(&e);
    bool good = audit_query_parse(kind, pairs, n, &q, &e, &p, &detail);
    if (good) {
        if (e.n != 0 || q.limit < 1 || q.limit > AUDIT_LIMIT_MAX || q.n_params < 1 ||
            q.n_params > AUDIT_QUERY_MAX_PARAMS)
            abort();
        for (int i = 0; i < q.n_params; i++) {
            const char *v = q.param[i];
            if (v == NULL)
                continue;
            bool ts =
                (kind == AQ_CONSULTATIONS && (i == AQC_RECORDED_FROM || i == AQC_RECORDED_TO)) ||
                (kind == AQ_DECISIONS && i == AQD_CHANGED_SINCE) ||
                (kind == AQ_AS_OF && i == AQA_KNOWN_AT);
            if (ts && !timestamp_valid(v, strlen(v)))
                abort();
        }
        if (kind == AQ_AS_OF && (q.param[AQA_SSIN] == NULL || q.param[AQA_KNOWN_AT] == NULL))
            abort();
    } else {
        if (e.n == 0 || p != PROBLEM_INVALID_PARAMETER || problem_status(p) != 400 ||
            detail == NULL)
            abort();
        for (int i = 0; i < e.n; i++) {
            const char *c = e.items[i].code;
            if (strcmp(c, "invalid_value") != 0 && strcmp(c, "required") != 0)
                abort();
        }
    }
    free(qs);
    return 0;
}
