/*
 * args: the command line: global options, command words and command
 * options (before or after the command), the help texts, and the small
 * checks of option values shared by the commands.
 */
#ifndef MEDAID_CLIENT_ARGS_H
#define MEDAID_CLIENT_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cmd.h"

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
    G_CERT_TYPE,
    G_KEY_PASSWORD_FILE,
    G_RETRY,
    G_PROFILE,
    G_VERBOSE,
    G_HELP,
    G_VERSION,
    G_COMPLETION_WORDS,
    G__COUNT
};

extern const struct opt_def gopts[G__COUNT];

/* What the command line asked for; command options and words go to ctx. */
struct parsed {
    const char *gval[G__COUNT];
    bool gflag[G__COUNT];
    const char *group;
    const struct command *cmd;
};

/* Parse argv into p and c (c->opt, c->all, c->pos); a usage error is printed
 * and its exit code returned. c->all[i] are allocated: free them. */
int parse_args(int argc, char **argv, struct parsed *p, struct ctx *c);

/* Check the global options of p for its command (--format, --lang,
 * --timeout, --request-id), resolve the configuration into *cfg
 * (config_free it on success) and set c->format and c->api. A usage error
 * is printed and its exit code returned. */
struct config;
int args_globals(const struct parsed *p, struct ctx *c, struct config *cfg);

/* Forget the key's pass phrase (overwrite it), once no exchange is left. */
void args_forget_secrets(void);

/* `medaid --completion-words`: the words a shell completes, one per line:
 * "group NAME", "command GROUP NAME", "option --NAME" (global), "copt GROUP
 * NAME --OPT" (a command's), "value --OPT V" (the values of an option) */
void completion_words(void);

/* help: every command, the commands of a group, one command */
void help_all(void);
void help_group(const char *group);
void help_command(const struct command *cmd);
void command_usage(FILE *out, const struct command *cmd);
/* "commands of 'g': a b c" */
void list_group(FILE *out, const char *g);

/* "medaid: <message>" and the hint to --help on stderr; returns EXIT_USAGE */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "medaid: <message>" on stderr; returns EXIT_USAGE */
int local_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* a whole decimal number from min to max, nothing else */
bool parse_long(const char *s, long min, long max, long *out);
/* exactly n ASCII digits */
bool is_digits(const char *s, size_t n);
/* 1 to max visible ASCII characters: safe to put in a header */
bool header_safe(const char *s, size_t max);

#endif
