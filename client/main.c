/*
 * medaid: command-line client of medaidd.
 *
 * Argument parsing and subcommands. Every subcommand is one entry in
 * `commands[]` and one function; global options may come before or after
 * the subcommand. stdout carries data only; errors go to stderr; the exit
 * codes are `enum exit_code` (api.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sys/random.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "api.h"
#include "config.h"
#include "coverage.h" /* proto: the refusal codes */
#include "output.h"

#ifndef MEDAID_VERSION
#define MEDAID_VERSION "0"
#endif

#define INPUT_MAX       (16u * 1024u * 1024u) /* request body read from a file */
#define MAX_POS         4
#define MAX_CMD_OPTS    12
#define TIMEOUT_MAX     86400
#define REQ_ID_MAX      128
#define DEFAULT_TIMEOUT 30
#define IDEM_KEY_MAX    200
#define IDEM_KEY_BYTES  16              /* a generated key: 32 hex digits */
#define BATCH_MAX       1000            /* questions per POST /v1/coverage/batch */
#define AUDIT_PAGE_MAX  1000            /* items per page of the audit lists (limit=) */
#define AUDIT_LINE_MAX  (1024u * 1024u) /* one line of an audit stream */
/* the server's rules for an item (proto/coverage.h), checked before sending */
#define ITEM_QUANTITY_MAX    999
#define ITEM_SUPPLEMENTS_MAX 1000000000L
#define SUPPLEMENT_TYPE_MAX  32

/* ---- exit codes, as documented ------------------------------------------------ */

static const struct {
    enum exit_code code;
    const char *meaning;
} exit_doc[] = {
    {EXIT_OK, "success (coverage: covered)"},
    {EXIT_USAGE, "usage or local error (bad option, unreadable or invalid input file)"},
    {EXIT_REFUSED, "refused by the server (HTTP 4xx)"},
    {EXIT_UNREACHABLE, "server unreachable (connection, DNS, TLS handshake, timeout)"},
    {EXIT_SERVER, "server error or unavailable (HTTP 5xx), or an unusable or cut-off answer"},
    {EXIT_NOT_COVERED, "a negative answer: not covered (coverage, audit as-of), "
                       "audit trail broken (audit verify)"},
};

/* ---- options and commands ---------------------------------------------------- */

enum gopt {
    G_URL,
    G_CERT,
    G_KEY,
    G_CA,
    G_CONFIG,
    G_FORMAT,
    G_LANG,
    G_TIMEOUT,
    G_REQUEST_ID,
    G_VERBOSE,
    G_HELP,
    G_VERSION,
    G__COUNT
};

struct opt_def {
    const char *name; /* long name without "--" */
    char short_name;  /* 0 when none */
    const char *arg;  /* metavariable, NULL for a flag */
    const char *help;
};

