/*
 * migrate: numbered SQL migrations.
 */
#include "admin/migrate.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pwd.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "base/hex.h"
#include "admin/dbsync.h"

#ifndef MEDAID_SCHEMA_DIR
#define MEDAID_SCHEMA_DIR "/usr/local/share/medaid/schema"
#endif

/* advisory lock key: "medaid migrate" */
#define MIGRATE_LOCK_KEY "727374101"

struct migration {
    int version;
    char name[256];
    char path[PATH_MAX];
};

static int cmp_migration(const void *a, const void *b)
{
    const struct migration *x = a, *y = b;
    return (x->version > y->version) - (x->version < y->version);
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static const char *schema_dir(const struct config *cfg)
{
    if (*cfg->schema_dir)
        return cfg->schema_dir;
    if (is_dir("schema"))
        return "schema";
    return MEDAID_SCHEMA_DIR;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            char *g = realloc(buf, cap);
            if (!g) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = g;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    bool err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static bool exec_ok(PGconn *db, const char *sql, const char *what)
{
    PGresult *res = PQexec(db, sql);
    ExecStatusType st = PQresultStatus(res);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "medaidd migrate: %s: %s", what, PQerrorMessage(db));
    PQclear(res);
    return ok;
}

static int list_migrations(const char *dir, struct migration **out, size_t *n_out)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "medaidd migrate: schema directory %s: %s\n", dir, strerror(errno));
        return -1;
    }
    struct migration *v = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *nm = e->d_name;
        size_t l = strlen(nm);
        if (l < 8 || strcmp(nm + l - 4, ".sql") != 0)
            continue;
        if (nm[0] < '0' || nm[0] > '9' || nm[1] < '0' || nm[1] > '9' || nm[2] < '0' ||
            nm[2] > '9' || nm[3] != '_' || l >= sizeof v->name) {
            fprintf(stderr, "medaidd migrate: ignoring %s (expected NNN_name.sql)\n", nm);
            continue;
        }
        struct migration *g = realloc(v, (n + 1) * sizeof *v);
        if (!g) {
            free(v);
            closedir(d);
            return -1;
        }
        v = g;
        v[n].version = (nm[0] - '0') * 100 + (nm[1] - '0') * 10 + (nm[2] - '0');
        snprintf(v[n].name, sizeof v[n].name, "%s", nm);
        snprintf(v[n].path, sizeof v[n].path, "%s/%s", dir, nm);
        n++;
    }
    closedir(d);
    qsort(v, n, sizeof *v, cmp_migration);
    for (size_t i = 1; i < n; i++) {
        if (v[i].version == v[i - 1].version) {
            fprintf(stderr, "medaidd migrate: two migrations numbered %03d\n", v[i].version);
            free(v);
            return -1;
        }
    }
    *out = v;
    *n_out = n;
    return 0;
}

/* 0 applied, 1 already there, -1 error */

/*
 * Texts of a migration published before its current one, whose databases are as
 * the current text leaves them once the later migrations have run: a database
 * that recorded one of these is not refused. 006 was published twice: once
 * without and once with `SET enable_seqscan = off` on audit_missing, which 013
 * sets either way.
 */
static const struct {
    int version;
    const char *checksum;
} earlier_texts[] = {
    {6, "5373b574a59747e4d6869122d7b0c538c83564f896461488c2e1fd76867e71e4"},
};

static bool published_before(int version, const char *checksum)
{
    for (size_t i = 0; i < sizeof earlier_texts / sizeof earlier_texts[0]; i++)
        if (earlier_texts[i].version == version && strcmp(earlier_texts[i].checksum, checksum) == 0)
            return true;
    return false;
}

