/*
 * medaid: command-line client of medaidd.
 *
 * The command table and the dispatch. Every subcommand is one entry in
 * `commands[]` and one function in its cmd_<group>.c; global options may
 * come before or after the subcommand (args.c). stdout carries data only;
 * errors go to stderr; the exit codes are `enum exit_code` (api.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "args.h"
#include "cmd.h"
#include "config.h"
#include "output.h"

#ifndef MEDAID_VERSION
#define MEDAID_VERSION "0"
#endif

const struct command commands[] = {
    {"decision", "create", cmd_decision_create, "[FILE|-] [--idempotency-key KEY]",
     "record a decision from JSON (FILE or stdin)", decision_create_opts, 0, 1},
    {"decision", "update", cmd_decision_update,
     "ID FILE|- --if-match VERSION [--idempotency-key KEY]",
     "replace a decision with the JSON in FILE (or stdin): a new version", decision_update_opts, 2,
     2},
    {"decision", "suspend", cmd_decision_suspend, "ID [--if-match VERSION] [--idempotency-key KEY]",
     "suspend a decision: a new version", decision_status_opts, 1, 1},
    {"decision", "resume", cmd_decision_resume, "ID [--if-match VERSION] [--idempotency-key KEY]",
     "resume a suspended decision: a new version", decision_status_opts, 1, 1},
    {"decision", "stop", cmd_decision_stop,
     "ID --end YYYY-MM-DD [--if-match VERSION] [--idempotency-key KEY]",
     "stop a decision: --end is its last day; a new version", decision_stop_opts, 1, 1},
    {"decision", "show", cmd_decision_show, "ID [--version N]", "show a decision",
     decision_show_opts, 1, 1},
    {"decision", "history", cmd_decision_history, "ID",
     "list every version of a decision, with who recorded it and when", NULL, 1, 1, FMT_ALL},
    {"beneficiary", "decisions", cmd_beneficiary_decisions, "SSIN",
     "list a person's decisions (OCMW: a summary; auditor: in full)", NULL, 1, 1, FMT_ALL},
    {"coverage", NULL, cmd_coverage,
     "--ssin SSIN --date YYYY-MM-DD --care-type TYPE [--item CODE[:QTY[:SUPPL[:STYPE]]]]... "
     "| [FILE|-]",
     "ask whether a person is covered, and who pays what of each item (exit 5: not covered)",
     coverage_opts, 0, 1},
    {"coverage-batch", NULL, cmd_coverage_batch, "[FILE|-] [--progress] [--batch-size N]",
     "ask many coverage questions: NDJSON in (FILE or stdin), NDJSON answers out, in order",
     coverage_batch_opts, 0, 1, FMT(OUT_JSON) | FMT(OUT_NDJSON)},
    {"card", NULL, cmd_card, "SSIN (--date YYYY-MM-DD | --from YYYY-MM-DD --to YYYY-MM-DD)",
     "a person's card on a date or a period of at most 31 days: the covers this provider's "
     "kind may ask (provider)",
     card_opts, 1, 1},
    {"agreement", "show", cmd_agreement_show, "NUMBER",
     "show an agreement: the coverage answer exactly as it was given", NULL, 1, 1},
    {"agreement", "void", cmd_agreement_void, "NUMBER [--idempotency-key KEY]",
     "void an agreement (the provider that was given it)", agreement_void_opts, 1, 1},
    {"agreement", "verify", cmd_agreement_verify, "FILE|- --keys KEYS.json",
     "check a saved answer's signature offline, with the keys of GET /v1/keys (exit 5: not "
     "valid)",
     agreement_verify_opts, 1, 1},
    {"tariffs", "import", cmd_tariffs_import, "FILE|- [--format-in csv|json]",
     "import tariff lines from CSV or JSON (admin)", tariffs_import_opts, 1, 1},
    {"tariffs", "show", cmd_tariffs_show, "CODE [--date YYYY-MM-DD]",
     "show the tariff lines of a nomenclature code", tariffs_show_opts, 1, 1, FMT_ALL},
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
     "--ssin SSIN --date YYYY-MM-DD --care-type TYPE --known-at TS [--provider NIHII|KBO]",
     "what coverage would have answered with the data known at TS (exit 5: not covered)",
     audit_as_of_opts, 0, 0},
    {"audit", "verify", cmd_audit_verify, "[--anchor FILE]",
     "check the hash chains of the audit trail, and against a saved checkpoint (exit 5: broken)",
     audit_verify_opts, 0, 0},
    {"audit", "checkpoint", cmd_audit_checkpoint, "[--new]",
     "the latest signed checkpoint of the chain heads, or a new one; save it (auditor)",
     audit_checkpoint_opts, 0, 0},
    {"audit", "reads", cmd_audit_reads, "--ssin SSIN [--limit N]",
     "who read a person's data: read records and coverage questions (auditor)", audit_reads_opts, 0,
     0, FMT_ALL},
    {"audit", "tree-head", cmd_audit_tree_head, "[--new]",
     "the latest signed head of the trail's Merkle tree, or a new one; save it (auditor)",
     audit_tree_head_opts, 0, 0},
    {"audit", "prove", cmd_audit_prove, "AGREEMENT --head FILE [--public-key PEM]",
     "prove that the agreement's audit record is in a saved tree head (exit 5: it is not)",
     audit_prove_opts, 1, 1},
    {"audit", "consistent", cmd_audit_consistent, "OLD NEW [--public-key PEM]",
     "prove that the tree of a later saved head extends an earlier one (exit 5: it does not)",
     audit_consistent_opts, 2, 2},
    {"invoice", "submit", cmd_invoice_submit, "FILE|- [--idempotency-key KEY]",
     "submit an invoice from JSON (FILE or stdin): each line accepted or rejected (provider)",
     invoice_submit_opts, 1, 1},
    {"invoice", "show", cmd_invoice_show, "ID",
     "show an invoice as it was answered, with its payments", NULL, 1, 1},
    {"invoice", "list", cmd_invoice_list,
     "[--provider NIHII|KBO] [--ocmw KBO] [--month YYYY-MM] [--status STATUS] [--limit N] "
     "[--cursor CURSOR]",
     "list invoices, with their rejected lines (fund, auditor)", invoice_list_opts, 0, 0, FMT_ALL},
    {"payment", "add", cmd_payment_add,
     "INVOICE --amount-cents N --date YYYY-MM-DD --reference REF",
     "record a payment of an invoice (fund; never more than its accepted state share)",
     payment_add_opts, 1, 1},
    {"statement", NULL, cmd_statement, "--month YYYY-MM",
     "a month's statement: the fund's per provider and OCMW, or an OCMW's lines", statement_opts, 0,
     0, FMT_ALL},
    {"health", NULL, cmd_health, "", "check that the server and its database answer", NULL, 0, 0},
};
const size_t n_commands = sizeof commands / sizeof commands[0];

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
    if (p->gflag[G_COMPLETION_WORDS]) {
        completion_words();
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

    struct config cfg;
    rc = args_globals(p, c, &cfg);
    if (rc != EXIT_OK)
        return rc;
    if (!api_global_init()) {
        config_free(&cfg);
        return local_error("cannot initialise libcurl");
    }
    output_set_pretty(c->format == OUT_JSON && isatty(STDOUT_FILENO));
    rc = p->cmd->run(c);
    args_forget_secrets();
    api_global_cleanup();
    config_free(&cfg);
    return rc;
}

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

int main(int argc, char **argv)
{
    int rc = run(argc, argv);
    if ((fflush(stdout) != 0 || ferror(stdout)) && !output_error_reported()) {
        fprintf(stderr, "medaid: cannot write the output: %s\n", strerror(errno));
        if (rc == EXIT_OK || rc == EXIT_NOT_COVERED)
            rc = EXIT_USAGE;
    }
    return rc;
}
