/*
 * input: what the client reads: a request body from a file or standard
 * input (size-capped, checked to be the JSON it must be before anything is
 * sent), and NDJSON, one JSON object per line.
 */
#ifndef MEDAID_CLIENT_INPUT_H
#define MEDAID_CLIENT_INPUT_H

#include <stddef.h>
#include <stdio.h>

#define INPUT_MAX (16u * 1024u * 1024u) /* request body read from a file */

/* "standard input" or the path, for messages */
const char *input_name(const char *path);
/* Open path for reading ("-" or NULL: standard input). Without a path,
 * standard input must not be a terminal: medaid never waits for typing. */
int open_input(const char *path, FILE **f);
/* Read all of path ("-" or NULL: standard input) with a size cap. On success
 * *buf holds the bytes exactly as read, NUL-terminated (not counted in *len). */
int read_input(const char *path, char **buf, size_t *len);
/* Check that b[0..n) is one JSON value of the type `want` (cJSON_Object or
 * cJSON_Array), white space around it allowed. Errors name the line and
 * column; `line` > 0: b is that one line of the input. */
int check_json(const char *name, const char *b, size_t n, int want, long line);
/* read_input, then check_json for one object: the bytes are sent as read */
int read_json_input(const char *path, char **buf, size_t *len);
/* Non-blank lines left in f, when it is a regular file (then rewound); else -1. */
long count_nonblank_lines(FILE *f);

/* NDJSON read line by line: one JSON object per line, blank lines skipped. */
struct ndjson_reader {
    FILE *f;
    const char *name; /* for messages */
    char *line;       /* getline's buffer: free it */
    size_t cap;
    long lineno; /* of the line last read */
};
/* The next object: *text, *len its text without the white space around it
 * (valid until the next call), on line r->lineno; *text NULL at the end. A
 * line that cannot be read, is too long, has a NUL or is not one JSON object
 * is reported and its exit code returned. */
int ndjson_next(struct ndjson_reader *r, const char **text, size_t *len);

#endif
