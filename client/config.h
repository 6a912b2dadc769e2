/*
 * config: where the client connects and with which certificate.
 *
 * Each setting comes from the first of: a command-line flag, the
 * environment (MEDAID_URL, MEDAID_CERT, MEDAID_KEY, MEDAID_CA), the config
 * file, the default. The config file is --config, else MEDAID_CONFIG, else
 * $XDG_CONFIG_HOME/medaid/medaid.conf (~/.config/medaid/medaid.conf) when it
 * exists. It holds `key = value` lines (keys url, cert, key, ca), blank
 * lines and `#` comment lines; relative paths in it are taken relative to
 * the file's own folder, and a leading `~/` means the home folder.
 */
#ifndef MEDAID_CLIENT_CONFIG_H
#define MEDAID_CLIENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_DEFAULT_URL "https://localhost:8443"

/* values given on the command line; NULL when absent */
struct config_flags {
    const char *url, *cert, *key, *ca;
    const char *config; /* --config FILE */
};

/* resolved settings, malloc'd; cert, key and ca may be NULL */
struct config {
    char *url, *cert, *key, *ca;
    char *file; /* the config file that was read, or NULL */
};

/* false with a message in err (no "medaid: " prefix) on a local error */
bool config_resolve(const struct config_flags *flags, struct config *out, char *err, size_t errlen);
void config_free(struct config *c);

#endif
