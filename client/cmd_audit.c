/*
 * cmd_audit: the auditor's commands: audit consultations and audit decisions
 * (one page, every page as one JSON array, or a stream converted line by
 * line), audit as-of, audit verify.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "args.h"
#include "cmd.h"
#include "jsonspan.h"

#include "audit_query.h" /* proto: the outcome rule, care types, statuses, timestamps */

#define AUDIT_LINE_MAX (1024u * 1024u) /* one line of an audit stream */

#define OPT_LIMIT                                                                                  \
    {                                                                                              \
        "limit", 0, "N", "only the first N items (1 to 1000), as one page"                         \
    }

enum {
    AC_SSIN,
    AC_PROVIDER,
    AC_OCMW,
    AC_SERVICE_FROM,
    AC_SERVICE_TO,
    AC_RECORDED_FROM,
    AC_RECORDED_TO,
    AC_OUTCOME,
    AC_LIMIT
};
const struct opt_def audit_consultations_opts[] = {
    {"ssin", 0, "SSIN", "the beneficiary asked about"},
    {"provider", 0, "NIHII|KBO", "the provider that asked"},
    {"ocmw", 0, "KBO", "the OCMW of the decision the answer rests on"},
    {"service-from", 0, "YYYY-MM-DD", "service date on or after"},
    {"service-to", 0, "YYYY-MM-DD", "service date on or before"},
    {"recorded-from", 0, "TS", "asked at or after TS (RFC 3339, or a date: its start in UTC)"},
    {"recorded-to", 0, "TS", "asked before TS (as --recorded-from)"},
    {"outcome", 0, "OUTCOME", "covered, not_covered, or a reason code"},
    OPT_LIMIT,
    {NULL, 0, NULL, NULL},
};

enum { AD_OCMW, AD_SSIN, AD_CHANGED_SINCE, AD_STATUS, AD_LIMIT };
const struct opt_def audit_decisions_opts[] = {
    {"ocmw", 0, "KBO", "decisions of this OCMW"},
    {"ssin", 0, "SSIN", "decisions for this beneficiary"},
    {"changed-since", 0, "TS", "versions recorded at or after TS (RFC 3339, or a date)"},
    {"status", 0, "STATUS", "active, suspended or stopped"},
    OPT_LIMIT,
    {NULL, 0, NULL, NULL},
};

enum { AA_SSIN, AA_DATE, AA_CARE_TYPE, AA_KNOWN_AT, AA_PROVIDER };
const struct opt_def audit_as_of_opts[] = {
    {"ssin", 0, "SSIN", "beneficiary's national register or BIS number (11 digits)"},
    {"date", 0, "YYYY-MM-DD", "service date"},
    {"care-type", 0, "TYPE", "one of the eight care types"},
    {"known-at", 0, "TS", "answer with the data known at TS (RFC 3339, or a date)"},
    {"provider", 0, "NIHII|KBO", "as asked by this provider (its designation is judged)"},
    {NULL, 0, NULL, NULL},
};

/* Option checks shared by the commands; a usage error (printed) is returned. */
static int check_ssin_opt(const char *ssin)
{
    if (ssin && !*ssin)
        return usage_error("--ssin: empty");
    if (ssin && !is_digits(ssin, 11))
        fprintf(stderr, "medaid: warning: SSIN '%s' is not 11 digits\n", ssin);
    return EXIT_OK;
}

/* an organisation number: warn unless all digits of one of the lengths */
static int check_number_opt(const char *opt, const char *v, size_t len1, size_t len2,
                            const char *what)
{
    if (v && !*v)
        return usage_error("--%s: empty", opt);
    if (v && !is_digits(v, len1) && !is_digits(v, len2))
        fprintf(stderr, "medaid: warning: --%s '%s' is not %s\n", opt, v, what);
    return EXIT_OK;
}

static int check_date_opt(const char *opt, const char *v)
{
    if (v && !date_parse(v, strlen(v), &(pdate){0}))
        return usage_error("--%s: expected a calendar date YYYY-MM-DD, not '%s'", opt, v);
    return EXIT_OK;
}

