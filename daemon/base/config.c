/*
 * config: option table, config file parser and flag overrides.
 */
#include "base/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

enum opt_type { OPT_STR, OPT_INT };

struct option_def {
    const char *name;
    enum opt_type type;
    size_t offset;
    const char *def; /* default, as text */
    int64_t min, max;
    bool sensitive; /* masked in config_dump */
    const char *help;
    bool reloadable; /* SIGHUP applies a new value (STR_R, INT_R); else a restart does */
};

#define STR(n, d, h)                                                                               \
    {                                                                                              \
#n, OPT_STR, offsetof(struct config, n), d, 0, 0, false, h                                 \
    }
#define SECRET(n, d, h)                                                                            \
    {                                                                                              \
#n, OPT_STR, offsetof(struct config, n), d, 0, 0, true, h                                  \
    }
#define INT(n, d, lo, hi, h)                                                                       \
    {                                                                                              \
#n, OPT_INT, offsetof(struct config, n), #d, lo, hi, false, h                              \
    }

/* reloadable: the value is read where it is used (each connection, request
 * or timer), so a worker can take a new one between two loop turns */
#define STR_R(n, d, h)                                                                             \
    {                                                                                              \
#n, OPT_STR, offsetof(struct config, n), d, 0, 0, false, h, true                           \
    }
#define INT_R(n, d, lo, hi, h)                                                                     \
    {                                                                                              \
#n, OPT_INT, offsetof(struct config, n), #d, lo, hi, false, h, true                        \
    }

static const struct option_def options[] = {
    STR(listen, "127.0.0.1:8443", "address:port to listen on ([::1]:8443 for IPv6)"),
    INT(workers, 0, 0, 256, "worker threads, each with its own event loop; 0 = number of cores"),
    STR_R(tls_cert, "", "server certificate chain (PEM)"),
    STR_R(tls_key, "", "server private key (PEM)"),
    STR_R(tls_ca, "", "CA certificates that sign client certificates (PEM)"),
    STR_R(tls_crl, "", "optional CRL file (PEM) checked for client certificates"),
    SECRET(database, "", "libpq connection string of the daemon (its own, unprivileged role)"),
    SECRET(owner_database, "",
           "libpq connection string of the schema owner, for migrate and principal; "
           "empty = database"),
    INT(db_pool_size, 4, 1, 256, "PostgreSQL connections per worker"),
    INT(db_queue_timeout_ms, 1000, 10, 60000, "longest wait for a free connection before 503"),
    INT(db_statement_timeout_ms, 5000, 100, 600000, "statement_timeout of every connection"),
    INT(db_connect_timeout_ms, 2000, 100, 60000, "longest connection attempt"),
    INT(db_retry_max_ms, 2000, 10, 60000, "longest delay between reconnection attempts"),
    INT(max_body_bytes, 1048576, 1024, 67108864, "largest request body (413 above)"),
    INT(max_bulk_body_bytes, 16777216, 1024, 268435456,
        "largest body of a tariff import or a coverage batch"),
    INT(max_header_bytes, 16384, 1024, 1048576, "largest request line + headers (431 above)"),
    INT_R(max_connections, 1024, 1, 1000000, "open client connections per worker"),
    INT_R(request_timeout_ms, 10000, 100, 600000,
          "time to send a request (first one: from the handshake) or to flush an answer"),
    INT_R(idle_timeout_ms, 60000, 100, 3600000,
          "keep-alive idle time before a connection is closed"),
    INT_R(shutdown_timeout_ms, 10000, 0, 600000, "longest drain of in-flight requests on SIGTERM"),
    INT_R(principal_cache_ms, 5000, 0, 3600000,
          "how long a connection trusts its principal lookup"),
    STR(timezone, "Europe/Brussels", "time zone of the business calendar (what \"today\" is)"),
    STR(schema_dir, "",
        "directory of the numbered SQL migrations (default: ./schema, then the installed one)"),
    STR_R(log_level, "info", "error, warn, info or debug"),
    STR(log_file, "", "log file (appended; reopened on SIGUSR1); empty = stderr"),
    SECRET(log_hash_key, "", "key (any text) for the SSIN hash in logs; empty = random per start"),
    STR(pid_file, "", "file to write the process id to"),
    INT(db_wait_timeout_ms, 2000, 100, 600000,
        "longest wait of one database statement (queue, send, result) before 503"),
    INT_R(rate_limit_ocmw_per_s, 200, 0, 1000000,
          "requests per second an OCMW principal may sustain (per process); 0 = no limit"),
    INT_R(rate_limit_ocmw_burst, 2000, 1, 10000000, "requests an OCMW principal may send at once"),
    INT_R(rate_limit_provider_per_s, 1000, 0, 1000000,
          "requests per second a provider principal may sustain (per process); 0 = no limit"),
    INT_R(rate_limit_provider_burst, 5000, 1, 10000000,
          "requests a provider principal may send at once"),
    INT_R(rate_limit_auditor_per_s, 1000, 0, 1000000,
          "requests per second an auditor principal may sustain (per process); 0 = no limit"),
    INT_R(rate_limit_auditor_burst, 5000, 1, 10000000,
          "requests an auditor principal may send at once"),
    INT_R(rate_limit_admin_per_s, 100, 0, 1000000,
          "requests per second an admin principal may sustain (per process); 0 = no limit"),
    INT_R(rate_limit_admin_burst, 1000, 1, 10000000,
          "requests an admin principal may send at once"),
    STR(audit_signing_key, "",
        "Ed25519 private key (PEM) that signs the audit checkpoints; empty = no checkpoints"),
    INT(audit_checkpoint_interval_s, 3600, 0, 604800,
        "seconds between signed checkpoints of the audit chain heads; 0 = on demand only"),
    INT_R(tls_handshake_timeout_ms, 3000, 100, 600000,
          "time a new connection has to complete the TLS handshake"),
    INT_R(max_handshakes, 128, 1, 1000000,
          "connections per worker still in the TLS handshake; a new one closes the oldest"),
    INT_R(max_handshakes_per_address, 64, 1, 1000000,
          "connections per worker in the TLS handshake from one peer address; a new one from "
          "that address closes its oldest"),
    STR(agreement_signing_key, "",
        "Ed25519 private key (PEM) that signs every coverage answer (agreement); empty = answers "
        "are not signed"),
    STR(agreement_public_keys, "",
        "directory of Ed25519 public keys (PEM, *.pem) that signed earlier agreements, listed by "
        "GET /v1/keys besides the ones the database recorded; empty = none"),
    STR(ops_listen, "127.0.0.1:9464",
        "address:port of the plain-HTTP operator listener (/metrics, /healthz, /readyz); "
        "empty = off"),
    STR(proxy_listen, "",
        "address:port of a second TLS listener for a balancer: every connection starts with a "
        "PROXY protocol v2 header whose client address the daemon then uses; empty = off"),
    STR(proxy_trusted, "",
        "addresses or prefixes (comma-separated: 127.0.0.1, 10.0.0.0/8, ::1) allowed to connect "
        "to proxy_listen; any other peer is closed"),
    SECRET(read_database, "",
           "libpq connection string of a hot standby for auditors' reads (audit lists, "
           "coverage-as-of, verify, histories, statements); empty = every read on database"),
};
#define N_OPTIONS (sizeof options / sizeof options[0])