static const struct opt_def gopts[G__COUNT] = {
    [G_URL] = {"url", 0, "URL", "server base URL (MEDAID_URL; default " CONFIG_DEFAULT_URL ")"},
    [G_CERT] = {"cert", 0, "FILE", "client certificate, PEM (MEDAID_CERT)"},
    [G_KEY] = {"key", 0, "FILE", "client private key, PEM, unencrypted (MEDAID_KEY)"},
    [G_CA] = {"ca", 0, "FILE", "CA that signed the server certificate (MEDAID_CA)"},
    [G_CONFIG] = {"config", 0, "FILE",
                  "config file (MEDAID_CONFIG; default ~/.config/medaid/medaid.conf)"},
    [G_FORMAT] = {"format", 0, "FMT",
                  "output format: json (default) or table; also ndjson and csv for the audit "
                  "lists"},
    [G_LANG] = {"lang", 0, "LANG", "language of messages: en, nl or fr (Accept-Language)"},
    [G_TIMEOUT] = {"timeout", 0, "SECONDS",
                   "give up after SECONDS (default 30; audit streams: SECONDS without data)"},
    [G_REQUEST_ID] = {"request-id", 0, "ID", "send ID as X-Request-Id"},
    [G_VERBOSE] = {"verbose", 'v', NULL, "print the HTTP status and X-Request-Id on stderr"},
    [G_HELP] = {"help", 'h', NULL, "show this help (or a command's) and exit"},
    [G_VERSION] = {"version", 0, NULL, "show the version and exit"},
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

static int cmd_decision_create(struct ctx *c);
static int cmd_decision_update(struct ctx *c);
static int cmd_decision_suspend(struct ctx *c);
static int cmd_decision_resume(struct ctx *c);
static int cmd_decision_stop(struct ctx *c);
static int cmd_decision_show(struct ctx *c);
static int cmd_decision_history(struct ctx *c);
static int cmd_beneficiary_decisions(struct ctx *c);
static int cmd_coverage(struct ctx *c);
static int cmd_coverage_batch(struct ctx *c);
static int cmd_agreement_show(struct ctx *c);
static int cmd_agreement_void(struct ctx *c);
static int cmd_tariffs_import(struct ctx *c);
static int cmd_tariffs_show(struct ctx *c);
static int cmd_health(struct ctx *c);
static int cmd_audit_consultations(struct ctx *c);
static int cmd_audit_decisions(struct ctx *c);
static int cmd_audit_as_of(struct ctx *c);
static int cmd_audit_verify(struct ctx *c);

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

static const struct opt_def create_opts[] = {
    OPT_IDEMPOTENCY_KEY,
    {NULL, 0, NULL, NULL},
};

static const struct opt_def update_opts[] = {
    OPT_IDEMPOTENCY_KEY,
    OPT_IF_MATCH("required: replace "),
    {NULL, 0, NULL, NULL},
};

static const struct opt_def status_opts[] = {
    OPT_IDEMPOTENCY_KEY,
    OPT_IF_MATCH("act "),
    {NULL, 0, NULL, NULL},
};

static const struct opt_def stop_opts[] = {
    OPT_IDEMPOTENCY_KEY,
    OPT_IF_MATCH("act "),
    {"end", 0, "YYYY-MM-DD", "required: last day of the decision (inclusive)"},
    {NULL, 0, NULL, NULL},
};

enum { SHOW_VERSION };
static const struct opt_def show_opts[] = {
    {"version", 0, "N", "show version N instead of the current one"},
    {NULL, 0, NULL, NULL},
};

enum { COV_SSIN, COV_DATE, COV_CARE_TYPE, COV_ITEM };
static const struct opt_def coverage_opts[] = {
    {"ssin", 0, "SSIN", "beneficiary's national register or BIS number (11 digits)"},
    {"date", 0, "YYYY-MM-DD", "service date"},
    {"care-type", 0, "TYPE", "one of the eight care types"},
    {"item", 0, "CODE[:QTY[:SUPPL[:STYPE]]]",
     "a billed code, its quantity, supplements asked (cents) and their type; repeatable"},
    {NULL, 0, NULL, NULL},
};

enum { CB_PROGRESS, CB_BATCH_SIZE };
static const struct opt_def batch_opts[] = {
    {"progress", 0, NULL, "report progress on stderr even when it is not a terminal"},
    {"batch-size", 0, "N", "questions per request, 1 to 1000 (default 1000)"},
    {NULL, 0, NULL, NULL},
};

static const struct opt_def void_opts[] = {
    OPT_IDEMPOTENCY_KEY,
    {NULL, 0, NULL, NULL},
};

enum { TI_FORMAT_IN };
static const struct opt_def tariffs_import_opts[] = {
    {"format-in", 0, "csv|json", "format of FILE (default: csv when FILE ends in .csv, else json)"},
    {NULL, 0, NULL, NULL},
};

enum { TS_DATE };
static const struct opt_def tariffs_show_opts[] = {
    {"date", 0, "YYYY-MM-DD", "only the line valid on that day"},
    {NULL, 0, NULL, NULL},
};

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
static const struct opt_def audit_consultations_opts[] = {
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
static const struct opt_def audit_decisions_opts[] = {
    {"ocmw", 0, "KBO", "decisions of this OCMW"},
    {"ssin", 0, "SSIN", "decisions for this beneficiary"},
    {"changed-since", 0, "TS", "versions recorded at or after TS (RFC 3339, or a date)"},
    {"status", 0, "STATUS", "active, suspended or stopped"},
    OPT_LIMIT,
    {NULL, 0, NULL, NULL},
};

enum { AA_SSIN, AA_DATE, AA_CARE_TYPE, AA_KNOWN_AT };
static const struct opt_def audit_as_of_opts[] = {
    {"ssin", 0, "SSIN", "beneficiary's national register or BIS number (11 digits)"},
    {"date", 0, "YYYY-MM-DD", "service date"},
    {"care-type", 0, "TYPE", "one of the eight care types"},
    {"known-at", 0, "TS", "answer with the data known at TS (RFC 3339, or a date)"},
    {NULL, 0, NULL, NULL},
};

static const struct command commands[] = {
    {"decision", "create", cmd_decision_create, "[FILE|-] [--idempotency-key KEY]",
     "record a decision from JSON (FILE or stdin)", create_opts, 0, 1},
    {"decision", "update", cmd_decision_update,
     "ID FILE|- --if-match VERSION [--idempotency-key KEY]",
     "replace a decision with the JSON in FILE (or stdin): a new version", update_opts, 2, 2},
    {"decision", "suspend", cmd_decision_suspend, "ID [--if-match VERSION] [--idempotency-key KEY]",
     "suspend a decision: a new version", status_opts, 1, 1},
    {"decision", "resume", cmd_decision_resume, "ID [--if-match VERSION] [--idempotency-key KEY]",
     "resume a suspended decision: a new version", status_opts, 1, 1},
    {"decision", "stop", cmd_decision_stop,
     "ID --end YYYY-MM-DD [--if-match VERSION] [--idempotency-key KEY]",
     "stop a decision: --end is its last day; a new version", stop_opts, 1, 1},
    {"decision", "show", cmd_decision_show, "ID [--version N]", "show a decision", show_opts, 1, 1},
    {"decision", "history", cmd_decision_history, "ID",
     "list every version of a decision, with who recorded it and when", NULL, 1, 1},
    {"beneficiary", "decisions", cmd_beneficiary_decisions, "SSIN",
     "list a person's decisions (OCMW: a summary; auditor: in full)", NULL, 1, 1},
    {"coverage", NULL, cmd_coverage,
     "--ssin SSIN --date YYYY-MM-DD --care-type TYPE [--item CODE[:QTY[:SUPPL[:STYPE]]]]... "
     "| [FILE|-]",
     "ask whether a person is covered, and who pays what of each item (exit 5: not covered)",
     coverage_opts, 0, 1},
    {"coverage-batch", NULL, cmd_coverage_batch, "[FILE|-] [--progress] [--batch-size N]",
     "ask many coverage questions: NDJSON in (FILE or stdin), NDJSON answers out, in order",
     batch_opts, 0, 1, FMT(OUT_JSON) | FMT(OUT_NDJSON)},
    {"agreement", "show", cmd_agreement_show, "NUMBER",
     "show an agreement: the coverage answer exactly as it was given", NULL, 1, 1},
    {"agreement", "void", cmd_agreement_void, "NUMBER [--idempotency-key KEY]",
     "void an agreement (the provider that was given it)", void_opts, 1, 1},
    {"tariffs", "import", cmd_tariffs_import, "FILE|- [--format-in csv|json]",
     "import tariff lines from CSV or JSON (admin)", tariffs_import_opts, 1, 1},
    {"tariffs", "show", cmd_tariffs_show, "CODE [--date YYYY-MM-DD]",
     "show the tariff lines of a nomenclature code", tariffs_show_opts, 1, 1},
    {"audit", "consultations", cmd_audit_consultations,
     "[--ssin SSIN] [--provider NIHII|KBO] [--ocmw KBO] [--service-from YYYY-MM-DD] "
     "[--service-to YYYY-MM-DD] [--recorded-from TS] [--recorded-to TS] [--outcome OUTCOME] "
     "[--limit N]",
     "list the coverage questions answered, with their agreements (auditor)",
     audit_consultations_opts, 0, 0, FMT_ALL},
    {"audit", "decisions", cmd_audit_decisions,
     "[--ocmw KBO] [--ssin SSIN] [--changed-since TS] [--status STATUS] [--limit N]",
     "list the versions of decisions, with who recorded them (auditor)", audit_decisions_opts, 0, 0,
     FMT_ALL},
    {"audit", "as-of", cmd_audit_as_of,
     "--ssin SSIN --date YYYY-MM-DD --care-type TYPE --known-at TS",
     "what coverage would have answered with the data known at TS (exit 5: not covered)",
     audit_as_of_opts, 0, 0},
    {"audit", "verify", cmd_audit_verify, "",
     "check the hash chains of the audit trail (exit 5: broken)", NULL, 0, 0},
    {"health", NULL, cmd_health, "", "check that the server and its database answer", NULL, 0, 0},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const char *const care_types[] = {
    "hospitalisation", "ambulatory_hospital", "general_practice",  "paramedical",
    "pharmacy",        "prosthesis",          "medical_transport", "miscellaneous",
};

/* ---- messages ------------------------------------------------------------------ */

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("medaid: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'medaid --help'.\n", stderr);
    return EXIT_USAGE;
}

static int local_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int local_error(const char *fmt, ...)
{
    va_list ap;
    fputs("medaid: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_USAGE;
}

static void print_opts(FILE *out, const struct opt_def *opts, size_t n)
{
    for (size_t i = 0; i < n && opts[i].name; i++) {
        char left[64];
        if (opts[i].short_name)
            snprintf(left, sizeof left, "-%c, --%s%s%s", opts[i].short_name, opts[i].name,
                     opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", opts[i].name, opts[i].arg ? " " : "",
                     opts[i].arg ? opts[i].arg : "");
        if (strlen(left) > 28)
            fprintf(out, "  %s\n  %-28s %s\n", left, "", opts[i].help);
        else
            fprintf(out, "  %-28s %s\n", left, opts[i].help);
    }
}

static void command_usage(FILE *out, const struct command *cmd)
{
    fprintf(out, "usage: medaid [OPTIONS] %s%s%s%s%s\n", cmd->group, cmd->name ? " " : "",
            cmd->name ? cmd->name : "", *cmd->args ? " " : "", cmd->args);
}

static void help_command(const struct command *cmd)
{
    command_usage(stdout, cmd);
    printf("\n%s\n", cmd->summary);
    if (cmd->opts) {
        printf("\nOptions:\n");
        print_opts(stdout, cmd->opts, MAX_CMD_OPTS);
    }
    if (strcmp(cmd->group, "coverage") == 0 ||
        (strcmp(cmd->group, "audit") == 0 && strcmp(cmd->name, "as-of") == 0)) {
        printf("\nCare types:");
        for (size_t i = 0; i < sizeof care_types / sizeof care_types[0]; i++)
            printf(" %s", care_types[i]);
        printf("\n");
    }
    if (strcmp(cmd->group, "coverage") == 0) {
        printf("\nItems: --item 101076, --item 101076:2, --item 590011:1:2500:room (CODE is 6\n"
               "digits; QTY 1 to %d, default 1; SUPPL the supplements asked, in cents;\n"
               "STYPE the kind of supplement, [a-z0-9_]). Amounts in the answer are cents.\n",
               ITEM_QUANTITY_MAX);
    }
    if (strcmp(cmd->group, "audit") == 0 && cmd->formats == FMT_ALL) {
        bool cons = strcmp(cmd->name, "consultations") == 0;
        printf("\nFormats: json (default) follows the pages and writes one JSON array of\n"
               "all the items (with --limit N: the first page, as the server's object\n"
               "{\"items\":[...],\"next_cursor\":...}); ndjson, csv and table stream every item,\n"
               "one line each, as the server sends them.\n");
        printf("\nCSV columns: %s\n",
               cons ? "agreement,issued_at,known_at,provider,ssin,service_date,care_type,\n"
                      "  covered,reason,decision,decision_version,ocmw,voided_at"
                    : "decision,version,change,status,ocmw,ssin,kind,period_start,\n"
                      "  period_end,recorded_at,recorded_by_principal,recorded_by_role,\n"
                      "  recorded_by_organisation");
        if (cons) {
            size_t col = (size_t)printf("\nOutcomes: covered not_covered") - 1;
            for (int r = RF_NONE + 1; r < RF__COUNT; r++) {
                if (r == RF_UNKNOWN_CODE)
                    continue;
                const char *code = refusal_code((enum refusal)r);
                if (col + 1 + strlen(code) > 78) {
                    printf("\n ");
                    col = 1;
                }
                col += (size_t)printf(" %s", code);
            }
            printf("\n");
        }
        printf("\nExit 4 when the answer stops short (what was written stays written).\n");
    }
    if (strcmp(cmd->group, "coverage-batch") == 0)
        printf("\nInput: one JSON question per line, as 'medaid coverage FILE' takes it; blank\n"
               "lines are skipped. Output: one JSON answer per line, in the order of the\n"
               "questions: a coverage answer (with \"agreement\"), or {\"error\": {...}} for a\n"
               "question the server did not answer. At most %d questions per request.\n"
               "Exit 0 when every question was answered, 2 when the server refused any,\n"
               "4 when it failed any (an error with a status of 500 or more).\n",
               BATCH_MAX);
    printf("\nGlobal options are listed by 'medaid --help'.\n");
}

static void help_group(const char *group)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].group, group) == 0)
            command_usage(stdout, &commands[i]);
}