static int check_timestamp_opt(const char *opt, const char *v)
{
    if (v && !timestamp_valid(v, strlen(v)))
        return usage_error("--%s: expected an RFC 3339 timestamp such as 2026-11-01T00:00:00Z, "
                           "or a date YYYY-MM-DD, not '%s'",
                           opt, v);
    return EXIT_OK;
}

static int check_limit_opt(const char *v, long *limit)
{
    *limit = 0;
    if (v && !parse_long(v, 1, AUDIT_PAGE_MAX, limit))
        return usage_error("--limit: expected a whole number from 1 to %d, not '%s'",
                           AUDIT_PAGE_MAX, v);
    return EXIT_OK;
}

/* One item of an audit list, in the chosen format (not json). `raw`: the
 * item's text as received on one line, or NULL to encode it. */
static int audit_item(const struct ctx *c, enum audit_list l, const cJSON *item, const char *raw,
                      size_t rawlen)
{
    if (c->format == OUT_NDJSON) {
        int rc = emit_json_value(item, raw, rawlen);
        if (rc != EXIT_OK)
            return rc;
        fputc('\n', stdout);
    } else {
        output_audit_row(stdout, c->format, l, item);
    }
    if (ferror(stdout))
        return output_error();
    return EXIT_OK;
}

static void audit_header(const struct ctx *c, enum audit_list l)
{
    if (c->format == OUT_CSV || c->format == OUT_TABLE)
        output_audit_header(stdout, c->format, l);
}

/* An {"error": ...} line, or any JSON, as one line on stderr. */
static void report_stream_error(const cJSON *err, long items)
{
    fprintf(stderr, "medaid: the server stopped the answer after %ld item%s: ", items,
            items == 1 ? "" : "s");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(err, "code");
    const cJSON *detail = cJSON_GetObjectItemCaseSensitive(err, "detail");
    char *text = NULL;
    const char *s = NULL;
    if (cJSON_IsString(code) && cJSON_IsString(detail)) {
        if (asprintf(&text, "%s: %s", code->valuestring, detail->valuestring) < 0)
            text = NULL;
    } else if (cJSON_IsString(code)) {
        s = code->valuestring;
    } else if (cJSON_IsString(err)) {
        s = err->valuestring;
    }
    if (!text && !s)
        text = cJSON_PrintUnformatted(err);
    if (!s)
        s = text ? text : "(error)";
    for (; *s; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, stderr);
    fputc('\n', stderr);
    free(text);
}

/*
 * The NDJSON stream of an audit list, converted line by line as it arrives:
 * a partial line waits in `line` for the rest. Blank lines are skipped; a
 * line {"error": ...} ends the list with exit 4.
 */
struct audit_stream {
    const struct ctx *c;
    enum audit_list list;
    struct buf line; /* the start of a line not yet ended */
    bool started;    /* the content type was checked, the header written */
    long items;
    int rc; /* EXIT_OK, or the failure already reported */
};

static bool stream_line(struct audit_stream *s, const char *p, size_t n)
{
    const char *e = p + n;
    const char *b = jsonspan_skip_ws(p, e);
    while (e > b && strchr(" \t\r", e[-1]))
        e--;
    if (b == e)
        return true; /* blank */
    cJSON *item = cJSON_ParseWithLength(b, (size_t)(e - b));
    if (!cJSON_IsObject(item)) {
        fprintf(stderr, "medaid: the answer is not NDJSON: line %ld is not a JSON object\n",
                s->items + 1);
        s->rc = EXIT_SERVER;
    } else if (cJSON_GetObjectItemCaseSensitive(item, "error")) {
        report_stream_error(cJSON_GetObjectItemCaseSensitive(item, "error"), s->items);
        s->rc = EXIT_SERVER;
    } else {
        s->rc = audit_item(s->c, s->list, item, b, (size_t)(e - b));
        s->items++;
    }
    cJSON_Delete(item);
    return s->rc == EXIT_OK;
}

static bool stream_start(struct audit_stream *s, const char *media)
{
    if (s->started)
        return true;
    s->started = true;
    if (!media || strcmp(media, "application/x-ndjson") != 0) {
        fprintf(stderr, "medaid: the answer is not NDJSON (content type %s)\n",
                media ? media : "none");
        s->rc = EXIT_SERVER;
        return false;
    }
    audit_header(s->c, s->list);
    return true;
}

