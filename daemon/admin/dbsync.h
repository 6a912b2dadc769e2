/*
 * dbsync: a blocking libpq connection for the host-side subcommands
 * (migrate, principal). Never used by the daemon's event loops.
 */
#ifndef MEDAID_DBSYNC_H
#define MEDAID_DBSYNC_H

#include <libpq-fe.h>

#include "base/config.h"

/* Connect as the schema owner (owner_database, or database when empty);
 * prints the reason and returns NULL on failure. */
PGconn *dbsync_connect(const struct config *cfg);

#endif
