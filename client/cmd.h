/*
 * cmd: what the commands of the client share: the parsed command line
 * (struct ctx), the command table's entry, the exchange with the server and
 * its reporting, write requests (Idempotency-Key, If-Match), a growing
 * buffer. One cmd_<group>.c per command group implements its commands and
 * owns their options; main.c has the table.
 */
#ifndef MEDAID_CLIENT_CMD_H
#define MEDAID_CLIENT_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "api.h"
#include "output.h"

#define MAX_POS        4
#define MAX_CMD_OPTS   12
#define IDEM_KEY_MAX   200
#define IDEM_KEY_BYTES 16   /* a generated key: 32 hex digits */
#define BATCH_MAX      1000 /* questions per POST /v1/coverage/batch */
#define AUDIT_PAGE_MAX 1000 /* items per page of the audit lists (limit=) */
/* the server's rules for an item (proto/coverage.h), checked before sending */
#define ITEM_QUANTITY_MAX    999
#define ITEM_SUPPLEMENTS_MAX 1000000000L
#define SUPPLEMENT_TYPE_MAX  32

struct cJSON;

struct opt_def {
    const char *name; /* long name without "--" */
    char short_name;  /* 0 when none */
    const char *arg;  /* metavariable, NULL for a flag */
    const char *help;
};

struct ctx {
    struct api_options api;
    enum output_format format;
    const char *pos[MAX_POS];
    int npos;
    const char *opt[MAX_CMD_OPTS];  /* values of the command's options, by index (the last) */
    const char **all[MAX_CMD_OPTS]; /* every value given, in order (repeatable options) */
    int nall[MAX_CMD_OPTS];
};

struct command {
    const char *group;
    const char *name; /* NULL when the group alone is the command */
    int (*run)(struct ctx *c);
    const char *args; /* usage after "medaid group [name]" */
    const char *summary;
    const struct opt_def *opts; /* terminated by a NULL name; may be NULL */
    int min_pos, max_pos;
    unsigned formats; /* FMT(...) bits of the --format values taken; 0: json and table */
};
#define FMT(f)         (1u << (f))
#define FMT_JSON_TABLE (FMT(OUT_JSON) | FMT(OUT_TABLE))
#define FMT_ALL        (FMT(OUT_JSON) | FMT(OUT_TABLE) | FMT(OUT_NDJSON) | FMT(OUT_CSV))

/* the command table (main.c) */
extern const struct command commands[];
extern const size_t n_commands;

/* the commands, one per entry of the table */
int cmd_decision_create(struct ctx *c);
int cmd_decision_update(struct ctx *c);
int cmd_decision_suspend(struct ctx *c);
int cmd_decision_resume(struct ctx *c);
int cmd_decision_stop(struct ctx *c);
int cmd_decision_show(struct ctx *c);
int cmd_decision_history(struct ctx *c);
int cmd_beneficiary_decisions(struct ctx *c);
int cmd_card(struct ctx *c);
extern const struct opt_def card_opts[];
int cmd_coverage(struct ctx *c);
int cmd_coverage_batch(struct ctx *c);
int cmd_agreement_show(struct ctx *c);
int cmd_agreement_void(struct ctx *c);
int cmd_agreement_verify(struct ctx *c);
int cmd_tariffs_import(struct ctx *c);
int cmd_tariffs_show(struct ctx *c);
int cmd_health(struct ctx *c);
int cmd_audit_consultations(struct ctx *c);
int cmd_audit_decisions(struct ctx *c);
int cmd_audit_as_of(struct ctx *c);
int cmd_audit_verify(struct ctx *c);
int cmd_audit_checkpoint(struct ctx *c);
int cmd_audit_reads(struct ctx *c);
int cmd_audit_tree_head(struct ctx *c);
int cmd_audit_prove(struct ctx *c);
int cmd_audit_consistent(struct ctx *c);
int cmd_invoice_submit(struct ctx *c);
int cmd_invoice_show(struct ctx *c);
int cmd_invoice_list(struct ctx *c);
int cmd_payment_add(struct ctx *c);
int cmd_statement(struct ctx *c);

/* their options (terminated by a NULL name), in their cmd_<group>.c */
extern const struct opt_def decision_create_opts[], decision_update_opts[], decision_status_opts[],
    decision_stop_opts[], decision_show_opts[];
extern const struct opt_def coverage_opts[], coverage_batch_opts[];
extern const struct opt_def agreement_void_opts[], agreement_verify_opts[];
extern const struct opt_def tariffs_import_opts[], tariffs_show_opts[];
extern const struct opt_def audit_consultations_opts[], audit_decisions_opts[], audit_as_of_opts[],
    audit_verify_opts[], audit_checkpoint_opts[], audit_reads_opts[];