static bool stream_body(void *arg, const char *media, const char *data, size_t n)
{
    struct audit_stream *s = arg;

    if (!stream_start(s, media))
        return false;
    while (n > 0) {
        const char *nl = memchr(data, '\n', n);
        size_t k = nl ? (size_t)(nl - data) : n;
        if (s->line.len + k > AUDIT_LINE_MAX) {
            fprintf(stderr, "medaid: line %ld of the answer is longer than %u KiB\n", s->items + 1,
                    AUDIT_LINE_MAX >> 10);
            s->rc = EXIT_SERVER;
            return false;
        }
        if (!nl || s->line.len) {
            buf_add(&s->line, data, k);
            if (s->line.failed) {
                s->rc = local_error("out of memory");
                return false;
            }
        }
        if (!nl)
            break;
        bool ok = s->line.len ? stream_line(s, s->line.p, s->line.len) : stream_line(s, data, k);
        s->line.len = 0;
        if (!ok)
            return false;
        data += k + 1;
        n -= k + 1;
    }
    if (fflush(stdout) != 0) {
        s->rc = output_error();
        return false;
    }
    return true;
}

/* every item, streamed as NDJSON and converted line by line (ndjson, csv, table) */
static int audit_stream(struct ctx *c, enum audit_list l, const char *path)
{
    struct audit_stream s = {.c = c, .list = l};
    struct api_request rq = {
        .method = "GET",
        .path = path,
        .accept = "application/x-ndjson",
        .on_body = stream_body,
        .on_body_arg = &s,
    };
    struct api_response res;

    api_exchange(&c->api, &rq, &res);
    int rc = s.rc;
    if (rc == EXIT_OK) {
        rc = receive_status(c, &res);
        if (rc == EXIT_OK) {
            /* the last line may lack its newline; an empty answer is no items */
            if (stream_start(&s, res.content_type ? res.content_type : "application/x-ndjson") &&
                s.line.len)
                stream_line(&s, s.line.p, s.line.len);
            rc = s.rc;
        } else if (res.outcome == API_BAD_ANSWER && s.started) {
            fprintf(stderr, "medaid: %ld item%s written before the answer stopped\n", s.items,
                    s.items == 1 ? "" : "s");
        }
    }
    free(s.line.p);
    api_response_free(&res);
    return rc;
}

/* the page object's items and next_cursor; false (after a message) when not such */
static bool page_parts(const struct api_response *res, const cJSON *doc, const cJSON **items,
                       const cJSON **next)
{
    *items = cJSON_GetObjectItemCaseSensitive(doc, "items");
    *next = cJSON_GetObjectItemCaseSensitive(doc, "next_cursor");
    if (cJSON_IsArray(*items) &&
        (cJSON_IsNull(*next) || (cJSON_IsString(*next) && (*next)->valuestring[0])))
        return true;
    fprintf(stderr,
            "medaid: %ld answer is not a page {\"items\": [...], \"next_cursor\": string or "
            "null}\n",
            res->status);
    return false;
}

/* the items of a page as received, when each is on one line; else NULL (free it) */
static struct jsonspan *page_spans(const struct api_response *res, int n)
{
    struct jsonspan *sp = calloc(n > 0 ? (size_t)n : 1, sizeof *sp);
    if (sp && jsonspan_array_elements(res->body, res->len, "items", sp, n) == n) {
        bool one_line = true;
        for (int k = 0; one_line && k < n; k++)
            one_line = !memchr(sp[k].p, '\n', sp[k].n) && !memchr(sp[k].p, '\r', sp[k].n);
        if (one_line)
            return sp;
    }
    free(sp);
    return NULL;
}