static void help_all(void)
{
    printf("usage: medaid [OPTIONS] COMMAND [ARGS]\n\n"
           "Command-line client of medaidd, the registry of OCMW medical-aid decisions.\n\n"
           "Commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++) {
        char left[400];
        snprintf(left, sizeof left, "%s%s%s%s%s", commands[i].group, commands[i].name ? " " : "",
                 commands[i].name ? commands[i].name : "", *commands[i].args ? " " : "",
                 commands[i].args);
        printf("  %s\n      %s\n", left, commands[i].summary);
    }
    printf("\nOptions (before or after the command):\n");
    print_opts(stdout, gopts, G__COUNT);
    printf("\nEnvironment: MEDAID_URL, MEDAID_CERT, MEDAID_KEY, MEDAID_CA, MEDAID_CONFIG.\n"
           "Precedence: options, then environment, then the config file (keys url, cert,\n"
           "key, ca as 'key = value' lines).\n"
           "\nOutput: json prints the server's answer exactly as received; table prints\n"
           "aligned key/value lines; the audit lists also take ndjson and csv (see\n"
           "'medaid audit consultations --help'). Errors are reported on stderr.\n"
           "\nExit codes:\n");
    for (size_t i = 0; i < sizeof exit_doc / sizeof exit_doc[0]; i++)
        printf("  %d  %s\n", (int)exit_doc[i].code, exit_doc[i].meaning);
}

/* stdout failed: said once (main() does not say it again) */
static bool output_error_said;

static int output_error(void)
{
    if (!output_error_said)
        fprintf(stderr, "medaid: cannot write the output: %s\n", strerror(errno ? errno : EIO));
    output_error_said = true;
    return EXIT_USAGE;
}

/* ---- small checks -------------------------------------------------------------- */

static bool parse_long(const char *s, long min, long max, long *out)
{
    if (!*s || !isdigit((unsigned char)*s))
        return false;
    errno = 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool is_digits(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* strict YYYY-MM-DD, a real calendar day */
static bool date_ok(const char *s)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return false;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || m < 1 || m > 12 || d < 1)
        return false;
    int max = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        max = 29;
    return d <= max;
}

