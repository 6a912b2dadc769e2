/*
 * dbsync: blocking connection for subcommands run from the host's shell.
 */
#include "admin/dbsync.h"

#include <stdio.h>

PGconn *dbsync_connect(const struct config *cfg)
{
    const char *keys[] = {"dbname", "application_name", "client_encoding", "options", NULL};
    const char *conninfo = *cfg->owner_database ? cfg->owner_database : cfg->database;
    const char *vals[] = {conninfo, "medaidd-admin", "UTF8", "-c TimeZone=UTC", NULL};
    PGconn *db = PQconnectdbParams(keys, vals, 1);
    if (!db || PQstatus(db) != CONNECTION_OK) {
        fprintf(stderr, "medaidd: cannot connect to the database: %s",
                db ? PQerrorMessage(db) : "out of memory\n");
        PQfinish(db);
        return NULL;
    }
    return db;
}
