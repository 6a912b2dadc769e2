/*
 * config: where the client connects, with which certificate, and its
 * defaults (format, language, timeout, retries).
 *
 * Each setting comes from the first of: a command-line flag, the
 * environment (MEDAID_URL, MEDAID_CERT, ...: see config.c), the selected
 * profile of the config file, the top of the config file, the built-in
 * default. The config file is --config, else MEDAID_CONFIG, else
 * $XDG_CONFIG_HOME/medaid/medaid.conf (~/.config/medaid/medaid.conf) when it
 * exists. It holds `key = value` lines, `[profile NAME]` lines that start a
 * profile's section (its keys until the next section), blank lines and `#`
 * comment lines; relative paths in it are taken relative to the file's own
 * folder, and a leading `~/` means the home folder. The profile is
 * --profile, else MEDAID_PROFILE; none by default.
 */
#ifndef MEDAID_CLIENT_CONFIG_H
#define MEDAID_CLIENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_DEFAULT_URL "https://localhost:8443"

enum config_key {
    CK_URL,
    CK_CERT,
    CK_KEY,
    CK_CA,
    CK_CERT_TYPE,
    CK_KEY_PASSWORD_FILE,
    CK_FORMAT,
    CK_LANG,
    CK_TIMEOUT,
    CK_RETRY,
    CK__COUNT
};

/* values given on the command line (by enum config_key); NULL when absent */
struct config_flags {
    const char *v[CK__COUNT];
    const char *config;  /* --config FILE */
    const char *profile; /* --profile NAME */
};

/* resolved settings, malloc'd; NULL when not set anywhere (url has a default) */
struct config {
    char *v[CK__COUNT];
    char *file; /* the config file that was read, or NULL */
};

/* the file key ("key_password_file") and the environment variable of a key */
const char *config_key_name(enum config_key k);
const char *config_key_env(enum config_key k);

/* false with a message in err (no "medaid: " prefix) on a local error */
bool config_resolve(const struct config_flags *flags, struct config *out, char *err, size_t errlen);
void config_free(struct config *c);

#endif