/* visible ASCII only: safe to put in a header */
static bool header_safe(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

/* ---- input ---------------------------------------------------------------------- */

/* "standard input" or the path, for messages */
static const char *input_name(const char *path)
{
    return !path || strcmp(path, "-") == 0 ? "standard input" : path;
}

/*
 * Open path for reading ("-" or NULL: standard input). Without a path,
 * standard input must not be a terminal: medaid never waits for typing.
 */
static int open_input(const char *path, FILE **f)
{
    if (!path || strcmp(path, "-") == 0) {
        if (!path && isatty(STDIN_FILENO))
            return usage_error("expected input on standard input, which is a terminal; "
                               "give a FILE or pipe the input in");
        *f = stdin;
        return EXIT_OK;
    }
    *f = fopen(path, "rb");
    if (!*f)
        return local_error("cannot open %s: %s", path, strerror(errno));
    return EXIT_OK;
}

/*
 * Read all of path ("-" or NULL: standard input) with a size cap. On success
 * *buf holds the bytes exactly as read, NUL-terminated (not counted in *len).
 */
static int read_input(const char *path, char **buf, size_t *len)
{
    const char *name = input_name(path);
    FILE *f;

    *buf = NULL;
    *len = 0;
    int rc = open_input(path, &f);
    if (rc != EXIT_OK)
        return rc;

    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    while (b) {
        if (n == cap - 1) {
            if (cap - 1 > INPUT_MAX) {
                rc = local_error("%s: larger than %u MiB", name, INPUT_MAX >> 20);
                break;
            }
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
        size_t got = fread(b + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                rc = local_error("cannot read %s: %s", name, strerror(errno));
            break;
        }
    }
    if (!b && rc == EXIT_OK)
        rc = local_error("out of memory reading %s", name);
    if (f != stdin)
        fclose(f);
    if (rc == EXIT_OK && n > INPUT_MAX)
        rc = local_error("%s: larger than %u MiB", name, INPUT_MAX >> 20);
    if (rc != EXIT_OK) {
        free(b);
        return rc;
    }
    b[n] = '\0';
    if (memchr(b, '\0', n)) {
        free(b);
        return local_error("%s: contains a NUL byte; not text", name);
    }
    *buf = b;
    *len = n;
    return EXIT_OK;
}

/*
 * Check that b[0..n) is one JSON value of the type `want` (cJSON_Object or
 * cJSON_Array), white space around it allowed. Errors name the line and
 * column; `line` > 0: b is that one line of the input.
 */
static int check_json(const char *name, const char *b, size_t n, int want, long line)
{
    const char *what = want == cJSON_Array ? "a JSON array" : "a JSON object";
    int rc = EXIT_OK;

    if (strspn(b, " \t\r\n") >= n)
        return local_error("%s: empty; expected %s", name, what);
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(b, n, &end, false);
    while (doc && end && end < b + n && *end && strchr(" \t\r\n", *end))
        end++;
    if (!doc || !end || end != b + n) {
        const char *at = doc ? end : cJSON_GetErrorPtr();
        if (!at || at < b || at > b + n)
            at = b + n;
        long l = line > 0 ? line : 1, col = 1;
        for (const char *p = b; p < at; p++) {
            if (*p == '\n') {
                l++;
                col = 1;
            } else {
                col++;
            }
        }
        rc = local_error("%s: %s (line %ld, column %ld)", name,
                         doc ? "unexpected text after the JSON value" : "not valid JSON", l, col);
    } else if ((doc->type & 0xff) != want) {
        if (line > 0)
            rc = local_error("%s: line %ld: expected %s", name, line, what);
        else
            rc = local_error("%s: expected %s", name, what);
    }
    cJSON_Delete(doc);
    return rc;
}

/*
 * Read a JSON object from path ("-" or NULL: standard input) with a size cap,
 * and check that it is one JSON object before anything is sent. On success
 * *buf holds the bytes exactly as read (sent as they are).
 */
static int read_json_input(const char *path, char **buf, size_t *len)
{
    int rc = read_input(path, buf, len);
    if (rc != EXIT_OK)
        return rc;
    rc = check_json(input_name(path), *buf, *len, cJSON_Object, 0);
    if (rc != EXIT_OK) {
        free(*buf);
        *buf = NULL;
        *len = 0;
    }
    return rc;
}

/* ---- answers -------------------------------------------------------------------- */

/* Report a failure: not answered, or not a 2xx answer. */
static int receive_status(const struct ctx *c, const struct api_response *res)
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
static int receive(const struct ctx *c, const struct api_response *res, cJSON **doc)
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

typedef void (*render_fn)(FILE *out, const struct cJSON *doc);

static void emit(const struct ctx *c, const struct api_response *res, const cJSON *doc,
                 render_fn render)
{
    if (c->format == OUT_JSON)
        output_raw(stdout, res->body, res->len);
    else
        (render ? render : output_generic_table)(stdout, doc);
}

/* One exchange whose answer is a yes or a no (member `flag`, a boolean):
 * printed, then exit 0 for yes and EXIT_NOT_COVERED (5) for no. */
static int exchange_yes_no(struct ctx *c, const struct api_request *rq, const char *flag,
                           render_fn render)
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
static int exchange_and_print(struct ctx *c, const struct api_request *rq, render_fn render)
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

/* ---- commands ------------------------------------------------------------------- */

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
    for (size_t i = 0; i < bytes; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
    return true;
}

/* Check the write options; `need_if_match`: --if-match is required. */
static int write_prepare(const struct ctx *c, const char *what, bool need_if_match, struct write *w)
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
static int write_send_as(struct ctx *c, const struct write *w, const char *method, const char *path,
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

/* Send a write whose answer is a decision (2xx), and print it. */
static int write_send(struct ctx *c, const struct write *w, const char *method, const char *path,
                      const char *body, size_t len)
{
    return write_send_as(c, w, method, path, body, len, NULL);
}

/* "/v1/decisions/ID" + suffix, ID escaped; NULL (after a message) on failure */
static char *decision_path(const char *what, const char *id, const char *suffix, int *rc)
{
    char *path = NULL;
    if (!*id) {
        *rc = usage_error("%s: empty ID", what);
        return NULL;
    }
    char *e = api_escape_segment(id);
    if (!e || asprintf(&path, "/v1/decisions/%s%s", e, suffix) < 0) {
        path = NULL;
        *rc = local_error("out of memory");
    }
    free(e);
    return path;
}

static int cmd_decision_create(struct ctx *c)
{
    char *body;
    size_t len;
    struct write w;

    int rc = write_prepare(c, "decision create", false, &w);
    if (rc != EXIT_OK)
        return rc;
    rc = read_json_input(c->npos ? c->pos[0] : NULL, &body, &len);
    if (rc != EXIT_OK)
        return rc;
    rc = write_send(c, &w, "POST", "/v1/decisions", body, len);
    free(body);
    return rc;
}

static int cmd_decision_update(struct ctx *c)
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

static int cmd_decision_suspend(struct ctx *c)
{
    return status_change(c, "suspend", NULL);
}

static int cmd_decision_resume(struct ctx *c)
{
    return status_change(c, "resume", NULL);
}

static int cmd_decision_stop(struct ctx *c)
{
    const char *end = c->opt[W_END];
    if (!end)
        return usage_error("decision stop: missing --end YYYY-MM-DD (the last day covered)");
    if (!date_ok(end))
        return usage_error("--end: expected a calendar date YYYY-MM-DD, not '%s'", end);
    return status_change(c, "stop", end);
}

static int cmd_decision_history(struct ctx *c)
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

static int cmd_beneficiary_decisions(struct ctx *c)
{
    const char *ssin = c->pos[0];
    char *path = NULL;
    if (!*ssin)
        return usage_error("beneficiary decisions: empty SSIN");
    if (!is_digits(ssin, 11))
        fprintf(stderr, "medaid: warning: SSIN '%s' is not 11 digits\n", ssin);
    char *e = api_escape_segment(ssin);
    if (!e || asprintf(&path, "/v1/beneficiaries/%s/decisions", e) < 0) {
        free(e);
        return local_error("out of memory");
    }
    free(e);
    struct api_request rq = {.method = "GET", .path = path};
    int rc = exchange_and_print(c, &rq, output_decision_list_table);
    free(path);
    return rc;
}

static int cmd_decision_show(struct ctx *c)
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

/*
 * One --item CODE[:QUANTITY[:SUPPLEMENTS_CENTS[:SUPPLEMENT_TYPE]]] as
 * {"code", "quantity", "supplements_cents", "supplement_type"}, with only
 * the members given; appended to items.
 */
static int add_item(cJSON *items, const char *spec)
{
    static const char form[] = "expected CODE[:QUANTITY[:SUPPLEMENTS_CENTS[:SUPPLEMENT_TYPE]]]";
    const char *part[4] = {NULL};
    char buf[128];
    size_t np = 0;

    if (strlen(spec) >= sizeof buf)
        return usage_error("--item '%.40s...': too long; %s", spec, form);
    strcpy(buf, spec);
    for (char *p = buf, *colon;; p = colon + 1) {
        if (np == 4)
            return usage_error("--item '%s': too many parts; %s", spec, form);
        part[np++] = p;
        colon = strchr(p, ':');
        if (!colon)
            break;
        *colon = '\0';
    }
    long quantity = 0, supplements = 0;
    if (!is_digits(part[0], 6))
        return usage_error("--item '%s': the code must be 6 digits; %s", spec, form);
    if (np > 1 && !parse_long(part[1], 1, ITEM_QUANTITY_MAX, &quantity))
        return usage_error("--item '%s': QUANTITY must be a whole number from 1 to %d", spec,
                           ITEM_QUANTITY_MAX);
    if (np > 2 && !parse_long(part[2], 0, ITEM_SUPPLEMENTS_MAX, &supplements))
        return usage_error("--item '%s': SUPPLEMENTS_CENTS must be whole cents from 0 to %ld", spec,
                           ITEM_SUPPLEMENTS_MAX);
    if (np > 3) {
        size_t n = strlen(part[3]);
        if (n == 0 || n > SUPPLEMENT_TYPE_MAX ||
            strspn(part[3], "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
            return usage_error("--item '%s': SUPPLEMENT_TYPE must be 1 to %d of a-z, 0-9 and _",
                               spec, SUPPLEMENT_TYPE_MAX);
    }

    cJSON *it = cJSON_CreateObject();
    if (!it || !cJSON_AddItemToArray(items, it)) {
        cJSON_Delete(it);
        return local_error("out of memory");
    }
    /* from here on, it belongs to items */
    bool ok = cJSON_AddStringToObject(it, "code", part[0]) != NULL;
    if (ok && np > 1)
        ok = cJSON_AddNumberToObject(it, "quantity", (double)quantity) != NULL;
    if (ok && np > 2)
        ok = cJSON_AddNumberToObject(it, "supplements_cents", (double)supplements) != NULL;
    if (ok && np > 3)
        ok = cJSON_AddStringToObject(it, "supplement_type", part[3]) != NULL;
    return ok ? EXIT_OK : local_error("out of memory");
}

static int cmd_coverage(struct ctx *c)
{
    const char *ssin = c->opt[COV_SSIN], *date = c->opt[COV_DATE], *ct = c->opt[COV_CARE_TYPE];
    char *body = NULL;
    size_t len = 0;
    int rc;

    if (ssin || date || ct || c->nall[COV_ITEM]) {
        if (c->npos)
            return usage_error("coverage: give either --ssin/--date/--care-type [--item ...] "
                               "or a FILE, not both");
        if (!ssin || !date || !ct)
            return usage_error("coverage: missing%s%s%s", ssin ? "" : " --ssin",
                               date ? "" : " --date", ct ? "" : " --care-type");
        if (!date_ok(date))
            return usage_error("--date: expected a calendar date YYYY-MM-DD, not '%s'", date);
        bool known = false;
        for (size_t i = 0; i < sizeof care_types / sizeof care_types[0]; i++)
            known = known || strcmp(ct, care_types[i]) == 0;
        if (!known)
            return usage_error("--care-type: unknown '%s' (see 'medaid coverage --help')", ct);
        if (!is_digits(ssin, 11))
            fprintf(stderr,
                    "medaid: warning: SSIN '%s' is not 11 digits; the registry will "
                    "answer invalid_ssin\n",
                    ssin);
        cJSON *q = cJSON_CreateObject();
        cJSON *items = NULL;
        bool ok = q && cJSON_AddStringToObject(q, "ssin", ssin) &&
                  cJSON_AddStringToObject(q, "service_date", date) &&
                  cJSON_AddStringToObject(q, "care_type", ct);
        if (ok && c->nall[COV_ITEM])
            ok = (items = cJSON_AddArrayToObject(q, "items")) != NULL;
        for (int i = 0; ok && i < c->nall[COV_ITEM]; i++) {
            rc = add_item(items, c->all[COV_ITEM][i]);
            if (rc != EXIT_OK) {
                cJSON_Delete(q);
                return rc;
            }
        }
        if (ok)
            body = cJSON_PrintUnformatted(q);
        cJSON_Delete(q);
        if (!body)
            return local_error("out of memory");
        len = strlen(body);
    } else {
        rc = read_json_input(c->npos ? c->pos[0] : NULL, &body, &len);
        if (rc != EXIT_OK)
            return rc;
    }

    struct api_request rq = {
        .method = "POST",
        .path = "/v1/coverage",
        .body = body,
        .body_len = len,
        .content_type = "application/json",
    };
    rc = exchange_yes_no(c, &rq, "covered", output_coverage_table);
    free(body);
    return rc;
}

/* ---- coverage-batch ------------------------------------------------------------- */

/* a growing byte buffer */
struct buf {
    char *p;
    size_t len, cap;
    bool failed;
};

static void buf_add(struct buf *b, const char *s, size_t n)
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

struct span {
    const char *p;
    size_t n;
};

static const char *skip_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* The end of the JSON value that starts at p (the text is known to be valid JSON). */
static const char *value_end(const char *p, const char *e)
{
    int depth = 0;
    bool in_str = false;

    for (; p < e; p++) {
        char ch = *p;
        if (in_str) {
            if (ch == '\\' && p + 1 < e) {
                p++;
            } else if (ch == '"') {
                in_str = false;
                if (depth == 0)
                    return p + 1;
            }
            continue;
        }
        switch (ch) {
        case '"':
            in_str = true;
            break;
        case '{':
        case '[':
            depth++;
            break;
        case '}':
        case ']':
            if (depth == 0)
                return p;
            if (--depth == 0)
                return p + 1;
            break;
        case ',':
        case ':':
        case ' ':
        case '\t':
        case '\n':
        case '\r':
            if (depth == 0)
                return p;
            break;
        default:
            break;
        }
    }
    return e;
}

/*
 * The elements of the array `member` (e.g. "answers") of the top-level object
 * of the JSON text b[0..len), as they are in the text: so that each element
 * is written byte for byte as the server sent it. Returns their number, or -1
 * when the text is not of that form or has more than max of them.
 */
static int member_spans(const char *b, size_t len, const char *member, struct span *sp, int max)
{
    const char *e = b + len, *p = skip_ws(b, e);
    size_t mlen = strlen(member);

    if (p == e || *p != '{')
        return -1;
    p = skip_ws(p + 1, e);
    while (p < e && *p == '"') {
        const char *k = p;
        p = value_end(p, e);
        bool hit = (size_t)(p - k) == mlen + 2 && memcmp(k + 1, member, mlen) == 0;
        p = skip_ws(p, e);
        if (p == e || *p != ':')
            return -1;
        p = skip_ws(p + 1, e);
        if (!hit) {
            p = skip_ws(value_end(p, e), e);
            if (p < e && *p == ',')
                p = skip_ws(p + 1, e);
            continue;
        }
        if (p == e || *p != '[')
            return -1;
        p = skip_ws(p + 1, e);
        if (p < e && *p == ']')
            return 0;
        for (int n = 0; p < e && n < max; n++) {
            sp[n].p = p;
            p = value_end(p, e);
            sp[n].n = (size_t)(p - sp[n].p);
            p = skip_ws(p, e);
            if (p < e && *p == ']')
                return n + 1;
            if (p == e || *p != ',')
                return -1;
            p = skip_ws(p + 1, e);
        }
        return -1;
    }
    return -1;
}

/* Non-blank lines left in f, when it is a regular file (then rewound); else -1. */
static long count_questions(FILE *f)
{
    struct stat st;
    int fd = fileno(f);
    off_t at = fd >= 0 ? lseek(fd, 0, SEEK_CUR) : -1;

    if (at < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return -1;
    long n = 0;
    bool blank = true;
    int ch;
    while ((ch = getc(f)) != EOF) {
        if (ch == '\n') {
            n += !blank;
            blank = true;
        } else if (ch != ' ' && ch != '\t' && ch != '\r') {
            blank = false;
        }
    }
    n += !blank;
    clearerr(f);
    if (fseeko(f, at, SEEK_SET) != 0)
        return -1;
    return n;
}

/*
 * Send one chunk ({"questions":[...]}, n questions from input lines
 * line_of[0..n)), check the answer, then write its n answers as NDJSON.
 * Nothing of a chunk is written unless all of its answers are usable.
 */
struct batch_tally {
    long refused, first_refused_line; /* questions answered with an "error" */
    long failed;                      /* of which the server failed (status >= 500) */
};

static int batch_send(struct ctx *c, const struct buf *body, int n, const long *line_of,
                      struct batch_tally *t)
{
    struct api_request rq = {
        .method = "POST",
        .path = "/v1/coverage/batch",
        .body = body->p,
        .body_len = body->len,
        .content_type = "application/json",
    };
    struct api_response res;
    struct span *sp = NULL;
    cJSON *doc = NULL;

    api_exchange(&c->api, &rq, &res);
    int rc = receive(c, &res, &doc);
    if (rc != EXIT_OK)
        goto out;

    const cJSON *answers = cJSON_GetObjectItemCaseSensitive(doc, "answers");
    if (!cJSON_IsArray(answers) || cJSON_GetArraySize(answers) != n) {
        fprintf(stderr, "medaid: %ld answer has no 'answers' array of %d elements\n", res.status,
                n);
        rc = EXIT_SERVER;
        goto out;
    }
    int i = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, answers)
    {
        const cJSON *err = cJSON_GetObjectItemCaseSensitive(a, "error");
        if (cJSON_IsObject(err)) {
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(err, "status");
            if (t->refused++ == 0)
                t->first_refused_line = line_of[i];
            if (cJSON_IsNumber(st) && st->valuedouble >= 500)
                t->failed++;
        } else if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(a, "agreement"))) {
            fprintf(stderr,
                    "medaid: %ld answer %d (line %ld) has neither an 'agreement' nor an 'error'\n",
                    res.status, i + 1, line_of[i]);
            rc = EXIT_SERVER;
            goto out;
        }
        i++;
    }

    /* the answers as sent when each is on one line, else re-encoded on one line */
    sp = calloc((size_t)n, sizeof *sp);
    bool raw = sp && member_spans(res.body, res.len, "answers", sp, n) == n;
    for (int k = 0; raw && k < n; k++)
        raw = !memchr(sp[k].p, '\n', sp[k].n) && !memchr(sp[k].p, '\r', sp[k].n);
    i = 0;
    cJSON_ArrayForEach(a, answers)
    {
        if (raw) {
            fwrite(sp[i].p, 1, sp[i].n, stdout);
        } else {
            char *text = cJSON_PrintUnformatted(a);
            if (!text) {
                rc = local_error("out of memory");
                goto out;
            }
            fputs(text, stdout);
            cJSON_free(text);
        }
        fputc('\n', stdout);
        i++;
    }
    if (fflush(stdout) != 0)
        rc = output_error();
out:
    free(sp);
    cJSON_Delete(doc);
    api_response_free(&res);
    return rc;
}

static int cmd_coverage_batch(struct ctx *c)
{
    const char *path = c->npos ? c->pos[0] : NULL;
    const char *name = input_name(path);
    long size = BATCH_MAX;
    static const char head[] = "{\"questions\":[";

    if (c->opt[CB_BATCH_SIZE] && !parse_long(c->opt[CB_BATCH_SIZE], 1, BATCH_MAX, &size))
        return usage_error("--batch-size: expected a whole number from 1 to %d, not '%s'",
                           BATCH_MAX, c->opt[CB_BATCH_SIZE]);
    bool progress = c->opt[CB_PROGRESS] || isatty(STDERR_FILENO);

    FILE *f;
    int rc = open_input(path, &f);
    if (rc != EXIT_OK)
        return rc;
    long total = progress ? count_questions(f) : -1;

    struct buf body = {0};
    char *line = NULL;
    size_t lcap = 0;
    long line_of[BATCH_MAX];
    long lineno = 0, answered = 0;
    struct batch_tally tally = {0, 0, 0};
    bool eof = false;

    while (rc == EXIT_OK && !eof) {
        int n = 0;
        body.len = 0;
        buf_add(&body, head, sizeof head - 1);
        while (n < size) {
            errno = 0;
            ssize_t got = getline(&line, &lcap, f);
            if (got < 0) {
                if (ferror(f))
                    rc = local_error("cannot read %s: %s", name, strerror(errno ? errno : EIO));
                eof = true;
                break;
            }
            lineno++;
            if ((size_t)got > INPUT_MAX) {
                rc = local_error("%s: line %ld is larger than %u MiB", name, lineno,
                                 INPUT_MAX >> 20);
                break;
            }
            if (memchr(line, '\0', (size_t)got)) {
                rc = local_error("%s: line %ld contains a NUL byte; not JSON", name, lineno);
                break;
            }
            size_t ln = (size_t)got;
            while (ln > 0 && strchr(" \t\r\n", line[ln - 1]))
                ln--;
            size_t lead = strspn(line, " \t\r\n");
            if (lead >= ln)
                continue; /* blank line */
            rc = check_json(name, line, ln, cJSON_Object, lineno);
            if (rc != EXIT_OK)
                break;
            if (n > 0)
                buf_add(&body, ",", 1);
            buf_add(&body, line + lead, ln - lead);
            line_of[n++] = lineno;
        }
        if (rc != EXIT_OK || n == 0)
            break;
        buf_add(&body, "]}", 2);
        if (body.failed) {
            rc = local_error("out of memory");
            break;
        }
        rc = batch_send(c, &body, n, line_of, &tally);
        if (rc != EXIT_OK)
            break;
        answered += n;
        if (progress) {
            if (total >= 0)
                fprintf(stderr, "medaid: %ld/%ld answered\n", answered, total);
            else
                fprintf(stderr, "medaid: %ld answered\n", answered);
        }
    }
    free(line);
    free(body.p);
    if (f != stdin)
        fclose(f);
    if (rc == EXIT_OK && tally.refused > 0) {
        fprintf(stderr, "medaid: %ld question%s not answered (the first on line %ld)",
                tally.refused, tally.refused == 1 ? "" : "s", tally.first_refused_line);
        if (tally.failed)
            fprintf(stderr, ", %ld by a server error", tally.failed);
        fputs("; see the \"error\" answers\n", stderr);
        rc = tally.failed ? EXIT_SERVER : EXIT_REFUSED;
    }
    return rc;
}

/* ---- agreements ------------------------------------------------------------------ */

/* "/v1/agreements/NUMBER" + suffix, NUMBER escaped; NULL (after a message) on failure */
static char *agreement_path(const char *what, const char *number, const char *suffix, int *rc)
{
    char *path = NULL;
    if (!*number) {
        *rc = usage_error("%s: empty NUMBER", what);
        return NULL;
    }
    char *e = api_escape_segment(number);
    if (!e || asprintf(&path, "/v1/agreements/%s%s", e, suffix) < 0) {
        path = NULL;
        *rc = local_error("out of memory");
    }
    free(e);
    return path;
}

/* an agreement is the recorded coverage answer */
static void agreement_table(FILE *out, const cJSON *doc)
{
    if (cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(doc, "covered")))
        output_coverage_table(out, doc);
    else
        output_generic_table(out, doc);
}

/* The body is printed as received; a void is said by the header
 * Agreement-Voided-At: on stderr, and as "voided at" in the table. */
static int cmd_agreement_show(struct ctx *c)
{
    int rc;
    char *path = agreement_path("agreement show", c->pos[0], "", &rc);
    if (!path)
        return rc;
    struct api_request rq = {.method = "GET", .path = path, .capture = "Agreement-Voided-At"};
    struct api_response res;
    cJSON *doc = NULL;
    api_exchange(&c->api, &rq, &res);
    free(path);
    rc = receive(c, &res, &doc);
    if (rc == EXIT_OK) {
        if (res.captured) {
            fputs("medaid: this agreement was voided at ", stderr);
            for (const char *p = res.captured; *p; p++)
                fputc((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p, stderr);
            fputc('\n', stderr);
            if (cJSON_IsObject(doc) && !cJSON_GetObjectItemCaseSensitive(doc, "voided_at"))
                cJSON_AddStringToObject(doc, "voided_at", res.captured);
        }
        emit(c, &res, doc, agreement_table);
    }
    cJSON_Delete(doc);
    api_response_free(&res);
    return rc;
}

static int cmd_agreement_void(struct ctx *c)
{
    struct write w;
    int rc = write_prepare(c, "agreement void", false, &w);
    if (rc != EXIT_OK)
        return rc;
    char *path = agreement_path("agreement void", c->pos[0], "/void", &rc);
    if (!path)
        return rc;
    rc = write_send_as(c, &w, "POST", path, "{}", 2, output_generic_table);
    free(path);
    return rc;
}

/* ---- tariffs ---------------------------------------------------------------------- */

static bool ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static int cmd_tariffs_import(struct ctx *c)
{
    const char *path = c->pos[0], *fmt = c->opt[TI_FORMAT_IN];
    bool csv;
    char *body;
    size_t len;

    if (fmt) {
        if (strcmp(fmt, "csv") != 0 && strcmp(fmt, "json") != 0)
            return usage_error("--format-in: expected csv or json, not '%s'", fmt);
        csv = strcmp(fmt, "csv") == 0;
    } else {
        csv = ends_with_ci(path, ".csv");
    }
    if (!*path)
        return usage_error("tariffs import: empty FILE");
    int rc = read_input(path, &body, &len);
    if (rc != EXIT_OK)
        return rc;
    const char *name = input_name(path);
    if (csv && strspn(body, " \t\r\n") == len)
        rc = local_error("%s: empty; expected CSV tariff lines", name);
    else if (!csv)
        rc = check_json(name, body, len, cJSON_Array, 0);
    if (rc == EXIT_OK) {
        struct api_request rq = {
            .method = "PUT",
            .path = "/v1/tariffs",
            .body = body,
            .body_len = len,
            .content_type = csv ? "text/csv" : "application/json",
        };
        rc = exchange_and_print(c, &rq, NULL);
    }
    free(body);
    return rc;
}

static int cmd_tariffs_show(struct ctx *c)
{
    const char *code = c->pos[0], *date = c->opt[TS_DATE];
    if (!*code)
        return usage_error("tariffs show: empty CODE");
    if (date && !date_ok(date))
        return usage_error("--date: expected a calendar date YYYY-MM-DD, not '%s'", date);
    if (!is_digits(code, 6))
        fprintf(stderr, "medaid: warning: code '%s' is not 6 digits\n", code);
    char *e = api_escape_segment(code);
    char *path = NULL;
    int n = !e     ? -1
            : date ? asprintf(&path, "/v1/tariffs/%s?date=%s", e, date)
                   : asprintf(&path, "/v1/tariffs/%s", e);
    free(e);
    if (n < 0)
        return local_error("out of memory");
    struct api_request rq = {.method = "GET", .path = path};
    int rc = exchange_and_print(c, &rq, output_tariff_table);
    free(path);
    return rc;
}

/* ---- audit ------------------------------------------------------------------------ */

/* two digits at p, at most max */
static bool two_digits(const char *p, int max)
{
    return isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
           (p[0] - '0') * 10 + (p[1] - '0') <= max;
}

/* An RFC 3339 timestamp YYYY-MM-DDThh:mm:ss[.fraction](Z|+hh:mm|-hh:mm), or a
 * date YYYY-MM-DD (its start in UTC); passed to the server as given. */
static bool timestamp_ok(const char *s)
{
    char day[11];
    size_t n = strlen(s);

    if (n == 10)
        return date_ok(s);
    if (n < 20)
        return false;
    memcpy(day, s, 10);
    day[10] = '\0';
    if (!date_ok(day) || (s[10] != 'T' && s[10] != 't'))
        return false;
    const char *p = s + 11;
    if (!two_digits(p, 23) || p[2] != ':' || !two_digits(p + 3, 59) || p[5] != ':' ||
        !two_digits(p + 6, 60))
        return false;
    p += 8;
    if (*p == '.') {
        if (!isdigit((unsigned char)*++p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'Z' || *p == 'z')
        return p[1] == '\0';
    if (*p == '+' || *p == '-')
        return two_digits(p + 1, 23) && p[3] == ':' && two_digits(p + 4, 59) && p[6] == '\0';
    return false;
}

static bool care_type_ok(const char *s)
{
    for (size_t i = 0; i < sizeof care_types / sizeof care_types[0]; i++)
        if (strcmp(s, care_types[i]) == 0)
            return true;
    return false;
}

/* a path with a query string built one parameter at a time */
struct query {
    struct buf b;
    bool any;
};

static void query_add(struct query *q, const char *name, const char *value)
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

static void query_add_long(struct query *q, const char *name, long value)
{
    char v[24];
    snprintf(v, sizeof v, "%ld", value);
    query_add(q, name, v);
}

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
    if (v && !date_ok(v))
        return usage_error("--%s: expected a calendar date YYYY-MM-DD, not '%s'", opt, v);
    return EXIT_OK;
}

static int check_timestamp_opt(const char *opt, const char *v)
{
    if (v && !timestamp_ok(v))
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
        if (raw) {
            fwrite(raw, 1, rawlen, stdout);
        } else {
            char *text = cJSON_PrintUnformatted(item);
            if (!text)
                return local_error("out of memory");
            fputs(text, stdout);
            cJSON_free(text);
        }
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
    const char *b = skip_ws(p, e);
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
static struct span *page_spans(const struct api_response *res, int n)
{
    struct span *sp = calloc(n > 0 ? (size_t)n : 1, sizeof *sp);
    if (sp && member_spans(res->body, res->len, "items", sp, n) == n) {
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
        struct span *sp = c->format == OUT_NDJSON ? page_spans(&res, n) : NULL;
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
            struct span *sp = page_spans(&res, n);
            const cJSON *it;
            if (!opened)
                fputc('[', stdout);
            opened = true;
            cJSON_ArrayForEach(it, items)
            {
                fputs(written++ ? ",\n" : "\n", stdout);
                if (sp) {
                    fwrite(sp[i].p, 1, sp[i].n, stdout);
                } else {
                    char *text = cJSON_PrintUnformatted(it);
                    if (!text) {
                        rc = local_error("out of memory");
                        break;
                    }
                    fputs(text, stdout);
                    cJSON_free(text);
                }
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

/* the list of q (its filters set), in the chosen format */
static int audit_list(struct ctx *c, enum audit_list l, struct query *q, long limit)
{
    if (q->b.failed)
        return local_error("out of memory");
    if (limit)
        return audit_one_page(c, l, q, limit);
    if (c->format == OUT_JSON)
        return audit_all_pages(c, q);
    return audit_stream(c, l, q->b.p);
}

static bool outcome_ok(const char *s)
{
    if (strcmp(s, "covered") == 0 || strcmp(s, "not_covered") == 0)
        return true;
    for (int r = RF_NONE + 1; r < RF__COUNT; r++)
        if (r != RF_UNKNOWN_CODE && strcmp(s, refusal_code((enum refusal)r)) == 0)
            return true;
    return false;
}

static int cmd_audit_consultations(struct ctx *c)
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
    if (o[AC_OUTCOME] && !outcome_ok(o[AC_OUTCOME]))
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
    rc = audit_list(c, AUDIT_CONSULTATIONS, &q, limit);
    free(q.b.p);
    return rc;
}

static int cmd_audit_decisions(struct ctx *c)
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
    if (status && strcmp(status, "active") != 0 && strcmp(status, "suspended") != 0 &&
        strcmp(status, "stopped") != 0)
        return usage_error("--status: expected active, suspended or stopped, not '%s'", status);

    struct query q = {0};
    buf_add(&q.b, "/v1/audit/decisions", strlen("/v1/audit/decisions"));
    query_add(&q, "ocmw", o[AD_OCMW]);
    query_add(&q, "ssin", o[AD_SSIN]);
    query_add(&q, "changed_since", o[AD_CHANGED_SINCE]);
    query_add(&q, "status", status);
    rc = audit_list(c, AUDIT_DECISIONS, &q, limit);
    free(q.b.p);
    return rc;
}

static int cmd_audit_as_of(struct ctx *c)
{
    const char *ssin = c->opt[AA_SSIN], *date = c->opt[AA_DATE], *ct = c->opt[AA_CARE_TYPE],
               *known = c->opt[AA_KNOWN_AT];
    int rc;

    if (!ssin || !date || !ct || !known)
        return usage_error("audit as-of: missing%s%s%s%s", ssin ? "" : " --ssin",
                           date ? "" : " --date", ct ? "" : " --care-type",
                           known ? "" : " --known-at");
    if ((rc = check_ssin_opt(ssin)) != EXIT_OK || (rc = check_date_opt("date", date)) != EXIT_OK ||
        (rc = check_timestamp_opt("known-at", known)) != EXIT_OK)
        return rc;
    if (!care_type_ok(ct))
        return usage_error("--care-type: unknown '%s' (see 'medaid audit as-of --help')", ct);

    struct query q = {0};
    buf_add(&q.b, "/v1/audit/coverage-as-of", strlen("/v1/audit/coverage-as-of"));
    query_add(&q, "ssin", ssin);
    query_add(&q, "service_date", date);
    query_add(&q, "care_type", ct);
    query_add(&q, "known_at", known);
    if (q.b.failed) {
        free(q.b.p);
        return local_error("out of memory");
    }
    struct api_request rq = {.method = "GET", .path = q.b.p};
    rc = exchange_yes_no(c, &rq, "covered", output_as_of_table);
    free(q.b.p);
    return rc;
}

static int cmd_audit_verify(struct ctx *c)
{
    struct api_request rq = {.method = "GET", .path = "/v1/audit/verify"};
    return exchange_yes_no(c, &rq, "intact", output_verify_table);
}

static int cmd_health(struct ctx *c)
{
    struct api_request rq = {.method = "GET", .path = "/v1/health"};
    return exchange_and_print(c, &rq, NULL);
}

/* ---- argument parsing ------------------------------------------------------------ */

static const struct opt_def *find_opt(const struct opt_def *opts, size_t n, const char *name,
                                      size_t nlen, char short_name, size_t *index)
{
    for (size_t i = 0; opts && i < n && opts[i].name; i++) {
        bool hit = short_name
                       ? opts[i].short_name == short_name
                       : strlen(opts[i].name) == nlen && strncmp(opts[i].name, name, nlen) == 0;
        if (hit) {
            *index = i;
            return &opts[i];
        }
    }
    return NULL;
}

static bool group_exists(const char *g, bool *has_names)
{
    bool found = false;
    *has_names = false;
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].group, g) == 0) {
            found = true;
            *has_names = *has_names || commands[i].name != NULL;
        }
    return found;
}

static const struct command *find_command(const char *g, const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].group, g) == 0 &&
            (name ? commands[i].name && strcmp(commands[i].name, name) == 0 : !commands[i].name))
            return &commands[i];
    return NULL;
}

