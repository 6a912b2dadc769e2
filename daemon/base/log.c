/*
 * log: leveled, line-atomic logging to stderr or a file.
 */
#include "base/log.h"
#include "base/hex.h"
#include "proto/date.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

static _Atomic int log_fd = 2;
static _Atomic int log_level = LOG_INFO;
/* stderr is journald's stream (JOURNAL_STREAM names its device and inode):
 * lines start with a syslog priority "<N>" and carry no timestamp of ours */
static _Atomic bool log_journal;
static unsigned char hash_key[32];
static size_t hash_key_len;
static pthread_once_t hash_once = PTHREAD_ONCE_INIT;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

bool log_level_from_name(const char *s, enum log_level *out)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return true;
        }
    }
    return false;
}

const char *log_level_name(enum log_level l)
{
    return level_names[l];
}

/* JOURNAL_STREAM is "device:inode" of the stream systemd connected; it
 * only counts when stderr is still that stream (not redirected since) */
static bool stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    char extra;
    struct stat st;
    if (!js || sscanf(js, "%llu:%llu%c", &dev, &ino, &extra) != 2 || fstat(2, &st) != 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

bool log_journal_mode(void)
{
    return atomic_load(&log_journal);
}

bool log_open(const char *path)
{
    int fd = 2;
    if (path && *path) {
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd < 0)
            return false;
    }
    atomic_store(&log_journal, fd == 2 && stderr_is_journal());
    int old = atomic_exchange(&log_fd, fd);
    if (old > 2)
        close(old);
    return true;
}

void log_set_level(enum log_level l)
{
    atomic_store(&log_level, (int)l);
}

bool log_enabled(enum log_level l)
{
    return (int)l <= atomic_load(&log_level);
}

static void hash_key_random(void)
{
    if (hash_key_len == 0) {
        if (RAND_bytes(hash_key, sizeof hash_key) != 1)
            memset(hash_key, 0x5a, sizeof hash_key);
        hash_key_len = sizeof hash_key;
    }
}

void log_set_hash_key(const unsigned char *key, size_t len)
{
    if (len > sizeof hash_key)
        len = sizeof hash_key;
    memcpy(hash_key, key, len);
    hash_key_len = len;
}

void log_ssin_hash(const char *ssin, char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    pthread_once(&hash_once, hash_key_random);
    if (!HMAC(EVP_sha256(), hash_key, (int)hash_key_len, (const unsigned char *)ssin, strlen(ssin),
              md, &mdlen)) {
        strcpy(out, "????????????");
        return;
    }
    hex_encode(md, 6, out);
}

void log_redact_path(const char *path, char *out, size_t n)
{
    size_t o = 0;
    if (n == 0)
        return;
    for (const char *p = path; *p && o + 1 < n;) {
        size_t run = 0;
        while (isdigit((unsigned char)p[run]))
            run++;
        if (run == 11) {
            char d[12], h[13];
            memcpy(d, p, 11);
            d[11] = '\0';
            log_ssin_hash(d, h);
            int w = snprintf(out + o, n - o, "#%s", h);
            if (w < 0 || (size_t)w >= n - o)
                break;
            o += (size_t)w;
            p += run;
        } else if (run > 0) {
            size_t c = run < n - 1 - o ? run : n - 1 - o;
            memcpy(out + o, p, c);
            o += c;
            p += run;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
}

void log_vctx(enum log_level l, const char *prefix, const char *fmt, va_list ap)
{
    if (!log_enabled(l))
        return;
    char line[2048];
    int n;
    if (atomic_load(&log_journal)) {
        /* syslog priorities: err, warning, info, debug */
        static const int priority[] = {3, 4, 6, 7};
        n = snprintf(line, sizeof line, "<%d>%s%s", priority[l], prefix ? prefix : "",
                     prefix && *prefix ? " " : "");
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        char when[PTIMESTAMP_STRLEN_MAX + 1]; /* YYYY-MM-DDTHH:MM:SS.mmmZ */
        timestamp_format_utc(ts.tv_sec, (int32_t)ts.tv_nsec, 3, when);
        n = snprintf(line, sizeof line, "%s %-5s %s%s", when, level_names[l], prefix ? prefix : "",
                     prefix && *prefix ? " " : "");
    }
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    int m = vsnprintf(line + len, sizeof line - len, fmt, ap);
    if (m > 0)
        len += (size_t)m < sizeof line - len ? (size_t)m : sizeof line - len - 1;
    /* one line: no embedded newlines from callers */
    for (size_t i = 0; i < len; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    if (len >= sizeof line - 1)
        len = sizeof line - 2;
    line[len++] = '\n';
    int fd = atomic_load(&log_fd);
    const char *p = line;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        p += w;
        len -= (size_t)w;
    }
}

void log_ctx(enum log_level l, const char *prefix, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vctx(l, prefix, fmt, ap);
    va_end(ap);
}

void log_msg(enum log_level l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vctx(l, NULL, fmt, ap);
    va_end(ap);
}
