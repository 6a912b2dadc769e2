/*
 * principals: the host-side `medaidd principal add|list|revoke` command.
 */
#ifndef MEDAID_ADMIN_PRINCIPALS_H
#define MEDAID_ADMIN_PRINCIPALS_H

#include "base/config.h"

/* The host-side subcommand: argv after "principal". Blocking (it runs
 * before and outside the daemon). Returns the process exit code. */
int principal_command(const struct config *cfg, int argc, char **argv);

#endif