/* --limit N: one page of N items; json prints the page object as received */
static int audit_one_page(struct ctx *c, enum audit_list l, struct query *q, long limit)
{
    query_add_long(q, "limit", limit);
    if (q->b.failed)
        return local_error("out of memory");
    struct api_request rq = {.method = "GET", .path = q->b.p};
    struct api_response res;
    cJSON *doc = NULL;
    const cJSON *items, *next;

    api_exchange(&c->api, &rq, &res);
    int rc = receive(c, &res, &doc);
    if (rc == EXIT_OK && !page_parts(&res, doc, &items, &next))
        rc = EXIT_SERVER;
    if (rc == EXIT_OK && c->format == OUT_JSON) {
        output_raw(stdout, res.body, res.len);
    } else if (rc == EXIT_OK) {
        int n = cJSON_GetArraySize(items), i = 0;
        struct jsonspan *sp = c->format == OUT_NDJSON ? page_spans(&res, n) : NULL;
        const cJSON *it;
        audit_header(c, l);
        cJSON_ArrayForEach(it, items)
        {
            if (rc == EXIT_OK)
                rc = audit_item(c, l, it, sp ? sp[i].p : NULL, sp ? sp[i].n : 0);
            i++;
        }
        free(sp);
    }
    cJSON_Delete(doc);
    api_response_free(&res);
    return rc;
}

/* json: every page, following next_cursor, as one JSON array written as it comes */
static int audit_all_pages(struct ctx *c, struct query *q)
{
    size_t base = q->b.len;
    bool base_any = q->any;
    char *cursor = NULL;
    long written = 0;
    bool opened = false;
    int rc = EXIT_OK;

    for (;;) {
        q->b.len = base;
        q->any = base_any;
        if (q->b.p)
            q->b.p[base] = '\0';
        query_add_long(q, "limit", AUDIT_PAGE_MAX);
        query_add(q, "cursor", cursor);
        if (q->b.failed) {
            rc = local_error("out of memory");
            break;
        }
        struct api_request rq = {.method = "GET", .path = q->b.p};
        struct api_response res;
        cJSON *doc = NULL;
        const cJSON *items, *next;
        api_exchange(&c->api, &rq, &res);
        rc = receive(c, &res, &doc);
        if (rc == EXIT_OK && !page_parts(&res, doc, &items, &next))
            rc = EXIT_SERVER;
        if (rc == EXIT_OK && cursor && cJSON_IsString(next) &&
            strcmp(next->valuestring, cursor) == 0) {
            fprintf(stderr, "medaid: the server gave the same next_cursor twice\n");
            rc = EXIT_SERVER;
        }
        if (rc == EXIT_OK) {
            int n = cJSON_GetArraySize(items), i = 0;
            struct jsonspan *sp = page_spans(&res, n);
            const cJSON *it;
            if (!opened)
                fputc('[', stdout);
            opened = true;
            cJSON_ArrayForEach(it, items)
            {
                fputs(written++ ? ",\n" : "\n", stdout);
                rc = emit_json_value(it, sp ? sp[i].p : NULL, sp ? sp[i].n : 0);
                if (rc != EXIT_OK)
                    break;
                i++;
            }
            free(sp);
            if (rc == EXIT_OK && fflush(stdout) != 0)
                rc = output_error();
        }
        free(cursor);
        cursor = NULL;
        if (rc == EXIT_OK && cJSON_IsString(next) && !(cursor = strdup(next->valuestring)))
            rc = local_error("out of memory");
        cJSON_Delete(doc);
        api_response_free(&res);
        if (rc != EXIT_OK || !cursor)
            break;
    }
    free(cursor);
    if (rc == EXIT_OK)
        fputs(written ? "\n]\n" : "]\n", stdout);
    else if (opened)
        fprintf(stderr,
                "medaid: the JSON array on standard output is incomplete (%ld item%s written)\n",
                written, written == 1 ? "" : "s");
    return rc;
}

