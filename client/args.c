/*
 * args: the command line and the help (see args.h).
 */
#include "args.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "coverage.h" /* proto: the refusal codes, the care types */

#define TIMEOUT_MAX     86400
#define REQ_ID_MAX      128
#define DEFAULT_TIMEOUT 30

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

const struct opt_def gopts[G__COUNT] = {
    [G_URL] = {"url", 0, "URL", "server base URL (MEDAID_URL; default " CONFIG_DEFAULT_URL ")"},
    [G_CERT] = {"cert", 0, "FILE", "client certificate: PEM, or P12 (MEDAID_CERT)"},
    [G_KEY] = {"key", 0, "FILE", "client private key, PEM, may be encrypted (MEDAID_KEY)"},
    [G_CA] = {"ca", 0, "FILE", "CA that signed the server certificate (MEDAID_CA)"},
    [G_CONFIG] = {"config", 0, "FILE",
                  "config file (MEDAID_CONFIG; default ~/.config/medaid/medaid.conf)"},
    [G_FORMAT] = {"format", 0, "FMT", "json (default), table; lists: ndjson, csv (MEDAID_FORMAT)"},
    [G_LANG] = {"lang", 0, "LANG", "messages in en, nl, fr or de (MEDAID_LANG)"},
    [G_TIMEOUT] = {"timeout", 0, "SECONDS", "give up after SECONDS (30; streams: without data)"},
    [G_REQUEST_ID] = {"request-id", 0, "ID", "send ID as X-Request-Id"},
    [G_CERT_TYPE] = {"cert-type", 0, "TYPE", "PEM (default) or P12: cert and key in one file"},
    [G_KEY_PASSWORD_FILE] = {"key-password-file", 0, "FILE",
                             "the key's pass phrase: the first line of FILE"},
    [G_RETRY] = {"retry", 0, "N", "retry 503, 429, no connection N times (0-10)"},
    [G_PROFILE] = {"profile", 0, "NAME", "the config file's [profile NAME] section"},
    [G_VERBOSE] = {"verbose", 'v', NULL, "print the HTTP status and X-Request-Id on stderr"},
    [G_HELP] = {"help", 'h', NULL, "show this help (or a command's) and exit"},
    [G_VERSION] = {"version", 0, NULL, "show the version and exit"},
    [G_COMPLETION_WORDS] = {"completion-words", 0, NULL, "the words of shell completion, and exit"},
};

int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("medaid: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'medaid --help'.\n", stderr);
    return EXIT_USAGE;
}

int local_error(const char *fmt, ...)
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

void command_usage(FILE *out, const struct command *cmd)
{
    fprintf(out, "usage: medaid [OPTIONS] %s%s%s%s%s\n", cmd->group, cmd->name ? " " : "",
            cmd->name ? cmd->name : "", *cmd->args ? " " : "", cmd->args);
}

void help_command(const struct command *cmd)
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
        for (int t = 0; t < CT__COUNT; t++)
            printf(" %s", care_type_name((enum care_type)t));
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

void help_group(const char *group)
{
    for (size_t i = 0; i < n_commands; i++)
        if (strcmp(commands[i].group, group) == 0)
            command_usage(stdout, &commands[i]);
}

void help_all(void)
{
    printf("usage: medaid [OPTIONS] COMMAND [ARGS]\n\n"
           "Command-line client of medaidd, the registry of OCMW medical-aid decisions.\n\n"
           "Commands:\n");
    for (size_t i = 0; i < n_commands; i++) {
        char left[400];
        snprintf(left, sizeof left, "%s%s%s%s%s", commands[i].group, commands[i].name ? " " : "",
                 commands[i].name ? commands[i].name : "", *commands[i].args ? " " : "",
                 commands[i].args);
        printf("  %s\n      %s\n", left, commands[i].summary);
    }
    printf("\nOptions (before or after the command):\n");
    print_opts(stdout, gopts, G__COUNT);
    printf("\nEnvironment: MEDAID_URL, MEDAID_CERT, MEDAID_KEY, MEDAID_CA, MEDAID_CERT_TYPE,\n"
           "MEDAID_KEY_PASSWORD_FILE, MEDAID_KEY_PASSWORD, MEDAID_FORMAT, MEDAID_LANG,\n"
           "MEDAID_TIMEOUT, MEDAID_RETRY, MEDAID_CONFIG, MEDAID_PROFILE.\n"
           "Precedence: options, then environment, then the profile's section of the config\n"
           "file, then its top (keys url, cert, key, ca, cert_type, key_password_file,\n"
           "format, lang, timeout, retry as 'key = value' lines; '[profile NAME]' starts a\n"
           "section), then the defaults.\n"
           "\nOutput: json prints the server's answer as received (indented when stdout is\n"
           "a terminal); table prints aligned key/value lines; the lists also take ndjson\n"
           "and csv (see 'medaid audit consultations --help'). Errors are reported on\n"
           "stderr.\n"
           "\nExit codes:\n");
    for (size_t i = 0; i < sizeof exit_doc / sizeof exit_doc[0]; i++)
        printf("  %d  %s\n", (int)exit_doc[i].code, exit_doc[i].meaning);
}

