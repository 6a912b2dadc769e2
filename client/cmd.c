/*
 * cmd: the exchange with the server and its reporting, write requests and
 * the growing buffer, shared by the commands (see cmd.h).
 */
#include "cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/random.h>

#include <cjson/cJSON.h>

#include "args.h"
#include "hex.h"
#include "input.h"

/* Report a failure: not answered, or not a 2xx answer. */
int receive_status(const struct ctx *c, const struct api_response *res)
{
    if (res->outcome != API_ANSWERED) {
        output_transport_error(res);
        if (res->outcome == API_UNREACHABLE && !c->api.cert)
            fprintf(stderr, "medaid: note: no client certificate given (--cert, MEDAID_CERT, "
                            "or 'cert' in the config file)\n");
        return api_exit_for_outcome(res->outcome);
    }
    if (res->status < 200 || res->status > 299) {
        output_error_answer(res);
        return api_exit_for_status(res->status);
    }
    return EXIT_OK;
}

/* Report failures; on a 2xx JSON answer, *doc is the parsed body. */
int receive(const struct ctx *c, const struct api_response *res, cJSON **doc)
{
    *doc = NULL;
    int rc = receive_status(c, res);
    if (rc != EXIT_OK)
        return rc;
    *doc = cJSON_ParseWithLength(res->body, res->len);
    if (!*doc) {
        fprintf(stderr, "medaid: %ld answer is not JSON (content type %s)\n", res->status,
                res->content_type ? res->content_type : "none");
        return EXIT_SERVER;
    }
    return EXIT_OK;
}

void emit(const struct ctx *c, const struct api_response *res, const cJSON *doc, render_fn render)
{
    if (c->format == OUT_JSON)
        output_raw(stdout, res->body, res->len);
    else if (c->format == OUT_NDJSON || c->format == OUT_CSV) {
        if (!output_list(stdout, c->format, doc))
            fprintf(stderr, "medaid: the answer holds no list to print as %s\n",
                    output_format_name(c->format));
    } else
        (render ? render : output_generic_table)(stdout, doc);
}

/* One exchange whose answer is a yes or a no (member `flag`, a boolean):
 * printed, then exit 0 for yes and EXIT_NOT_COVERED (5) for no. */
int exchange_yes_no(struct ctx *c, const struct api_request *rq, const char *flag, render_fn render)
{
    struct api_response res;
    cJSON *doc = NULL;
    api_exchange(&c->api, rq, &res);
    int rc = receive(c, &res, &doc);
    if (rc == EXIT_OK) {
        const cJSON *yes = cJSON_GetObjectItemCaseSensitive(doc, flag);
        if (!cJSON_IsBool(yes)) {
            fprintf(stderr, "medaid: %ld answer has no boolean '%s'\n", res.status, flag);
            rc = EXIT_SERVER;
        } else {
            emit(c, &res, doc, render);
            rc = cJSON_IsTrue(yes) ? EXIT_OK : EXIT_NOT_COVERED;
        }
    }
    cJSON_Delete(doc);
    api_response_free(&res);
    return rc;
}

/* one exchange, then the usual reporting and printing */
int exchange_and_print(struct ctx *c, const struct api_request *rq, render_fn render)
{
    struct api_response res;
    cJSON *doc = NULL;

    api_exchange(&c->api, rq, &res);
    int rc = receive(c, &res, &doc);
    if (rc == EXIT_OK)
        emit(c, &res, doc, render);
    cJSON_Delete(doc);
    api_response_free(&res);
    return rc;
}

char *cmd_path(const char *what, const char *collection, const char *noun, const char *id,
               const char *suffix, int *rc)
{
    char *path = NULL;
    if (!*id) {
        *rc = usage_error("%s: empty %s", what, noun);
        return NULL;
    }
    char *e = api_escape_segment(id);
    if (!e || asprintf(&path, "%s/%s%s", collection, e, suffix) < 0) {
        path = NULL;
        *rc = local_error("out of memory");
    }
    free(e);
    return path;
}

int emit_json_value(const cJSON *v, const char *raw, size_t n)
{
    if (raw) {
        fwrite(raw, 1, n, stdout);
        return EXIT_OK;
    }
    char *text = cJSON_PrintUnformatted(v);
    if (!text)
        return local_error("out of memory");
    fputs(text, stdout);
    cJSON_free(text);
    return EXIT_OK;
}