static int apply_one(PGconn *db, const struct migration *m)
{
    size_t len;
    char *sql = read_file(m->path, &len);
    if (!sql) {
        fprintf(stderr, "medaidd migrate: cannot read %s\n", m->path);
        return -1;
    }
    char sum[65], ver[16];
    sha256_hex(sql, len, sum);
    snprintf(ver, sizeof ver, "%d", m->version);
    const char *p[] = {ver};
    PGresult *res = PQexecParams(db, "SELECT checksum FROM schema_migration WHERE version = $1", 1,
                                 NULL, p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "medaidd migrate: %s", PQerrorMessage(db));
        PQclear(res);
        free(sql);
        return -1;
    }
    if (PQntuples(res) == 1) {
        int rc = 1;
        if (strcmp(PQgetvalue(res, 0, 0), sum) != 0 &&
            !published_before(m->version, PQgetvalue(res, 0, 0))) {
            fprintf(stderr,
                    "medaidd migrate: %s was applied but the file changed since; applied "
                    "migrations are never edited: add a new one\n",
                    m->name);
            rc = -1;
        }
        PQclear(res);
        free(sql);
        return rc;
    }
    PQclear(res);
    if (!exec_ok(db, "BEGIN", "begin")) {
        free(sql);
        return -1;
    }
    bool ok = exec_ok(db, sql, m->name);
    free(sql);
    if (ok) {
        const char *q[] = {ver, m->name, sum};
        res = PQexecParams(db,
                           "INSERT INTO schema_migration (version, name, checksum)"
                           " VALUES ($1, $2, $3)",
                           3, NULL, q, NULL, NULL, 0);
        ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok)
            fprintf(stderr, "medaidd migrate: %s", PQerrorMessage(db));
        PQclear(res);
    }
    if (!ok) {
        exec_ok(db, "ROLLBACK", "rollback");
        return -1;
    }
    if (!exec_ok(db, "COMMIT", "commit"))
        return -1;
    printf("applied %s\n", m->name);
    return 0;
}

/*
 * The daemon's role may read everything and write only what the daemon
 * writes: no UPDATE or DELETE on versions, agreements or the audit trail,
 * and no way to call the audit functions. Applied after every migration
 * run (idempotent), when the daemon connects as another role than the
 * owner. Each statement is followed by the quoted role.
 */
static const char *const grants[] = {
    "GRANT USAGE ON SCHEMA public TO",
    "GRANT SELECT ON ALL TABLES IN SCHEMA public TO",
    "GRANT INSERT ON decision, decision_version, idempotency_key, agreement, agreement_void,"
    " tariff, tariff_import, cap_usage TO",
    /* Only the columns the daemon changes: a decision's number, OCMW,
     * beneficiary, kind and creation never change, nor a cap's key. The
     * table-wide UPDATE of earlier releases is taken back first (revoking
     * it also drops any column grant, so the pair is idempotent). */
    "REVOKE UPDATE ON decision, cap_usage FROM",
    "GRANT UPDATE (current_version, status, period) ON decision TO",
    "GRANT UPDATE (used_cents) ON cap_usage TO",
    /* tariff versions are kept (schema/009): the DELETE of earlier releases,
     * when an import replaced the table, is taken back */
    "REVOKE DELETE ON tariff FROM",
    "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO",
    "REVOKE UPDATE, DELETE, TRUNCATE ON audit_log, audit_head, decision_version, agreement,"
    " agreement_void, principal, schema_migration FROM",
    "REVOKE UPDATE, DELETE, TRUNCATE ON tariff, tariff_import FROM",
    /* the daemon cannot take audit sequence numbers (no gaps of its making) */
    "REVOKE ALL ON SEQUENCE audit_seq FROM",
    /* 006: reads are appended by the daemon itself (audit_append_reads
     * takes read.* records only); checkpoints are added, never changed */
    "GRANT EXECUTE ON FUNCTION audit_append_reads(bigint[], text[], text[], text[]) TO",
    "GRANT INSERT ON audit_checkpoint TO",
    "REVOKE UPDATE, DELETE, TRUNCATE ON audit_checkpoint FROM",
    /* 008: invoices, their lines and payments are only ever added */
    "GRANT INSERT ON invoice, invoice_line, payment TO",
    "REVOKE UPDATE, DELETE, TRUNCATE ON invoice, invoice_line, payment FROM",
    /* 007: card consultations are added, never changed */
    "GRANT INSERT ON card_consultation TO",
    "REVOKE UPDATE, DELETE, TRUNCATE ON card_consultation FROM",
    /* 011: the keys that signed agreements are added, never changed */
    "GRANT INSERT ON agreement_key TO",
    "REVOKE UPDATE, DELETE, TRUNCATE ON agreement_key FROM",
    /* 012: the Merkle tree's nodes come only from audit_tree_extend; tree
     * heads are added by the daemon, never changed */
    "REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_tree_leaf, audit_tree_node FROM",
    "GRANT INSERT ON audit_tree_head TO",
    "REVOKE UPDATE, DELETE, TRUNCATE ON audit_tree_head FROM",
    NULL,
};