bool parse_long(const char *s, long min, long max, long *out)
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

bool is_digits(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* visible ASCII only: safe to put in a header */
bool header_safe(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

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
    for (size_t i = 0; i < n_commands; i++)
        if (strcmp(commands[i].group, g) == 0) {
            found = true;
            *has_names = *has_names || commands[i].name != NULL;
        }
    return found;
}

static const struct command *find_command(const char *g, const char *name)
{
    for (size_t i = 0; i < n_commands; i++)
        if (strcmp(commands[i].group, g) == 0 &&
            (name ? commands[i].name && strcmp(commands[i].name, name) == 0 : !commands[i].name))
            return &commands[i];
    return NULL;
}

void list_group(FILE *out, const char *g)
{
    fprintf(out, "commands of '%s':", g);
    for (size_t i = 0; i < n_commands; i++)
        if (strcmp(commands[i].group, g) == 0 && commands[i].name)
            fprintf(out, " %s", commands[i].name);
    fputc('\n', out);
}

int parse_args(int argc, char **argv, struct parsed *p, struct ctx *c)
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
                for (size_t k = 0; !p->cmd && k < n_commands; k++) {
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

static char key_password[1024];

void args_forget_secrets(void)
{
    explicit_bzero(key_password, sizeof key_password);
}

/* the first line of path, without its end of line */
static int read_password_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return local_error("cannot read the key password file %s: %s", path, strerror(errno));
    bool ok = fgets(key_password, sizeof key_password, f) != NULL;
    bool err = ferror(f);
    fclose(f);
    if (err)
        return local_error("cannot read the key password file %s", path);
    size_t n = ok ? strlen(key_password) : 0;
    if (n == sizeof key_password - 1 && key_password[n - 1] != '\n')
        return local_error("the key password file %s: a line longer than %zu bytes", path,
                           sizeof key_password - 2);
    while (n > 0 && (key_password[n - 1] == '\n' || key_password[n - 1] == '\r'))
        key_password[--n] = '\0';
    return EXIT_OK;
}

#define RETRY_MAX 10

int args_globals(const struct parsed *p, struct ctx *c, struct config *cfg)
{
    struct config_flags flags = {
        .v =
            {
                [CK_URL] = p->gval[G_URL],
                [CK_CERT] = p->gval[G_CERT],
                [CK_KEY] = p->gval[G_KEY],
                [CK_CA] = p->gval[G_CA],
                [CK_CERT_TYPE] = p->gval[G_CERT_TYPE],
                [CK_KEY_PASSWORD_FILE] = p->gval[G_KEY_PASSWORD_FILE],
                [CK_FORMAT] = p->gval[G_FORMAT],
                [CK_LANG] = p->gval[G_LANG],
                [CK_TIMEOUT] = p->gval[G_TIMEOUT],
                [CK_RETRY] = p->gval[G_RETRY],
            },
        .config = p->gval[G_CONFIG],
        .profile = p->gval[G_PROFILE],
    };
    char err[512];
    if (!config_resolve(&flags, cfg, err, sizeof err))
        return local_error("%s", err);
    int rc = EXIT_USAGE;

    c->format = OUT_JSON;
    const char *fmt = cfg->v[CK_FORMAT];
    if (fmt && !output_format_from_name(fmt, &c->format)) {
        usage_error("--format: expected json, table, ndjson or csv, not '%s'", fmt);
        goto fail;
    }
    unsigned formats = p->cmd->formats ? p->cmd->formats : FMT_JSON_TABLE;
    if (!(formats & FMT(c->format)) && !p->gval[G_FORMAT]) {
        /* a default from the environment or the config file: where the command
         * does not take it, its own default */
        c->format = OUT_JSON;
    } else if (!(formats & FMT(c->format))) {
        fprintf(stderr,
                "medaid: --format %s: not for '%s%s%s'; it takes:", output_format_name(c->format),
                p->cmd->group, p->cmd->name ? " " : "", p->cmd->name ? p->cmd->name : "");
        for (int f = OUT_JSON; f <= OUT_CSV; f++)
            if (formats & FMT(f))
                fprintf(stderr, " %s", output_format_name((enum output_format)f));
        fputs("\nTry 'medaid --help'.\n", stderr);
        goto fail;
    }
    const char *lang = cfg->v[CK_LANG];
    if (lang && strcmp(lang, "en") != 0 && strcmp(lang, "nl") != 0 && strcmp(lang, "fr") != 0 &&
        strcmp(lang, "de") != 0) {
        usage_error("--lang: expected en, nl, fr or de, not '%s'", lang);
        goto fail;
    }
    long timeout = DEFAULT_TIMEOUT;
    if (cfg->v[CK_TIMEOUT] && !parse_long(cfg->v[CK_TIMEOUT], 1, TIMEOUT_MAX, &timeout)) {
        usage_error("--timeout: expected whole seconds from 1 to %d, not '%s'", TIMEOUT_MAX,
                    cfg->v[CK_TIMEOUT]);
        goto fail;
    }
    long retry = 0;
    if (cfg->v[CK_RETRY] && !parse_long(cfg->v[CK_RETRY], 0, RETRY_MAX, &retry)) {
        usage_error("--retry: expected a whole number from 0 to %d, not '%s'", RETRY_MAX,
                    cfg->v[CK_RETRY]);
        goto fail;
    }
    const char *cert_type = cfg->v[CK_CERT_TYPE];
    if (cert_type && strcmp(cert_type, "PEM") != 0 && strcmp(cert_type, "P12") != 0) {
        usage_error("--cert-type: expected PEM or P12, not '%s'", cert_type);
        goto fail;
    }
    if (p->gval[G_REQUEST_ID] && !header_safe(p->gval[G_REQUEST_ID], REQ_ID_MAX)) {
        usage_error("--request-id: 1 to %d visible ASCII characters", REQ_ID_MAX);
        goto fail;
    }
    /* the pass phrase: --key-password-file, else MEDAID_KEY_PASSWORD, else
     * MEDAID_KEY_PASSWORD_FILE or the config file's key_password_file */
    const char *pw_env = getenv("MEDAID_KEY_PASSWORD");
    bool have_pw = false;
    if (!p->gval[G_KEY_PASSWORD_FILE] && pw_env && *pw_env) {
        if (strlen(pw_env) >= sizeof key_password) {
            local_error("MEDAID_KEY_PASSWORD: longer than %zu bytes", sizeof key_password - 1);
            goto fail;
        }
        snprintf(key_password, sizeof key_password, "%s", pw_env);
        have_pw = true;
    } else if (cfg->v[CK_KEY_PASSWORD_FILE]) {
        if (read_password_file(cfg->v[CK_KEY_PASSWORD_FILE]) != EXIT_OK)
            goto fail;
        have_pw = true;
    }

    c->api = (struct api_options){
        .url = cfg->v[CK_URL],
        .cert = cfg->v[CK_CERT],
        .key = cfg->v[CK_KEY],
        .ca = cfg->v[CK_CA],
        .lang = lang,
        .request_id = p->gval[G_REQUEST_ID],
        .timeout = timeout,
        .verbose = p->gflag[G_VERBOSE],
        .cert_type = cert_type,
        .key_password = have_pw ? key_password : NULL,
        .retry = (int)retry,
    };
    if (c->api.verbose && cfg->file)
        fprintf(stderr, "medaid: config file %s\n", cfg->file);

    return EXIT_OK;
fail:
    config_free(cfg);
    return rc;
}

static void print_values(const char *opt, const char *const *values)
{
    for (size_t i = 0; values[i]; i++)
        printf("value --%s %s\n", opt, values[i]);
}

void completion_words(void)
{
    for (size_t i = 0; i < G__COUNT; i++)
        if (i != G_COMPLETION_WORDS)
            printf("option --%s\n", gopts[i].name);
    for (size_t i = 0; i < n_commands; i++) {
        const struct command *cmd = &commands[i];
        bool first = true;
        for (size_t k = 0; k < i; k++)
            first = first && strcmp(commands[k].group, cmd->group) != 0;
        if (first)
            printf("group %s\n", cmd->group);
        if (cmd->name)
            printf("command %s %s\n", cmd->group, cmd->name);
        for (size_t k = 0; cmd->opts && k < MAX_CMD_OPTS && cmd->opts[k].name; k++)
            printf("copt %s %s --%s\n", cmd->group, cmd->name ? cmd->name : "-", cmd->opts[k].name);
    }
    static const char *const formats[] = {"json", "table", "ndjson", "csv", NULL};
    static const char *const langs[] = {"en", "nl", "fr", "de", NULL};
    static const char *const types[] = {"PEM", "P12", NULL};
    print_values("format", formats);
    print_values("lang", langs);
    print_values("cert-type", types);
}