static void list_group(FILE *out, const char *g)
{
    fprintf(out, "commands of '%s':", g);
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].group, g) == 0 && commands[i].name)
            fprintf(out, " %s", commands[i].name);
    fputc('\n', out);
}

struct parsed {
    const char *gval[G__COUNT];
    bool gflag[G__COUNT];
    const char *group;
    const struct command *cmd;
};

static int parse_args(int argc, char **argv, struct parsed *p, struct ctx *c)
{
    bool only_pos = false;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (!only_pos && a[0] == '-' && a[1] != '\0') {
            const char *name = a[1] == '-' ? a + 2 : a + 1;
            char short_name = 0;
            const char *eq = NULL;
            size_t nlen;
            if (a[1] != '-') {
                if (a[2] != '\0')
                    return usage_error("unknown option '%s'", a);
                short_name = a[1];
                nlen = 1;
            } else {
                eq = strchr(name, '=');
                nlen = eq ? (size_t)(eq - name) : strlen(name);
            }
            size_t idx = 0;
            bool is_cmd = false;
            const struct opt_def *d = NULL;
            if (p->cmd && p->cmd->opts)
                d = find_opt(p->cmd->opts, MAX_CMD_OPTS, name, nlen, short_name, &idx);
            if (d)
                is_cmd = true;
            else
                d = find_opt(gopts, G__COUNT, name, nlen, short_name, &idx);
            if (!d) {
                bool belongs = false;
                for (size_t k = 0; !p->cmd && k < N_COMMANDS; k++) {
                    size_t ignored;
                    belongs = belongs || find_opt(commands[k].opts, MAX_CMD_OPTS, name, nlen,
                                                  short_name, &ignored);
                }
                return usage_error("unknown option '%s'%s", a,
                                   belongs ? " (command options go after the command)" : "");
            }
            const char *val = NULL;
            if (d->arg) {
                if (eq)
                    val = eq + 1;
                else if (i + 1 < argc)
                    val = argv[++i];
                else
                    return usage_error("option '--%s' needs a value (%s)", d->name, d->arg);
            } else if (eq) {
                return usage_error("option '--%s' takes no value", d->name);
            }
            if (is_cmd) {
                c->opt[idx] = val ? val : "";
                if (!c->all[idx] && !(c->all[idx] = calloc((size_t)argc, sizeof(char *))))
                    return local_error("out of memory");
                c->all[idx][c->nall[idx]++] = c->opt[idx];
            } else if (val)
                p->gval[idx] = val;
            else
                p->gflag[idx] = true;
            continue;
        }
        /* a word: group, command name, or a command argument */
        if (!p->group) {
            bool has_names;
            if (!group_exists(a, &has_names))
                return usage_error("unknown command '%s'", a);
            p->group = a;
            if (!has_names)
                p->cmd = find_command(a, NULL);
        } else if (!p->cmd) {
            p->cmd = find_command(p->group, a);
            if (!p->cmd) {
                fprintf(stderr, "medaid: unknown command '%s %s'; ", p->group, a);
                list_group(stderr, p->group);
                return EXIT_USAGE;
            }
        } else {
            if (c->npos >= p->cmd->max_pos || c->npos >= MAX_POS) {
                fprintf(stderr, "medaid: unexpected argument '%s'\n", a);
                command_usage(stderr, p->cmd);
                return EXIT_USAGE;
            }
            c->pos[c->npos++] = a;
        }
    }
    return EXIT_OK;
}

