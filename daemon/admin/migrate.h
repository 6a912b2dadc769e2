/*
 * migrate: `medaidd migrate` applies schema/NNN_name.sql files in order,
 * each once, each in its own transaction, under an advisory lock so two
 * concurrent runs cannot interleave. A migration already applied whose file
 * changed since is refused (checksums), never re-run.
 */
#ifndef MEDAID_MIGRATE_H
#define MEDAID_MIGRATE_H

#include "base/config.h"

/* Returns the process exit code. */
int migrate_command(const struct config *cfg);

#endif
