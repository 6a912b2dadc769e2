/*
 * problem: RFC 9457 problem details and per-field validation errors
 * (see problem.h).
 */
#include "problem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "jsonx.h"

static const struct {
    const char *code;
    int status;
    const char *title;
} problems[PROBLEM__COUNT] = {
    [PROBLEM_BAD_REQUEST] = {"bad_request", 400, "Bad request"},
    [PROBLEM_MALFORMED_JSON] = {"malformed_json", 400, "Malformed JSON"},
    [PROBLEM_INVALID_PARAMETER] = {"invalid_parameter", 400, "Invalid parameter"},
    [PROBLEM_PRINCIPAL_UNKNOWN] = {"principal_unknown", 403, "Unknown principal"},
    [PROBLEM_PRINCIPAL_REVOKED] = {"principal_revoked", 403, "Principal revoked"},
    [PROBLEM_FORBIDDEN] = {"forbidden", 403, "Forbidden"},
    [PROBLEM_NOT_FOUND] = {"not_found", 404, "Not found"},
    [PROBLEM_METHOD_NOT_ALLOWED] = {"method_not_allowed", 405, "Method not allowed"},
    [PROBLEM_REQUEST_TIMEOUT] = {"request_timeout", 408, "Request timeout"},
    [PROBLEM_LENGTH_REQUIRED] = {"length_required", 411, "Length required"},
    [PROBLEM_BODY_TOO_LARGE] = {"body_too_large", 413, "Request body too large"},
    [PROBLEM_UNSUPPORTED_MEDIA_TYPE] = {"unsupported_media_type", 415, "Unsupported media type"},
    [PROBLEM_VALIDATION_FAILED] = {"validation_failed", 422, "Validation failed"},
    [PROBLEM_HEADERS_TOO_LARGE] = {"headers_too_large", 431, "Request headers too large"},
    [PROBLEM_INTERNAL_ERROR] = {"internal_error", 500, "Internal error"},
    [PROBLEM_NOT_IMPLEMENTED] = {"not_implemented", 501, "Not implemented"},
    [PROBLEM_DATABASE_UNAVAILABLE] = {"database_unavailable", 503, "Database unavailable"},
    [PROBLEM_SHUTTING_DOWN] = {"shutting_down", 503, "Service shutting down"},
    [PROBLEM_DECISION_OVERLAP] = {"decision_overlap", 409, "Overlapping decision"},
    [PROBLEM_INVALID_STATUS] = {"invalid_status", 409, "Not possible in this status"},
    [PROBLEM_VERSION_MISMATCH] = {"version_mismatch", 412, "Stale version"},
    [PROBLEM_PRECONDITION_REQUIRED] = {"precondition_required", 428, "If-Match required"},
    [PROBLEM_IDEMPOTENCY_KEY_REUSED] = {"idempotency_key_reused", 422, "Idempotency key reused"},
    [PROBLEM_UNKNOWN_PARAMETER] = {"unknown_parameter", 400, "Unknown parameter"},
    [PROBLEM_DATABASE_TIMEOUT] = {"database_timeout", 503, "Database timeout"},
    [PROBLEM_RATE_LIMITED] = {"rate_limited", 429, "Too many requests"},
    [PROBLEM_CHECKPOINTS_DISABLED] = {"checkpoints_disabled", 503, "Checkpoints disabled"},
    [PROBLEM_CHECKPOINT_INVALID] = {"checkpoint_invalid", 422, "Checkpoint invalid"},
    [PROBLEM_AGREEMENT_BILLED] = {"agreement_billed", 409, "Agreement billed"},
    [PROBLEM_PAYMENT_EXCEEDS_DUE] = {"payment_exceeds_due", 409, "Payment exceeds what is due"},
    [PROBLEM_PAYMENT_DUPLICATE] = {"payment_duplicate", 409, "Payment already recorded"},
};

static enum problem clamp(enum problem p)
{
    return (unsigned)p < PROBLEM__COUNT ? p : PROBLEM_INTERNAL_ERROR;
}

const char *problem_code(enum problem p)
{
    return problems[clamp(p)].code;
}

int problem_status(enum problem p)
{
    return problems[clamp(p)].status;
}

bool problem_retry_later(enum problem p)
{
    return p == PROBLEM_DATABASE_UNAVAILABLE || p == PROBLEM_DATABASE_TIMEOUT ||
           p == PROBLEM_SHUTTING_DOWN || p == PROBLEM_RATE_LIMITED;
}

const char *problem_title(enum problem p)
{
    return problems[clamp(p)].title;
}

bool problem_from_code(const char *code, enum problem *out)
{
    if (code == NULL)
        return false;
    for (int i = 0; i < PROBLEM__COUNT; i++) {
        if (strcmp(problems[i].code, code) == 0) {
            *out = (enum problem)i;
            return true;
        }
    }
    return false;
}