static int run_parsed(const struct parsed *p, struct ctx *c);

static int run(int argc, char **argv)
{
    struct parsed p = {0};
    struct ctx c = {0};

    int rc = parse_args(argc, argv, &p, &c);
    if (rc == EXIT_OK)
        rc = run_parsed(&p, &c);
    for (size_t i = 0; i < MAX_CMD_OPTS; i++)
        free(c.all[i]);
    return rc;
}

static int run_parsed(const struct parsed *p, struct ctx *c)
{
    int rc;

    if (p->gflag[G_HELP]) {
        if (p->cmd)
            help_command(p->cmd);
        else if (p->group)
            help_group(p->group);
        else
            help_all();
        return EXIT_OK;
    }
    if (p->gflag[G_VERSION]) {
        printf("medaid %s (%s)\n", MEDAID_VERSION, api_backend_version());
        return EXIT_OK;
    }
    if (!p->group)
        return usage_error("missing command");
    if (!p->cmd) {
        fprintf(stderr, "medaid: missing command after '%s'; ", p->group);
        list_group(stderr, p->group);
        return EXIT_USAGE;
    }
    if (c->npos < p->cmd->min_pos) {
        fprintf(stderr, "medaid: missing argument\n");
        command_usage(stderr, p->cmd);
        return EXIT_USAGE;
    }

    /* global options */
    c->format = OUT_JSON;
    if (p->gval[G_FORMAT] && !output_format_from_name(p->gval[G_FORMAT], &c->format))
        return usage_error("--format: expected json, table, ndjson or csv, not '%s'",
                           p->gval[G_FORMAT]);
    unsigned formats = p->cmd->formats ? p->cmd->formats : FMT_JSON_TABLE;
    if (!(formats & FMT(c->format))) {
        fprintf(stderr,
                "medaid: --format %s: not for '%s%s%s'; it takes:", output_format_name(c->format),
                p->cmd->group, p->cmd->name ? " " : "", p->cmd->name ? p->cmd->name : "");
        for (int f = OUT_JSON; f <= OUT_CSV; f++)
            if (formats & FMT(f))
                fprintf(stderr, " %s", output_format_name((enum output_format)f));
        fputs("\nTry 'medaid --help'.\n", stderr);
        return EXIT_USAGE;
    }
    const char *lang = p->gval[G_LANG];
    if (lang && strcmp(lang, "en") != 0 && strcmp(lang, "nl") != 0 && strcmp(lang, "fr") != 0)
        return usage_error("--lang: expected en, nl or fr, not '%s'", lang);
    long timeout = DEFAULT_TIMEOUT;
    if (p->gval[G_TIMEOUT] && !parse_long(p->gval[G_TIMEOUT], 1, TIMEOUT_MAX, &timeout))
        return usage_error("--timeout: expected whole seconds from 1 to %d, not '%s'", TIMEOUT_MAX,
                           p->gval[G_TIMEOUT]);
    if (p->gval[G_REQUEST_ID] && !header_safe(p->gval[G_REQUEST_ID], REQ_ID_MAX))
        return usage_error("--request-id: 1 to %d visible ASCII characters", REQ_ID_MAX);

    struct config_flags flags = {
        .url = p->gval[G_URL],
        .cert = p->gval[G_CERT],
        .key = p->gval[G_KEY],
        .ca = p->gval[G_CA],
        .config = p->gval[G_CONFIG],
    };
    struct config cfg;
    char err[512];
    if (!config_resolve(&flags, &cfg, err, sizeof err))
        return local_error("%s", err);

    c->api = (struct api_options){
        .url = cfg.url,
        .cert = cfg.cert,
        .key = cfg.key,
        .ca = cfg.ca,
        .lang = lang,
        .request_id = p->gval[G_REQUEST_ID],
        .timeout = timeout,
        .verbose = p->gflag[G_VERBOSE],
    };
    if (c->api.verbose && cfg.file)
        fprintf(stderr, "medaid: config file %s\n", cfg.file);

    if (!api_global_init()) {
        config_free(&cfg);
        return local_error("cannot initialise libcurl");
    }
    rc = p->cmd->run(c);
    api_global_cleanup();
    config_free(&cfg);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = run(argc, argv);
    if ((fflush(stdout) != 0 || ferror(stdout)) && !output_error_said) {
        fprintf(stderr, "medaid: cannot write the output: %s\n", strerror(errno));
        if (rc == EXIT_OK || rc == EXIT_NOT_COVERED)
            rc = EXIT_USAGE;
    }
    return rc;
}