/* the list of q (its filters set), in the chosen format (cmd.h) */
int list_fetch(struct ctx *c, enum audit_list l, struct query *q, long limit)
{
    if (q->b.failed)
        return local_error("out of memory");
    if (limit)
        return audit_one_page(c, l, q, limit);
    if (c->format == OUT_JSON)
        return audit_all_pages(c, q);
    return audit_stream(c, l, q->b.p);
}
int cmd_audit_consultations(struct ctx *c)
{
    const char *const *o = c->opt;
    long limit;
    int rc;

    if ((rc = check_ssin_opt(o[AC_SSIN])) != EXIT_OK ||
        (rc = check_number_opt("provider", o[AC_PROVIDER], 11, 10,
                               "an NIHII number (11 digits) or a KBO number (10 digits)")) !=
            EXIT_OK ||
        (rc = check_number_opt("ocmw", o[AC_OCMW], 10, 10, "a KBO number (10 digits)")) !=
            EXIT_OK ||
        (rc = check_date_opt("service-from", o[AC_SERVICE_FROM])) != EXIT_OK ||
        (rc = check_date_opt("service-to", o[AC_SERVICE_TO])) != EXIT_OK ||
        (rc = check_timestamp_opt("recorded-from", o[AC_RECORDED_FROM])) != EXIT_OK ||
        (rc = check_timestamp_opt("recorded-to", o[AC_RECORDED_TO])) != EXIT_OK ||
        (rc = check_limit_opt(o[AC_LIMIT], &limit)) != EXIT_OK)
        return rc;
    if (o[AC_SERVICE_FROM] && o[AC_SERVICE_TO] && strcmp(o[AC_SERVICE_FROM], o[AC_SERVICE_TO]) > 0)
        return usage_error("--service-from %s is after --service-to %s", o[AC_SERVICE_FROM],
                           o[AC_SERVICE_TO]);
    if (o[AC_OUTCOME] && !audit_outcome_valid(o[AC_OUTCOME]))
        return usage_error("--outcome: expected covered, not_covered or a reason code, not '%s' "
                           "(see 'medaid audit consultations --help')",
                           o[AC_OUTCOME]);

    struct query q = {0};
    buf_add(&q.b, "/v1/audit/consultations", strlen("/v1/audit/consultations"));
    query_add(&q, "ssin", o[AC_SSIN]);
    query_add(&q, "provider", o[AC_PROVIDER]);
    query_add(&q, "ocmw", o[AC_OCMW]);
    query_add(&q, "service_from", o[AC_SERVICE_FROM]);
    query_add(&q, "service_to", o[AC_SERVICE_TO]);
    query_add(&q, "recorded_from", o[AC_RECORDED_FROM]);
    query_add(&q, "recorded_to", o[AC_RECORDED_TO]);
    query_add(&q, "outcome", o[AC_OUTCOME]);
    rc = list_fetch(c, AUDIT_CONSULTATIONS, &q, limit);
    free(q.b.p);
    return rc;
}

int cmd_audit_decisions(struct ctx *c)
{
    const char *const *o = c->opt;
    const char *status = o[AD_STATUS];
    long limit;
    int rc;

    if ((rc = check_number_opt("ocmw", o[AD_OCMW], 10, 10, "a KBO number (10 digits)")) !=
            EXIT_OK ||
        (rc = check_ssin_opt(o[AD_SSIN])) != EXIT_OK ||
        (rc = check_timestamp_opt("changed-since", o[AD_CHANGED_SINCE])) != EXIT_OK ||
        (rc = check_limit_opt(o[AD_LIMIT], &limit)) != EXIT_OK)
        return rc;
    if (status && !decision_status_from_name(status, strlen(status), &(enum decision_status){0}))
        return usage_error("--status: expected active, suspended or stopped, not '%s'", status);

    struct query q = {0};
    buf_add(&q.b, "/v1/audit/decisions", strlen("/v1/audit/decisions"));
    query_add(&q, "ocmw", o[AD_OCMW]);
    query_add(&q, "ssin", o[AD_SSIN]);
    query_add(&q, "changed_since", o[AD_CHANGED_SINCE]);
    query_add(&q, "status", status);
    rc = list_fetch(c, AUDIT_DECISIONS, &q, limit);
    free(q.b.p);
    return rc;
}

int cmd_audit_as_of(struct ctx *c)
{
    const char *ssin = c->opt[AA_SSIN], *date = c->opt[AA_DATE], *ct = c->opt[AA_CARE_TYPE],
               *known = c->opt[AA_KNOWN_AT];
    int rc;

    if (!ssin || !date || !ct || !known)
        return usage_error("audit as-of: missing%s%s%s%s", ssin ? "" : " --ssin",
                           date ? "" : " --date", ct ? "" : " --care-type",
                           known ? "" : " --known-at");
    if ((rc = check_ssin_opt(ssin)) != EXIT_OK || (rc = check_date_opt("date", date)) != EXIT_OK ||
        (rc = check_timestamp_opt("known-at", known)) != EXIT_OK ||
        (rc = check_number_opt("provider", c->opt[AA_PROVIDER], 11, 10,
                               "an NIHII number (11 digits) or a KBO number (10 digits)")) !=
            EXIT_OK)
        return rc;
    if (!care_type_from_name(ct, strlen(ct), &(enum care_type){0}))
        return usage_error("--care-type: unknown '%s' (see 'medaid audit as-of --help')", ct);

    struct query q = {0};
    buf_add(&q.b, "/v1/audit/coverage-as-of", strlen("/v1/audit/coverage-as-of"));
    query_add(&q, "ssin", ssin);
    query_add(&q, "service_date", date);
    query_add(&q, "care_type", ct);
    query_add(&q, "known_at", known);
    query_add(&q, "provider", c->opt[AA_PROVIDER]);
    if (q.b.failed) {
        free(q.b.p);
        return local_error("out of memory");
    }
    struct api_request rq = {.method = "GET", .path = q.b.p};
    rc = exchange_yes_no(c, &rq, "covered", output_as_of_table);
    free(q.b.p);
    return rc;
}