static const struct option_def *find_option(const char *name)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (strcmp(options[i].name, name) == 0)
            return &options[i];
    return NULL;
}

static bool assign(struct config *c, const struct option_def *o, const char *value, char *err,
                   size_t n)
{
    void *field = (char *)c + o->offset;
    if (o->type == OPT_STR) {
        char *dup = strdup(value);
        if (!dup) {
            snprintf(err, n, "out of memory");
            return false;
        }
        char **slot = field;
        free(*slot);
        *slot = dup;
        return true;
    }
    char *end;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (errno || end == value || *end != '\0') {
        snprintf(err, n, "%s: \"%s\" is not an integer", o->name, value);
        return false;
    }
    if (v < o->min || v > o->max) {
        snprintf(err, n, "%s: %lld is outside %lld..%lld", o->name, v, (long long)o->min,
                 (long long)o->max);
        return false;
    }
    *(int64_t *)field = v;
    return true;
}

void config_init(struct config *c)
{
    char err[128];
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (!assign(c, &options[i], options[i].def, err, sizeof err))
            abort(); /* a bad default is a programming error */
}

void config_free(struct config *c)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        if (options[i].type == OPT_STR) {
            char **slot = (char **)((char *)c + options[i].offset);
            free(*slot);
            *slot = NULL;
        }
    }
}

bool config_set(struct config *c, const char *key, const char *value, char *err, size_t n)
{
    const struct option_def *o = find_option(key);
    if (!o) {
        snprintf(err, n, "unknown option \"%s\"", key);
        return false;
    }
    return assign(c, o, value, err, n);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

bool config_load_file(struct config *c, const char *path, char *err, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, n, "%s: %s", path, strerror(errno));
        return false;
    }
    char line[4096];
    int lineno = 0;
    bool ok = true;
    while (ok && fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, n, "%s:%d: line too long", path, lineno);
            ok = false;
            break;
        }
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, n, "%s:%d: expected key = value", path, lineno);
            ok = false;
            break;
        }
        *eq = '\0';
        char *key = trim(s);
        char *value = trim(eq + 1);
        size_t vl = strlen(value);
        if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
            value[vl - 1] = '\0';
            value++;
        } else if (vl > 0 && value[0] == '"') {
            snprintf(err, n, "%s:%d: unterminated quoted value", path, lineno);
            ok = false;
            break;
        }
        char e2[256];
        if (!config_set(c, key, value, e2, sizeof e2)) {
            snprintf(err, n, "%s:%d: %s", path, lineno, e2);
            ok = false;
        }
    }
    fclose(f);
    return ok;
}

