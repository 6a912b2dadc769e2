/*
 * principals: the `medaidd principal` subcommand (add, list, revoke), run on
 * the host before and outside the daemon (blocking libpq).
 */
#include "admin/principals.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/dbsync.h"
#include "auth/principal.h"
#include "net/tls.h"

static int usage(void)
{
    fprintf(stderr,
            "usage: medaidd principal add --cert PEM --role ocmw|provider|auditor|admin|fund "
            "--org NUMBER [--kind KIND] [--name TEXT]\n"
            "       (--kind, for providers only and required for them: hospital, "
            "general_practitioner,\n"
            "        pharmacy, paramedical, medical_transport, prosthesis)\n"
            "       medaidd principal list\n"
            "       medaidd principal revoke (--cert PEM | --id N)\n");
    return 1;
}

static int cmd_add(PGconn *db, const char *cert, const char *rolestr, const char *org,
                   const char *kindstr, const char *name)
{
    enum role role;
    if (!cert || !rolestr || !org)
        return usage();
    if (!role_from_name(rolestr, &role)) {
        fprintf(stderr, "medaidd: unknown role \"%s\" (ocmw, provider, auditor, admin, fund)\n",
                rolestr);
        return 1;
    }
    if (!principal_org_valid(role, org)) {
        fprintf(stderr, "medaidd: \"%s\" is not a valid %s for role %s\n", org,
                role == ROLE_PROVIDER ? "NIHII (11 digits) or KBO number" : "KBO number", rolestr);
        return 1;
    }
    enum provider_kind kind = PK_NONE;
    if (role != ROLE_PROVIDER && kindstr) {
        fprintf(stderr, "medaidd: --kind is for providers only (role %s has none)\n", rolestr);
        return 1;
    }
    if (role == ROLE_PROVIDER) {
        if (!kindstr) {
            fprintf(stderr, "medaidd: a provider needs --kind (%s)\n", provider_kind_names());
            return 1;
        }
        if (!provider_kind_from_name(kindstr, &kind)) {
            fprintf(stderr, "medaidd: unknown kind \"%s\" (%s)\n", kindstr, provider_kind_names());
            return 1;
        }
        if (!provider_kind_org_valid(kind, org)) {
            fprintf(stderr, "medaidd: \"%s\" is not a valid number for kind %s: it must be %s\n",
                    org, kindstr, provider_kind_org_rule(kind));
            return 1;
        }
    }
    char fp[TLS_FINGERPRINT_LEN + 1], subject[256], err[256];
    if (!tls_file_fingerprint(cert, fp, subject, sizeof subject, err, sizeof err)) {
        fprintf(stderr, "medaidd: %s\n", err);
        return 1;
    }
    const char *p[] = {fp, subject, rolestr, org, name, kindstr};
    PGresult *res = PQexecParams(
        db,
        "INSERT INTO principal (cert_fingerprint, subject, role, organisation, name, kind)"
        " VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (cert_fingerprint) DO NOTHING RETURNING id",
        6, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "medaidd: %s", PQerrorMessage(db));
        PQclear(res);
        return 2;
    }
    if (PQntuples(res) == 1) {
        printf("principal %s added: %s%s%s %s (%s) fingerprint %s\n", PQgetvalue(res, 0, 0),
               rolestr, kindstr ? " " : "", kindstr ? kindstr : "", org, subject, fp);
        PQclear(res);
        return 0;
    }
    PQclear(res);
    /* already registered: fine when it is the same principal */
    const char *q[] = {fp};
    res = PQexecParams(db,
                       "SELECT id, role, organisation, revoked_at IS NOT NULL, coalesce(kind, '')"
                       " FROM principal"
                       " WHERE cert_fingerprint = $1",
                       1, NULL, q, NULL, NULL, 0);
    int rc = 2;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        bool same = strcmp(PQgetvalue(res, 0, 1), rolestr) == 0 &&
                    strcmp(PQgetvalue(res, 0, 2), org) == 0 &&
                    strcmp(PQgetvalue(res, 0, 4), kindstr ? kindstr : "") == 0;
        bool revoked = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
        if (same && !revoked) {
            printf("principal %s already registered: %s %s\n", PQgetvalue(res, 0, 0), rolestr, org);
            rc = 0;
        } else {
            fprintf(stderr,
                    "medaidd: this certificate is already principal %s (%s%s%s %s%s); a "
                    "certificate maps to one principal: issue a new certificate\n",
                    PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), *PQgetvalue(res, 0, 4) ? " " : "",
                    PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 2), revoked ? ", revoked" : "");
            rc = 1;
        }
    } else {
        fprintf(stderr, "medaidd: %s", PQerrorMessage(db));
    }
    PQclear(res);
    return rc;
}