/* The role the daemon connects as: the user of `database`, else the OS user
 * libpq would use. NULL when it cannot be told. */
static char *daemon_role(const struct config *cfg)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(cfg->database, &err);
    PQfreemem(err);
    char *role = NULL;
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, "user") == 0 && o->val && *o->val)
            role = strdup(o->val);
    PQconninfoFree(opts);
    if (!role) {
        const char *u = getenv("PGUSER");
        struct passwd *pw = u ? NULL : getpwuid(geteuid());
        role = u ? strdup(u) : pw ? strdup(pw->pw_name) : NULL;
    }
    return role;
}

static int apply_grants(PGconn *db, const struct config *cfg)
{
    char *role = daemon_role(cfg);
    PGresult *res = PQexec(db, "SELECT current_user");
    bool same =
        PQresultStatus(res) == PGRES_TUPLES_OK && role && strcmp(PQgetvalue(res, 0, 0), role) == 0;
    PQclear(res);
    if (!role || same) {
        fprintf(stderr,
                "medaidd migrate: warning: the daemon connects as the schema owner; give it a "
                "role of its own (database) and the owner's to owner_database, so that it "
                "cannot alter the audit trail\n");
        free(role);
        return 0;
    }
    char *quoted = PQescapeIdentifier(db, role, strlen(role));
    int rc = 0;
    for (int i = 0; quoted && grants[i]; i++) {
        char sql[512];
        snprintf(sql, sizeof sql, "%s %s", grants[i], quoted);
        if (!exec_ok(db, sql, "grants")) {
            rc = 2;
            break;
        }
    }
    if (rc == 0)
        printf("privileges of role %s set\n", role);
    PQfreemem(quoted);
    free(role);
    return quoted ? rc : 2;
}

int migrate_command(const struct config *cfg)
{
    const char *dir = schema_dir(cfg);
    struct migration *v = NULL;
    size_t n = 0;
    if (list_migrations(dir, &v, &n) != 0)
        return 1;
    if (n == 0) {
        fprintf(stderr, "medaidd migrate: no migrations in %s\n", dir);
        free(v);
        return 1;
    }
    PGconn *db = dbsync_connect(cfg);
    if (!db) {
        free(v);
        return 2;
    }
    int rc = 0;
    if (!exec_ok(db, "SET client_min_messages = warning", "settings") ||
        !exec_ok(db, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", "lock") ||
        !exec_ok(db,
                 "CREATE TABLE IF NOT EXISTS schema_migration ("
                 " version integer PRIMARY KEY, name text NOT NULL,"
                 " checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
                 "schema_migration")) {
        rc = 2;
        goto out;
    }
    int applied = 0;
    for (size_t i = 0; i < n; i++) {
        int r = apply_one(db, &v[i]);
        if (r < 0) {
            rc = 2;
            break;
        }
        if (r == 0)
            applied++;
    }
    if (rc == 0)
        printf("schema up to date (%d applied, %zu known)\n", applied, n);
    if (rc == 0)
        rc = apply_grants(db, cfg);
    exec_ok(db, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", "unlock");
out:
    PQfinish(db);
    free(v);
    return rc;
}
