/*
 * input: reading request bodies and NDJSON (see input.h).
 */
#include "input.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "api.h"
#include "args.h"

/* "standard input" or the path, for messages */
const char *input_name(const char *path)
{
    return !path || strcmp(path, "-") == 0 ? "standard input" : path;
}

/*
 * Open path for reading ("-" or NULL: standard input). Without a path,
 * standard input must not be a terminal: medaid never waits for typing.
 */
int open_input(const char *path, FILE **f)
{
    if (!path || strcmp(path, "-") == 0) {
        if (!path && isatty(STDIN_FILENO))
            return usage_error("expected input on standard input, which is a terminal; "
                               "give a FILE or pipe the input in");
        *f = stdin;
        return EXIT_OK;
    }
    *f = fopen(path, "rb");
    if (!*f)
        return local_error("cannot open %s: %s", path, strerror(errno));
    return EXIT_OK;
}

/*
 * Read all of path ("-" or NULL: standard input) with a size cap. On success
 * *buf holds the bytes exactly as read, NUL-terminated (not counted in *len).
 */
int read_input(const char *path, char **buf, size_t *len)
{
    const char *name = input_name(path);
    FILE *f;

    *buf = NULL;
    *len = 0;
    int rc = open_input(path, &f);
    if (rc != EXIT_OK)
        return rc;

    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    while (b) {
        if (n == cap - 1) {
            if (cap - 1 > INPUT_MAX) {
                rc = local_error("%s: larger than %u MiB", name, INPUT_MAX >> 20);
                break;
            }
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
        size_t got = fread(b + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                rc = local_error("cannot read %s: %s", name, strerror(errno));
            break;
        }
    }
    if (!b && rc == EXIT_OK)
        rc = local_error("out of memory reading %s", name);
    if (f != stdin)
        fclose(f);
    if (rc == EXIT_OK && n > INPUT_MAX)
        rc = local_error("%s: larger than %u MiB", name, INPUT_MAX >> 20);
    if (rc != EXIT_OK) {
        free(b);
        return rc;
    }
    b[n] = '\0';
    if (memchr(b, '\0', n)) {
        free(b);
        return local_error("%s: contains a NUL byte; not text", name);
    }
    *buf = b;
    *len = n;
    return EXIT_OK;
}

/*
 * Check that b[0..n) is one JSON value of the type `want` (cJSON_Object or
 * cJSON_Array), white space around it allowed. Errors name the line and
 * column; `line` > 0: b is that one line of the input.
 */
int check_json(const char *name, const char *b, size_t n, int want, long line)
{
    const char *what = want == cJSON_Array ? "a JSON array" : "a JSON object";
    int rc = EXIT_OK;

    if (strspn(b, " \t\r\n") >= n)
        return local_error("%s: empty; expected %s", name, what);
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(b, n, &end, false);
    while (doc && end && end < b + n && *end && strchr(" \t\r\n", *end))
        end++;
    if (!doc || !end || end != b + n) {
        const char *at = doc ? end : cJSON_GetErrorPtr();
        if (!at || at < b || at > b + n)
            at = b + n;
        long l = line > 0 ? line : 1, col = 1;
        for (const char *p = b; p < at; p++) {
            if (*p == '\n') {
                l++;
                col = 1;
            } else {
                col++;
            }
        }
        rc = local_error("%s: %s (line %ld, column %ld)", name,
                         doc ? "unexpected text after the JSON value" : "not valid JSON", l, col);
    } else if ((doc->type & 0xff) != want) {
        if (line > 0)
            rc = local_error("%s: line %ld: expected %s", name, line, what);
        else
            rc = local_error("%s: expected %s", name, what);
    }
    cJSON_Delete(doc);
    return rc;
}

/*
 * Read a JSON object from path ("-" or NULL: standard input) with a size cap,
 * and check that it is one JSON object before anything is sent. On success
 * *buf holds the bytes exactly as read (sent as they are).
 */
int read_json_input(const char *path, char **buf, size_t *len)
{
    int rc = read_input(path, buf, len);
    if (rc != EXIT_OK)
        return rc;
    rc = check_json(input_name(path), *buf, *len, cJSON_Object, 0);
    if (rc != EXIT_OK) {
        free(*buf);
        *buf = NULL;
        *len = 0;
    }
    return rc;
}

/* Non-blank lines left in f, when it is a regular file (then rewound); else -1. */
long count_nonblank_lines(FILE *f)
{
    struct stat st;
    int fd = fileno(f);
    off_t at = fd >= 0 ? lseek(fd, 0, SEEK_CUR) : -1;

    if (at < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return -1;
    long n = 0;
    bool blank = true;
    int ch;
    while ((ch = getc(f)) != EOF) {
        if (ch == '\n') {
            n += !blank;
            blank = true;
        } else if (ch != ' ' && ch != '\t' && ch != '\r') {
            blank = false;
        }
    }
    n += !blank;
    clearerr(f);
    if (fseeko(f, at, SEEK_SET) != 0)
        return -1;
    return n;
}

int ndjson_next(struct ndjson_reader *r, const char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    for (;;) {
        errno = 0;
        ssize_t got = getline(&r->line, &r->cap, r->f);
        if (got < 0) {
            if (ferror(r->f))
                return local_error("cannot read %s: %s", r->name, strerror(errno ? errno : EIO));
            return EXIT_OK; /* the end */
        }
        r->lineno++;
        if ((size_t)got > INPUT_MAX)
            return local_error("%s: line %ld is larger than %u MiB", r->name, r->lineno,
                               INPUT_MAX >> 20);
        if (memchr(r->line, '\0', (size_t)got))
            return local_error("%s: line %ld contains a NUL byte; not JSON", r->name, r->lineno);
        size_t ln = (size_t)got;
        while (ln > 0 && strchr(" \t\r\n", r->line[ln - 1]))
            ln--;
        size_t lead = strspn(r->line, " \t\r\n");
        if (lead >= ln)
            continue; /* blank line */
        int rc = check_json(r->name, r->line, ln, cJSON_Object, r->lineno);
        if (rc != EXIT_OK)
            return rc;
        *text = r->line + lead;
        *len = ln - lead;
        return EXIT_OK;
    }
}
