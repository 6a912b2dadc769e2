/*
 * cmd_decision: decision create, update, suspend, resume, stop, show, history.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "args.h"
#include "cmd.h"
#include "input.h"

#include "date.h" /* proto */

const struct opt_def decision_create_opts[] = {
    OPT_IDEMPOTENCY_KEY,
    {NULL, 0, NULL, NULL},
};

const struct opt_def decision_update_opts[] = {
    OPT_IDEMPOTENCY_KEY,
    OPT_IF_MATCH("required: replace "),
    {NULL, 0, NULL, NULL},
};

const struct opt_def decision_status_opts[] = {
    OPT_IDEMPOTENCY_KEY,
    OPT_IF_MATCH("act "),
    {NULL, 0, NULL, NULL},
};

const struct opt_def decision_stop_opts[] = {
    OPT_IDEMPOTENCY_KEY,
    OPT_IF_MATCH("act "),
    {"end", 0, "YYYY-MM-DD", "required: last day of the decision (inclusive)"},
    {NULL, 0, NULL, NULL},
};

enum { SHOW_VERSION };
const struct opt_def decision_show_opts[] = {
    {"version", 0, "N", "show version N instead of the current one"},
    {NULL, 0, NULL, NULL},
};

/* "/v1/decisions/ID" + suffix, ID escaped; NULL (after a message) on failure */
static char *decision_path(const char *what, const char *id, const char *suffix, int *rc)
{
    return cmd_path(what, "/v1/decisions", "ID", id, suffix, rc);
}

int cmd_decision_create(struct ctx *c)
{
    return write_post_input(c, "decision create", c->npos ? c->pos[0] : NULL, "/v1/decisions",
                            NULL);
}

int cmd_decision_update(struct ctx *c)
{
    char *body;
    size_t len;
    struct write w;
    int rc = write_prepare(c, "decision update", true, &w);
    if (rc != EXIT_OK)
        return rc;
    char *path = decision_path("decision update", c->pos[0], "", &rc);
    if (!path)
        return rc;
    rc = read_json_input(c->pos[1], &body, &len);
    if (rc == EXIT_OK) {
        rc = write_send(c, &w, "PUT", path, body, len);
        free(body);
    }
    free(path);
    return rc;
}

/* suspend, resume, stop: POST /v1/decisions/ID/<change> with a small body */
static int status_change(struct ctx *c, const char *change, const char *end)
{
    char what[32];
    struct write w;
    char *body = NULL;

    snprintf(what, sizeof what, "decision %s", change);
    int rc = write_prepare(c, what, false, &w);
    if (rc != EXIT_OK)
        return rc;
    char suffix[16];
    snprintf(suffix, sizeof suffix, "/%s", change);
    char *path = decision_path(what, c->pos[0], suffix, &rc);
    if (!path)
        return rc;
    cJSON *o = cJSON_CreateObject();
    if (o && (!end || cJSON_AddStringToObject(o, "end", end)))
        body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!body)
        rc = local_error("out of memory");
    else
        rc = write_send(c, &w, "POST", path, body, strlen(body));
    cJSON_free(body);
    free(path);
    return rc;
}

int cmd_decision_suspend(struct ctx *c)
{
    return status_change(c, "suspend", NULL);
}

int cmd_decision_resume(struct ctx *c)
{
    return status_change(c, "resume", NULL);
}

int cmd_decision_stop(struct ctx *c)
{
    const char *end = c->opt[W_END];
    if (!end)
        return usage_error("decision stop: missing --end YYYY-MM-DD (the last day covered)");
    if (!date_parse(end, strlen(end), &(pdate){0}))
        return usage_error("--end: expected a calendar date YYYY-MM-DD, not '%s'", end);
    return status_change(c, "stop", end);
}

int cmd_decision_history(struct ctx *c)
{
    int rc;
    char *path = decision_path("decision history", c->pos[0], "/history", &rc);
    if (!path)
        return rc;
    struct api_request rq = {.method = "GET", .path = path};
    rc = exchange_and_print(c, &rq, output_history_table);
    free(path);
    return rc;
}

int cmd_decision_show(struct ctx *c)
{
    long version = 0;
    if (!*c->pos[0])
        return usage_error("decision show: empty ID");
    if (c->opt[SHOW_VERSION] && !parse_long(c->opt[SHOW_VERSION], 1, 2147483647L, &version))
        return usage_error("--version: expected a positive whole number, not '%s'",
                           c->opt[SHOW_VERSION]);
    char *id = api_escape_segment(c->pos[0]);
    if (!id)
        return local_error("out of memory");
    char *path = NULL;
    int n = version ? asprintf(&path, "/v1/decisions/%s?version=%ld", id, version)
                    : asprintf(&path, "/v1/decisions/%s", id);
    free(id);
    if (n < 0)
        return local_error("out of memory");
    struct api_request rq = {.method = "GET", .path = path};
    int rc = exchange_and_print(c, &rq, output_decision_table);
    free(path);
    return rc;
}