void verrs_init(struct verrs *e)
{
    memset(e, 0, sizeof *e);
}

/* After a truncating snprintf, drop a trailing partial UTF-8 sequence. */
static void trim_utf8(char *s)
{
    size_t len = strlen(s);
    size_t i = len;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (lead >= 0x80 && len - (i - 1) < need)
        s[i - 1] = '\0';
}

void verrs_add(struct verrs *e, const char *field, const char *code, const char *fmt, ...)
{
    if (e == NULL)
        return;
    if (e->n >= VERRS_MAX) {
        e->truncated = true;
        return;
    }
    struct verr *v = &e->items[e->n++];
    snprintf(v->field, sizeof v->field, "%s", field ? field : "");
    snprintf(v->code, sizeof v->code, "%s", code ? code : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->message, sizeof v->message, fmt, ap);
    va_end(ap);
    trim_utf8(v->field);
    trim_utf8(v->message);
}

static bool reserved(const char *k)
{
    static const char *const names[] = {"type",   "title",  "status",           "code",
                                        "detail", "errors", "errors_truncated", "messages",
                                        NULL};
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], k) == 0)
            return true;
    return false;
}

/* The detail in l: the table's text of the English detail (messages.c keys
 * the details by their English text: a sentence, never a bare code such as
 * "suspended"), the English one when it has none; without a detail, the
 * title. */
static const char *localized_detail(const char *detail, const char *title, bool localized,
                                    enum lang l)
{
    if (detail == NULL)
        return title;
    const char *t = localized && strchr(detail, ' ') ? message_text(detail, l) : NULL;
    return t ? t : detail;
}

/* A field error's message in l: in English its own message; in nl, fr and
 * de the text of its code ("error.<code>"), its own when the table has none. */
static const char *localized_error(const struct verr *v, bool localized, enum lang l)
{
    if (!localized || l == LANG_EN)
        return v->message;
    char key[64];
    snprintf(key, sizeof key, "error.%s", v->code);
    const char *t = message_text(key, l);
    return t ? t : v->message;
}

/* localized: the title in l, and "messages" (when the table has the title) */
static char *encode(enum problem p, const char *detail, const struct verrs *errs,
                    const struct cJSON *extra, bool localized, enum lang l)
{
    p = clamp(p);
    char type[64], key[64];
    snprintf(type, sizeof type, "urn:medaid:problem:%s", problems[p].code);
    snprintf(key, sizeof key, "problem.%s", problems[p].code);
    const char *title = localized ? message_text(key, l) : NULL;
    bool messages = title != NULL;
    if (title == NULL)
        title = problems[p].title;
    cJSON *root = cJSON_CreateObject();
    if (root == NULL)
        return NULL;
    bool ok = jx_add_str(root, "type", type) && jx_add_str(root, "title", title) &&
              jx_add_int(root, "status", problems[p].status) &&
              jx_add_str(root, "code", problems[p].code) &&
              jx_add_str(root, "detail", localized_detail(detail, title, localized, l));
    if (ok && messages) {
        cJSON *all = cJSON_AddObjectToObject(root, "messages");
        ok = all != NULL && jx_add_str(all, "nl", message_text(key, LANG_NL)) &&
             jx_add_str(all, "fr", message_text(key, LANG_FR)) &&
             jx_add_str(all, "de", message_text(key, LANG_DE));
    }
    if (ok && errs != NULL && errs->n > 0) {
        cJSON *arr = cJSON_AddArrayToObject(root, "errors");
        ok = arr != NULL;
        for (int i = 0; ok && i < errs->n && i < VERRS_MAX; i++) {
            cJSON *o = cJSON_CreateObject();
            ok = o != NULL && cJSON_AddItemToArray(arr, o) &&
                 jx_add_str(o, "field", errs->items[i].field) &&
                 jx_add_str(o, "code", errs->items[i].code) &&
                 jx_add_str(o, "message", localized_error(&errs->items[i], localized, l));
        }
        if (ok && errs->truncated)
            ok = jx_add_bool(root, "errors_truncated", true);
    }
    if (ok && extra != NULL && cJSON_IsObject(extra)) {
        for (const cJSON *m = extra->child; ok && m != NULL; m = m->next) {
            if (m->string == NULL || reserved(m->string))
                continue;
            cJSON *dup = cJSON_Duplicate(m, true);
            ok = dup != NULL && cJSON_AddItemToObject(root, m->string, dup);
        }
    }
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return jx_print_free(root);
}

char *problem_encode(enum problem p, const char *detail, const struct verrs *errs,
                     const struct cJSON *extra)
{
    return encode(p, detail, errs, extra, false, LANG_EN);
}

char *problem_encode_lang(enum problem p, const char *detail, const struct verrs *errs,
                          const struct cJSON *extra, enum lang l)
{
    return encode(p, detail, errs, extra, true, l);
}
