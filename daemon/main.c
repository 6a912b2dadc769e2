/*
 * medaidd: the medaid registry daemon, and its host-side subcommands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/config.h"
#include "base/log.h"
#include "admin/migrate.h"
#include "admin/principals.h"
#include "api/common.h"
#include "api/routes.h"
#include "auth/auth.h"
#include "db/db.h"
#include "http/framing.h"
#include "net/conn.h"
#include "net/proxy.h"
#include "net/server.h"
#include "net/tls.h"
#include "net/worker.h"
#include "ops/ops.h"

#ifndef MEDAID_VERSION
#define MEDAID_VERSION "unknown"
#endif
#define DEFAULT_CONFIG "/etc/medaid/medaidd.conf"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: medaidd [-c FILE] [--KEY=VALUE ...]             run the daemon (foreground)\n"
            "       medaidd --check-config [-c FILE] [--KEY=VALUE ...]\n"
            "       medaidd migrate [-c FILE] [--KEY=VALUE ...]     apply schema migrations\n"
            "       medaidd principal add --cert PEM --role ROLE --org NUMBER [--name TEXT]\n"
            "       medaidd principal list | revoke (--cert PEM | --id N)\n"
            "       medaidd --list-options | --version | --help\n"
            "Any configuration option can be given as --KEY=VALUE; it overrides the file\n"
            "(default %s when it exists). See medaidd(8) and medaidd.conf(5).\n"
            "Exit status: 0 success, 1 usage or configuration error, 2 runtime failure.\n",
            DEFAULT_CONFIG);
}

/* each worker's database handle: its pool and group-commit queues */
static void *worker_db_attach(struct event_base *base, const struct config *cfg, const char *tag)
{
    return db_new(base, cfg, tag);
}

static void worker_db_detach(void *db)
{
    db_free(db);
}

/* The layers meet here: connections speak HTTP, requests are
 * authenticated by auth/ and routed to the api/ table, workers get a db. */
static void wire_layers(void)
{
    static const struct worker_hooks hooks = {worker_db_attach, worker_db_detach};
    static const struct server_hooks main_hooks = {ops_start, ops_stop};
    api_init_json_hooks(); /* cJSON allocates with xmalloc: no NULL to handle */
    server_set_worker_hooks(&hooks);
    server_set_hooks(&main_hooks);
    conn_set_protocol(http_protocol());
    auth_install();
    api_register_routes();
}

static bool is_option_flag(const char *arg, struct config *probe)
{
    /* "--key=value" where key is a configuration option */
    if (strncmp(arg, "--", 2) != 0 || !strchr(arg, '='))
        return false;
    const char *eq = strchr(arg, '=');
    char key[64], err[256];
    if ((size_t)(eq - arg - 2) >= sizeof key)
        return false;
    snprintf(key, sizeof key, "%.*s", (int)(eq - arg - 2), arg + 2);
    struct config tmp;
    (void)probe;
    config_init(&tmp);
    bool known = config_set(&tmp, key, eq + 1, err, sizeof err) || !strstr(err, "unknown option");
    config_free(&tmp);
    return known;
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    bool check = false;
    char **overrides = calloc((size_t)argc + 1, sizeof *overrides);
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int n_over = 0, n_rest = 0;
    struct config cfg;
    config_init(&cfg);
    if (!overrides || !rest)
        return 2;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
            if (i + 1 >= argc) {
                usage(stderr);
                return 1;
            }
            config_path = argv[++i];
        } else if (strncmp(a, "--config=", 9) == 0) {
            config_path = a + 9;
        } else if (strcmp(a, "--check-config") == 0) {
            check = true;
        } else if (strcmp(a, "--version") == 0) {
            printf("medaidd %s\n", MEDAID_VERSION);
            return 0;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--list-options") == 0) {
            config_list_options(stdout);
            return 0;
        } else if (is_option_flag(a, &cfg)) {
            overrides[n_over++] = argv[i];
        } else {
            rest[n_rest++] = argv[i];
        }
    }

    char err[512];
    if (!config_path && access(DEFAULT_CONFIG, F_OK) == 0)
        config_path = DEFAULT_CONFIG;
    if (config_path && !config_load_file(&cfg, config_path, err, sizeof err)) {
        fprintf(stderr, "medaidd: %s\n", err);
        return 1;
    }
    for (int i = 0; i < n_over; i++) {
        const char *kv = overrides[i] + 2;
        const char *eq = strchr(kv, '=');
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
        if (!config_set(&cfg, key, eq + 1, err, sizeof err)) {
            fprintf(stderr, "medaidd: --%s\n", err);
            return 1;
        }
    }

    int rc;
    if (n_rest > 0 && strcmp(rest[0], "migrate") == 0 && n_rest == 1 && !check) {
        if (!config_validate(&cfg, false, err, sizeof err)) {
            fprintf(stderr, "medaidd: %s\n", err);
            rc = 1;
        } else {
            rc = migrate_command(&cfg);
        }
    } else if (n_rest > 0 && strcmp(rest[0], "principal") == 0 && !check) {
        if (!config_validate(&cfg, false, err, sizeof err)) {
            fprintf(stderr, "medaidd: %s\n", err);
            rc = 1;
        } else {
            rc = principal_command(&cfg, n_rest - 1, rest + 1);
        }
    } else if (n_rest > 0) {
        fprintf(stderr, "medaidd: unexpected argument \"%s\"\n", rest[0]);
        usage(stderr);
        rc = 1;
    } else if (!config_validate(&cfg, true, err, sizeof err)) {
        fprintf(stderr, "medaidd: %s\n", err);
        rc = 1;
    } else if (check) {
        struct proxy_trust trust;
        rc = proxy_trust_parse(cfg.proxy_trusted, &trust, err, sizeof err) &&
                     tls_load(&cfg, err, sizeof err)
                 ? 0
                 : 1;
        if (rc == 0) {
            config_dump(&cfg, stdout);
            printf("configuration OK\n");
        } else {
            fprintf(stderr, "medaidd: %s\n", err);
        }
        tls_cleanup();
    } else {
        /* the business calendar: "today" is a date in this zone */
        setenv("TZ", cfg.timezone, 1);
        tzset();
        enum log_level lvl = LOG_INFO;
        log_level_from_name(cfg.log_level, &lvl);
        log_set_level(lvl);
        if (*cfg.log_hash_key)
            log_set_hash_key((const unsigned char *)cfg.log_hash_key, strlen(cfg.log_hash_key));
        if (!log_open(cfg.log_file)) {
            fprintf(stderr, "medaidd: log_file %s: cannot open\n", cfg.log_file);
            rc = 1;
        } else if (!tls_load(&cfg, err, sizeof err)) {
            fprintf(stderr, "medaidd: %s\n", err);
            rc = 1;
        } else {
            wire_layers();
            if (!cfg.agreement_signing_key[0])
                log_warn("agreement_signing_key is not set: coverage answers are not signed");
            rc = server_run(&cfg, config_path, overrides, n_over);
            tls_cleanup();
        }
    }
    config_free(&cfg);
    free(overrides);
    free(rest);
    return rc;
}