static bool readable(const char *what, const char *path, char *err, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, n, "%s: %s: %s", what, path, strerror(errno));
        return false;
    }
    fclose(f);
    return true;
}

bool config_validate(const struct config *c, bool need_tls, char *err, size_t n)
{
    enum log_level lvl;
    if (!log_level_from_name(c->log_level, &lvl)) {
        snprintf(err, n, "log_level: \"%s\" is not error, warn, info or debug", c->log_level);
        return false;
    }
    if (!*c->database) {
        snprintf(err, n, "database: a libpq connection string is required");
        return false;
    }
    if (!strchr(c->listen, ':')) {
        snprintf(err, n, "listen: \"%s\" is not address:port", c->listen);
        return false;
    }
    if (need_tls) {
        if (!*c->tls_cert || !*c->tls_key || !*c->tls_ca) {
            snprintf(err, n, "tls_cert, tls_key and tls_ca are required (mutual TLS)");
            return false;
        }
        if (!readable("tls_cert", c->tls_cert, err, n) ||
            !readable("tls_key", c->tls_key, err, n) || !readable("tls_ca", c->tls_ca, err, n))
            return false;
        if (*c->tls_crl && !readable("tls_crl", c->tls_crl, err, n))
            return false;
    }
    if (*c->ops_listen && !strchr(c->ops_listen, ':')) {
        snprintf(err, n, "ops_listen: \"%s\" is not address:port", c->ops_listen);
        return false;
    }
    if (*c->proxy_listen && !strchr(c->proxy_listen, ':')) {
        snprintf(err, n, "proxy_listen: \"%s\" is not address:port", c->proxy_listen);
        return false;
    }
    if (*c->proxy_listen && !*c->proxy_trusted) {
        snprintf(err, n, "proxy_listen needs proxy_trusted (the balancers' addresses)");
        return false;
    }
    char tzpath[PATH_MAX];
    if (!*c->timezone || strstr(c->timezone, "..") || c->timezone[0] == '/') {
        snprintf(err, n, "timezone: \"%s\" is not a zone name", c->timezone);
        return false;
    }
    snprintf(tzpath, sizeof tzpath, "/usr/share/zoneinfo/%s", c->timezone);
    if (strcmp(c->timezone, "UTC") != 0 && !readable("timezone", tzpath, err, n))
        return false;
    return true;
}

bool config_copy(struct config *dst, const struct config *src)
{
    memset(dst, 0, sizeof *dst);
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const struct option_def *o = &options[i];
        const void *from = (const char *)src + o->offset;
        void *to = (char *)dst + o->offset;
        if (o->type == OPT_INT) {
            *(int64_t *)to = *(const int64_t *)from;
        } else if (!(*(char **)to = strdup(*(char *const *)from))) {
            config_free(dst);
            return false;
        }
    }
    return true;
}

static bool same_value(const struct option_def *o, const struct config *a, const struct config *b)
{
    const void *x = (const char *)a + o->offset, *y = (const char *)b + o->offset;
    if (o->type == OPT_INT)
        return *(const int64_t *)x == *(const int64_t *)y;
    return strcmp(*(char *const *)x, *(char *const *)y) == 0;
}

size_t config_changes(const struct config *old, const struct config *fresh,
                      void (*changed)(const char *name, bool reloadable, void *arg), void *arg)
{
    size_t n = 0;
    for (size_t i = 0; i < N_OPTIONS; i++) {
        if (same_value(&options[i], old, fresh))
            continue;
        n++;
        if (changed)
            changed(options[i].name, options[i].reloadable, arg);
    }
    return n;
}

bool config_apply_reloadable(struct config *dst, const struct config *src)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const struct option_def *o = &options[i];
        if (!o->reloadable || same_value(o, dst, src))
            continue;
        const void *from = (const char *)src + o->offset;
        void *to = (char *)dst + o->offset;
        if (o->type == OPT_INT) {
            *(int64_t *)to = *(const int64_t *)from;
            continue;
        }
        char *dup = strdup(*(char *const *)from);
        if (!dup)
            return false;
        free(*(char **)to);
        *(char **)to = dup;
    }
    return true;
}

bool config_reloadable(const char *name)
{
    const struct option_def *o = find_option(name);
    return o && o->reloadable;
}

void config_dump(const struct config *c, FILE *out)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const struct option_def *o = &options[i];
        const void *field = (const char *)c + o->offset;
        if (o->type == OPT_INT)
            fprintf(out, "%s = %lld\n", o->name, (long long)*(const int64_t *)field);
        else if (o->sensitive && **(char *const *)field)
            fprintf(out, "%s = (set, not shown)\n", o->name);
        else
            fprintf(out, "%s = \"%s\"\n", o->name, *(char *const *)field);
    }
}

void config_list_options(FILE *out)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        fprintf(out, "%s\t%s\n", options[i].name, options[i].help);
}