static bool random_hex(char *out, size_t bytes)
{
    unsigned char r[IDEM_KEY_BYTES];
    size_t got = 0;

    errno = 0;
    if (bytes > sizeof r)
        return false;
    while (got < bytes) {
        ssize_t n = getrandom(r + got, bytes - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        got += (size_t)n;
    }
    hex_encode(r, bytes, out);
    return true;
}

/* Check the write options; `need_if_match`: --if-match is required. */
int write_prepare(const struct ctx *c, const char *what, bool need_if_match, struct write *w)
{
    const char *key = c->opt[W_IDEMPOTENCY_KEY];
    const char *if_match = c->opt[W_IF_MATCH];
    size_t nh = 0;
    long version;

    memset(w, 0, sizeof *w);
    if (if_match) {
        if (!parse_long(if_match, 1, 2147483647L, &version))
            return usage_error("--if-match: expected a version number (1 or more), not '%s'",
                               if_match);
        snprintf(w->if_match_header, sizeof w->if_match_header, "If-Match: %ld", version);
        w->headers[nh++] = w->if_match_header;
    } else if (need_if_match) {
        return usage_error("%s: missing --if-match VERSION (the version being replaced; "
                           "see 'medaid decision show ID')",
                           what);
    }
    if (key) {
        if (!header_safe(key, IDEM_KEY_MAX))
            return usage_error("--idempotency-key: 1 to %d visible ASCII characters", IDEM_KEY_MAX);
        snprintf(w->idem_header, sizeof w->idem_header, "Idempotency-Key: %s", key);
    } else {
        char hex[2 * IDEM_KEY_BYTES + 1];
        if (!random_hex(hex, IDEM_KEY_BYTES))
            return local_error("cannot make an idempotency key: %s (give --idempotency-key)",
                               strerror(errno ? errno : EIO));
        int n = snprintf(w->idem_header, sizeof w->idem_header, "Idempotency-Key: %s", hex);
        w->generated = w->idem_header + n - (int)(2 * IDEM_KEY_BYTES);
    }
    w->headers[nh++] = w->idem_header;
    w->headers[nh] = NULL;
    return EXIT_OK;
}

/* Send a write and print its answer (a decision when render is NULL). */
int write_send_as(struct ctx *c, const struct write *w, const char *method, const char *path,
                  const char *body, size_t len, render_fn render)
{
    if (w->generated)
        fprintf(stderr, "medaid: idempotency key: %s\n", w->generated);
    struct api_request rq = {
        .method = method,
        .path = path,
        .body = body,
        .body_len = len,
        .content_type = "application/json",
        .headers = w->headers,
    };
    return exchange_and_print(c, &rq, render ? render : output_decision_table);
}

int write_post_input(struct ctx *c, const char *what, const char *file, const char *path,
                     render_fn render)
{
    char *body;
    size_t len;
    struct write w;

    int rc = write_prepare(c, what, false, &w);
    if (rc != EXIT_OK)
        return rc;
    rc = read_json_input(file, &body, &len);
    if (rc != EXIT_OK)
        return rc;
    rc = write_send_as(c, &w, "POST", path, body, len, render);
    free(body);
    return rc;
}

/* Send a write whose answer is a decision (2xx), and print it. */
int write_send(struct ctx *c, const struct write *w, const char *method, const char *path,
               const char *body, size_t len)
{
    return write_send_as(c, w, method, path, body, len, NULL);
}

void buf_add(struct buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->failed = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void query_add(struct query *q, const char *name, const char *value)
{
    if (!value)
        return;
    char *e = api_escape_segment(value);
    if (!e) {
        q->b.failed = true;
        return;
    }
    buf_add(&q->b, q->any ? "&" : "?", 1);
    buf_add(&q->b, name, strlen(name));
    buf_add(&q->b, "=", 1);
    buf_add(&q->b, e, strlen(e));
    q->any = true;
    free(e);
}

void query_add_long(struct query *q, const char *name, long value)
{
    char v[24];
    snprintf(v, sizeof v, "%ld", value);
    query_add(q, name, v);
}