static int cmd_list(PGconn *db)
{
    PGresult *res =
        PQexec(db, "SELECT id, role, organisation, coalesce(name, ''), subject,"
                   " to_char(created_at, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
                   " coalesce(to_char(revoked_at, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''),"
                   " cert_fingerprint, coalesce(kind, '-') FROM principal ORDER BY id");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "medaidd: %s", PQerrorMessage(db));
        PQclear(res);
        return 2;
    }
    printf("%-5s %-8s %-12s %-20s %-20s %-24s %s\n", "id", "role", "org", "kind", "created",
           "revoked", "name / subject / fingerprint");
    for (int i = 0; i < PQntuples(res); i++)
        printf("%-5s %-8s %-12s %-20s %-20s %-24s %s / %s / %s\n", PQgetvalue(res, i, 0),
               PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), PQgetvalue(res, i, 8),
               PQgetvalue(res, i, 5), *PQgetvalue(res, i, 6) ? PQgetvalue(res, i, 6) : "-",
               PQgetvalue(res, i, 3), PQgetvalue(res, i, 4), PQgetvalue(res, i, 7));
    PQclear(res);
    return 0;
}

static int cmd_revoke(PGconn *db, const char *cert, const char *id)
{
    char fp[TLS_FINGERPRINT_LEN + 1], subject[256], err[256];
    if (!!cert == !!id)
        return usage();
    if (cert && !tls_file_fingerprint(cert, fp, subject, sizeof subject, err, sizeof err)) {
        fprintf(stderr, "medaidd: %s\n", err);
        return 1;
    }
    const char *p[] = {cert ? fp : NULL, id};
    PGresult *res = PQexecParams(db,
                                 "UPDATE principal SET revoked_at = now()"
                                 " WHERE (cert_fingerprint = $1 OR id = $2::bigint)"
                                 "   AND revoked_at IS NULL RETURNING id, role, organisation",
                                 2, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "medaidd: %s", PQerrorMessage(db));
        PQclear(res);
        return 2;
    }
    int rc = 0;
    if (PQntuples(res) == 0) {
        fprintf(stderr, "medaidd: no such active principal\n");
        rc = 1;
    } else {
        printf("principal %s revoked: %s %s\n", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
               PQgetvalue(res, 0, 2));
    }
    PQclear(res);
    return rc;
}

int principal_command(const struct config *cfg, int argc, char **argv)
{
    if (argc < 1)
        return usage();
    const char *sub = argv[0];
    const char *cert = NULL, *role = NULL, *org = NULL, *name = NULL, *id = NULL, *kind = NULL;
    static const struct option longopts[] = {{"cert", required_argument, NULL, 'c'},
                                             {"role", required_argument, NULL, 'r'},
                                             {"org", required_argument, NULL, 'o'},
                                             {"name", required_argument, NULL, 'n'},
                                             {"id", required_argument, NULL, 'i'},
                                             {"kind", required_argument, NULL, 'k'},
                                             {NULL, 0, NULL, 0}};
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            cert = optarg;
            break;
        case 'r':
            role = optarg;
            break;
        case 'o':
            org = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 'i':
            id = optarg;
            break;
        case 'k':
            kind = optarg;
            break;
        default:
            return usage();
        }
    }
    if (optind != argc)
        return usage();
    if (strcmp(sub, "add") != 0 && strcmp(sub, "list") != 0 && strcmp(sub, "revoke") != 0)
        return usage();
    PGconn *db = dbsync_connect(cfg);
    if (!db)
        return 2;
    int rc;
    if (strcmp(sub, "add") == 0)
        rc = cmd_add(db, cert, role, org, kind, name);
    else if (strcmp(sub, "list") == 0)
        rc = cmd_list(db);
    else
        rc = cmd_revoke(db, cert, id);
    PQfinish(db);
    return rc;
}