extern const struct opt_def audit_tree_head_opts[], audit_prove_opts[], audit_consistent_opts[];
extern const struct opt_def invoice_submit_opts[], invoice_list_opts[], payment_add_opts[],
    statement_opts[];

/* The write commands share the positions of their options, so that one
 * helper reads them: a table lists a prefix of these. */
enum { W_IDEMPOTENCY_KEY, W_IF_MATCH, W_END };
#define OPT_IDEMPOTENCY_KEY                                                                        \
    {                                                                                              \
        "idempotency-key", 0, "KEY",                                                               \
            "send KEY as Idempotency-Key (default: a random key, on stderr)"                       \
    }
#define OPT_IF_MATCH(what)                                                                         \
    {                                                                                              \
        "if-match", 0, "VERSION", what "only if the current version is VERSION (else 412)"         \
    }

/* ---- answers ---- */

/* Report a failure: not answered, or not a 2xx answer. */
int receive_status(const struct ctx *c, const struct api_response *res);
/* Report failures; on a 2xx JSON answer, *doc is the parsed body. */
int receive(const struct ctx *c, const struct api_response *res, struct cJSON **doc);
typedef void (*render_fn)(FILE *out, const struct cJSON *doc);
/* the body as received (json) or rendered (table; render NULL: generic) */
void emit(const struct ctx *c, const struct api_response *res, const struct cJSON *doc,
          render_fn render);
/* One exchange whose answer is a yes or a no (member `flag`, a boolean):
 * printed, then exit 0 for yes and EXIT_NOT_COVERED (5) for no. */
int exchange_yes_no(struct ctx *c, const struct api_request *rq, const char *flag,
                    render_fn render);
/* one exchange, then the usual reporting and printing */
int exchange_and_print(struct ctx *c, const struct api_request *rq, render_fn render);

/* "collection/ID" + suffix, ID escaped ("/v1/decisions", "D2026-1", "/stop"); an
 * empty ID is a usage error "<what>: empty <noun>". NULL (after a message, its
 * exit code in *rc) on failure; else free() the path. */
char *cmd_path(const char *what, const char *collection, const char *noun, const char *id,
               const char *suffix, int *rc);
/* a JSON value on stdout, on one line: raw[0..n) as received when raw is not
 * NULL, else v encoded; EXIT_OK or the failure (reported) */
int emit_json_value(const struct cJSON *v, const char *raw, size_t n);

/* ---- writes ---- */

/*
 * A write request: the Idempotency-Key (given, or generated here) and the
 * optional If-Match. A generated key is shown on stderr just before the
 * request is sent, so that a script can repeat the request with it after a
 * timeout or a lost connection.
 */
struct write {
    char idem_header[32 + IDEM_KEY_MAX];
    char if_match_header[48];
    const char *headers[3];
    const char *generated; /* the generated key, inside idem_header; NULL when given */
};

/* Check the write options; `need_if_match`: --if-match is required. */
int write_prepare(const struct ctx *c, const char *what, bool need_if_match, struct write *w);
/* Send a write and print its answer (a decision when render is NULL). */
int write_send_as(struct ctx *c, const struct write *w, const char *method, const char *path,
                  const char *body, size_t len, render_fn render);
/* POST the JSON object of file (NULL or "-": stdin) to path as a write
 * (Idempotency-Key from the options, or generated) and print the answer. */
int write_post_input(struct ctx *c, const char *what, const char *file, const char *path,
                     render_fn render);
/* Send a write whose answer is a decision (2xx), and print it. */
int write_send(struct ctx *c, const struct write *w, const char *method, const char *path,
               const char *body, size_t len);

/* ---- a growing byte buffer ---- */

struct buf {
    char *p;
    size_t len, cap;
    bool failed;
};

/* append s[0..n) (kept NUL-terminated); on failure b->failed is set */
void buf_add(struct buf *b, const char *s, size_t n);

/* ---- lists ---- */

/* a path with a query string built one parameter at a time */
struct query {
    struct buf b;
    bool any;
};

/* "?name=value" or "&name=value", value escaped; nothing when value is NULL */
void query_add(struct query *q, const char *name, const char *value);
void query_add_long(struct query *q, const char *name, long value);

/* A list of pages {"items", "next_cursor"} at q (its filters set), in the
 * chosen format: limit > 0: that one page; else json: every page as one
 * array; ndjson, csv, table: the NDJSON stream converted line by line
 * (cmd_audit.c). */
int list_fetch(struct ctx *c, enum audit_list l, struct query *q, long limit);

#endif
