/*
 * log: the one logging API of medaidd.
 *
 * One line per call, written with a single write(2) so lines from several
 * worker threads never interleave. Timestamps are UTC (RFC 3339, ms).
 * Never pass a full SSIN, a key or a request body: log_ssin_hash() gives a
 * keyed hash to correlate lines about one person without naming them.
 */
#ifndef MEDAID_LOG_H
#define MEDAID_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

bool log_level_from_name(const char *s, enum log_level *out);
const char *log_level_name(enum log_level l);

/* Open path (append) or use stderr when path is NULL or empty. Returns false
 * and leaves the previous destination in place when the file cannot be
 * opened. Safe to call again to reopen (log rotation). On stderr, when
 * JOURNAL_STREAM names stderr's device:inode (systemd's journal stream),
 * lines get a "<N>" syslog priority prefix (3 error, 4 warn, 6 info,
 * 7 debug) and no timestamp (journald has its own). */
bool log_open(const char *path);
/* log_open chose the journald format */
bool log_journal_mode(void);
void log_set_level(enum log_level l);
bool log_enabled(enum log_level l);
/* Key for log_ssin_hash; random when never set. */
void log_set_hash_key(const unsigned char *key, size_t len);

void log_msg(enum log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* prefix: context such as "w0 c17 r=3f2a..." placed between level and text */
void log_ctx(enum log_level l, const char *prefix, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vctx(enum log_level l, const char *prefix, const char *fmt, va_list ap);

/* 12 hex chars of HMAC-SHA256(key, ssin): out must hold 13 bytes. */
void log_ssin_hash(const char *ssin, char *out);
/* Copy path into out (size n), replacing every run of 11 digits (a possible
 * SSIN) by "#<hash>". */
void log_redact_path(const char *path, char *out, size_t n);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)                                                                              \
    do {                                                                                           \
        if (log_enabled(LOG_INFO))                                                                 \
            log_msg(LOG_INFO, __VA_ARGS__);                                                        \
    } while (0)
#define log_debug(...)                                                                             \
    do {                                                                                           \
        if (log_enabled(LOG_DEBUG))                                                                \
            log_msg(LOG_DEBUG, __VA_ARGS__);                                                       \
    } while (0)

#endif