/* a saved checkpoint (at most 64 KiB), malloc'd; NULL after a message */
static char *read_anchor(const char *path, size_t *len, int *rc)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *rc = local_error("--anchor %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 65536;
    char *b = malloc(cap + 1);
    size_t n = b ? fread(b, 1, cap + 1, f) : 0;
    bool err = ferror(f);
    fclose(f);
    if (!b || err || n > cap) {
        free(b);
        *rc = local_error("--anchor %s: %s", path,
                          !b    ? "out of memory"
                          : err ? "cannot be read"
                                : "larger than 64 KiB");
        return NULL;
    }
    *len = n;
    return b;
}

enum { AV_ANCHOR };
const struct opt_def audit_verify_opts[] = {
    {"anchor", 0, "FILE",
     "also check the trail against a checkpoint saved earlier ('medaid audit checkpoint')"},
    {NULL, 0, NULL, NULL},
};

int cmd_audit_verify(struct ctx *c)
{
    const char *anchor = c->opt[AV_ANCHOR];
    if (!anchor) {
        struct api_request rq = {.method = "GET", .path = "/v1/audit/verify"};
        return exchange_yes_no(c, &rq, "intact", output_verify_table);
    }
    int rc = EXIT_OK;
    size_t len = 0;
    char *body = read_anchor(anchor, &len, &rc);
    if (!body)
        return rc;
    struct api_request rq = {.method = "POST",
                             .path = "/v1/audit/verify",
                             .body = body,
                             .body_len = len,
                             .content_type = "application/json"};
    rc = exchange_yes_no(c, &rq, "intact", output_verify_table);
    free(body);
    return rc;
}

enum { ACP_NEW };
const struct opt_def audit_checkpoint_opts[] = {
    {"new", 0, NULL, "make a checkpoint now (else: the latest one)"},
    {NULL, 0, NULL, NULL},
};

int cmd_audit_checkpoint(struct ctx *c)
{
    struct api_request rq = {.method = c->opt[ACP_NEW] ? "POST" : "GET",
                             .path = "/v1/audit/checkpoint"};
    return exchange_and_print(c, &rq, NULL);
}

enum { AR_SSIN, AR_LIMIT };
const struct opt_def audit_reads_opts[] = {
    {"ssin", 0, "SSIN", "the person whose data was read"},
    OPT_LIMIT,
    {NULL, 0, NULL, NULL},
};

int cmd_audit_reads(struct ctx *c)
{
    const char *ssin = c->opt[AR_SSIN];
    long limit = 0;
    int rc;
    if (!ssin)
        return usage_error("audit reads: missing --ssin");
    if ((rc = check_ssin_opt(ssin)) != EXIT_OK)
        return rc;
    if (c->opt[AR_LIMIT] && (rc = check_limit_opt(c->opt[AR_LIMIT], &limit)) != EXIT_OK)
        return rc;
    struct query q = {0};
    buf_add(&q.b, "/v1/audit/reads", strlen("/v1/audit/reads"));
    query_add(&q, "ssin", ssin);
    if (limit)
        query_add_long(&q, "limit", limit);
    if (q.b.failed) {
        free(q.b.p);
        return local_error("out of memory");
    }
    struct api_request rq = {.method = "GET", .path = q.b.p};
    rc = exchange_and_print(c, &rq, NULL);
    free(q.b.p);
    return rc;
}
