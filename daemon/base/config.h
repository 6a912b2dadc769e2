/*
 * config: the one option table of medaidd.
 *
 * Every option has a name, a type, a default, bounds and a description;
 * the config file (key = value), command-line flags (--key=value, which
 * override the file) and the documentation check all read the same table.
 */
#ifndef MEDAID_CONFIG_H
#define MEDAID_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct config {
    char *listen;
    int64_t workers;
    char *tls_cert;
    char *tls_key;
    char *tls_ca;
    char *tls_crl;
    char *database;
    char *owner_database;
    int64_t db_pool_size;
    int64_t db_queue_timeout_ms;
    int64_t db_statement_timeout_ms;
    int64_t db_connect_timeout_ms;
    int64_t db_retry_max_ms;
    int64_t max_body_bytes;
    int64_t max_bulk_body_bytes;
    int64_t max_header_bytes;
    int64_t max_connections;
    int64_t request_timeout_ms;
    int64_t idle_timeout_ms;
    int64_t shutdown_timeout_ms;
    int64_t principal_cache_ms;
    char *timezone;
    char *schema_dir;
    char *log_level;
    char *log_file;
    char *log_hash_key;
    char *pid_file;
    int64_t db_wait_timeout_ms;
    /* auth/ratelimit: per principal, per role; rate 0 = no limit */
    int64_t rate_limit_ocmw_per_s;
    int64_t rate_limit_ocmw_burst;
    int64_t rate_limit_provider_per_s;
    int64_t rate_limit_provider_burst;
    int64_t rate_limit_auditor_per_s;
    int64_t rate_limit_auditor_burst;
    int64_t rate_limit_admin_per_s;
    int64_t rate_limit_admin_burst;
    char *audit_signing_key;
    int64_t audit_checkpoint_interval_s;
    int64_t tls_handshake_timeout_ms;
    int64_t max_handshakes;
    int64_t max_handshakes_per_address;
    char *agreement_signing_key;
    char *agreement_public_keys;
    char *ops_listen;
    /* a listener behind a balancer: PROXY protocol v2 (net/proxy.h) */
    char *proxy_listen;
    char *proxy_trusted;
    char *read_database;
};

/* Fill with defaults. */
void config_init(struct config *c);
void config_free(struct config *c);

/* Read a config file. err (size n) gets "file:line: message" on failure. */
bool config_load_file(struct config *c, const char *path, char *err, size_t n);
/* Apply one "key=value" (from a --key=value flag). */
bool config_set(struct config *c, const char *key, const char *value, char *err, size_t n);
/* Cross-option checks (required TLS files, database, time zone, ...). */
bool config_validate(const struct config *c, bool need_tls, char *err, size_t n);

/* A deep copy (false: out of memory, dst left empty). */
bool config_copy(struct config *dst, const struct config *src);
/* Call changed() for every option whose value differs between old and
 * fresh, with whether SIGHUP applies it; returns how many differ. */
size_t config_changes(const struct config *old, const struct config *fresh,
                      void (*changed)(const char *name, bool reloadable, void *arg), void *arg);
/* Copy the reloadable options of src into dst (false: out of memory). */
bool config_apply_reloadable(struct config *dst, const struct config *src);
/* The option table marks name reloadable (SIGHUP applies it). */
bool config_reloadable(const char *name);

/* Print every option (name = value); sensitive ones masked. */
void config_dump(const struct config *c, FILE *out);
/* Print the option names, one per line (used by the docs check). */
void config_list_options(FILE *out);

#endif
