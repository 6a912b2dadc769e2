/*
 * config: flags > environment > profile > config file > default.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CONFIG_MAX_BYTES (64 * 1024)

#define K__COUNT    CK__COUNT
#define PROFILE_MAX 64

static const char *const key_names[K__COUNT] = {
    [CK_URL] = "url",
    [CK_CERT] = "cert",
    [CK_KEY] = "key",
    [CK_CA] = "ca",
    [CK_CERT_TYPE] = "cert_type",
    [CK_KEY_PASSWORD_FILE] = "key_password_file",
    [CK_FORMAT] = "format",
    [CK_LANG] = "lang",
    [CK_TIMEOUT] = "timeout",
    [CK_RETRY] = "retry",
};
static const char *const key_env[K__COUNT] = {
    [CK_URL] = "MEDAID_URL",
    [CK_CERT] = "MEDAID_CERT",
    [CK_KEY] = "MEDAID_KEY",
    [CK_CA] = "MEDAID_CA",
    [CK_CERT_TYPE] = "MEDAID_CERT_TYPE",
    [CK_KEY_PASSWORD_FILE] = "MEDAID_KEY_PASSWORD_FILE",
    [CK_FORMAT] = "MEDAID_FORMAT",
    [CK_LANG] = "MEDAID_LANG",
    [CK_TIMEOUT] = "MEDAID_TIMEOUT",
    [CK_RETRY] = "MEDAID_RETRY",
};

const char *config_key_name(enum config_key k)
{
    return key_names[k];
}

const char *config_key_env(enum config_key k)
{
    return key_env[k];
}

static bool is_path_key(int k)
{
    return k == CK_CERT || k == CK_KEY || k == CK_CA || k == CK_KEY_PASSWORD_FILE;
}

static bool fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

static char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *str_printf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return n < 0 ? NULL : s;
}

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* the default config file path, malloc'd, or NULL when there is no home */
static char *default_path(void)
{
    const char *xdg = env_nonempty("XDG_CONFIG_HOME");
    if (xdg && xdg[0] == '/')
        return str_printf("%s/medaid/medaid.conf", xdg);
    const char *home = env_nonempty("HOME");
    if (!home)
        return NULL;
    return str_printf("%s/.config/medaid/medaid.conf", home);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* A path value from the file: "~/x" -> $HOME/x, relative -> file's folder. */
static char *resolve_path(const char *file, const char *v)
{
    if (v[0] == '/')
        return strdup(v);
    if (v[0] == '~' && v[1] == '/') {
        const char *home = env_nonempty("HOME");
        if (home)
            return str_printf("%s/%s", home, v + 2);
        return strdup(v);
    }
    const char *slash = strrchr(file, '/');
    if (!slash)
        return strdup(v);
    return str_printf("%.*s/%s", (int)(slash - file), file, v);
}

/* vals: the top-level keys; pvals: those of [profile `profile`] (when not
 * NULL); *found: that section exists */
static bool read_file(const char *path, const char *profile, char *vals[K__COUNT],
                      char *pvals[K__COUNT], bool *found, char *err, size_t errlen)
{
    char **cur = vals; /* NULL: inside another profile's section (skipped) */
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(err, errlen, "cannot read config file %s: %s", path, strerror(errno));

    char line[4096];
    int lineno = 0;
    size_t total = 0;
    bool ok = true;
    while (ok && fgets(line, sizeof line, f)) {
        lineno++;
        size_t ll = strlen(line);
        total += ll;
        if (total > CONFIG_MAX_BYTES) {
            ok = fail(err, errlen, "%s: larger than %d KiB", path, CONFIG_MAX_BYTES / 1024);
            break;
        }
        if (ll == sizeof line - 1 && line[ll - 1] != '\n' && !feof(f)) {
            ok = fail(err, errlen, "%s:%d: line too long", path, lineno);
            break;
        }
        if (ll > 0 && line[ll - 1] == '\n')
            line[--ll] = '\0';
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        if (*s == '[') {
            size_t sl = strlen(s);
            const char *kw = "[profile ";
            if (sl < strlen(kw) + 2 || strncmp(s, kw, strlen(kw)) != 0 || s[sl - 1] != ']') {
                ok = fail(err, errlen, "%s:%d: expected '[profile NAME]'", path, lineno);
                break;
            }
            s[sl - 1] = '\0';
            char *name = trim(s + strlen(kw));
            if (!*name || strlen(name) > PROFILE_MAX || strpbrk(name, " \t[]")) {
                ok = fail(err, errlen, "%s:%d: a profile name is 1 to %d characters, no blanks",
                          path, lineno, PROFILE_MAX);
                break;
            }
            bool mine = profile && strcmp(name, profile) == 0;
            if (mine && *found) {
                ok = fail(err, errlen, "%s:%d: [profile %s] given twice", path, lineno, name);
                break;
            }
            *found = *found || mine;
            cur = mine ? pvals : NULL;
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            ok = fail(err, errlen, "%s:%d: expected 'key = value'", path, lineno);
            break;
        }
        *eq = '\0';
        char *k = trim(s), *v = trim(eq + 1);
        int idx = -1;
        for (int i = 0; i < K__COUNT; i++)
            if (strcmp(k, key_names[i]) == 0)
                idx = i;
        if (idx < 0) {
            ok = fail(err, errlen,
                      "%s:%d: unknown key '%s' (known: url, cert, key, ca, cert_type, "
                      "key_password_file, format, lang, timeout, retry)",
                      path, lineno, k);
            break;
        }
        if (*v == '\0') {
            ok = fail(err, errlen, "%s:%d: empty value for '%s'", path, lineno, k);
            break;
        }
        if (!cur)
            continue;
        if (cur[idx]) {
            ok = fail(err, errlen, "%s:%d: '%s' given twice", path, lineno, k);
            break;
        }
        cur[idx] = is_path_key(idx) ? resolve_path(path, v) : strdup(v);
        if (!cur[idx])
            ok = fail(err, errlen, "out of memory");
    }
    if (ok && ferror(f))
        ok = fail(err, errlen, "cannot read config file %s: %s", path, strerror(errno));
    fclose(f);
    return ok;
}

bool config_resolve(const struct config_flags *flags, struct config *out, char *err, size_t errlen)
{
    char *file_vals[K__COUNT] = {NULL};
    char *prof_vals[K__COUNT] = {NULL};
    const char *const *flag_vals = flags->v;
    char *path = NULL;
    bool ok = true, found = false;

    memset(out, 0, sizeof *out);
    const char *profile = flags->profile ? flags->profile : env_nonempty("MEDAID_PROFILE");

    const char *explicit_path = flags->config ? flags->config : env_nonempty("MEDAID_CONFIG");
    if (explicit_path) {
        path = strdup(explicit_path);
        if (!path)
            return fail(err, errlen, "out of memory");
    } else {
        path = default_path();
        struct stat st;
        if (path && stat(path, &st) != 0) {
            free(path);
            path = NULL;
        }
    }
    if (path) {
        ok = read_file(path, profile, file_vals, prof_vals, &found, err, errlen);
        if (ok && profile && !found)
            ok = fail(err, errlen, "no [profile %s] in %s", profile, path);
        if (ok)
            out->file = path;
        else
            free(path);
    } else if (profile) {
        ok = fail(err, errlen, "profile %s: no config file (--config, MEDAID_CONFIG, or %s)",
                  profile, "~/.config/medaid/medaid.conf");
    }

    char *resolved[K__COUNT] = {NULL};
    for (int i = 0; ok && i < K__COUNT; i++) {
        const char *v = flag_vals[i];
        if (!v)
            v = env_nonempty(key_env[i]);
        if (v) {
            if (!*v) {
                ok = fail(err, errlen, "empty value for --%s", key_names[i]);
                break;
            }
            resolved[i] = strdup(v);
            if (!resolved[i])
                ok = fail(err, errlen, "out of memory");
        } else if (prof_vals[i]) {
            resolved[i] = prof_vals[i];
            prof_vals[i] = NULL;
        } else if (file_vals[i]) {
            resolved[i] = file_vals[i];
            file_vals[i] = NULL;
        } else if (i == CK_URL) {
            resolved[i] = strdup(CONFIG_DEFAULT_URL);
            if (!resolved[i])
                ok = fail(err, errlen, "out of memory");
        }
    }
    for (int i = 0; i < K__COUNT; i++) {
        free(file_vals[i]);
        free(prof_vals[i]);
        out->v[i] = resolved[i];
    }
    if (!ok)
        config_free(out);
    return ok;
}

void config_free(struct config *c)
{
    for (int i = 0; i < K__COUNT; i++)
        free(c->v[i]);
    free(c->file);
    memset(c, 0, sizeof *c);
}
