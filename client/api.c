/*
 * api: one HTTP/1.1 exchange with medaidd over mutual TLS (libcurl).
 */
#include "api.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "hex.h"

#ifndef MEDAID_VERSION
#define MEDAID_VERSION "0"
#endif

struct sink {
    char *buf;
    size_t len, cap;
    bool too_large;
    bool no_memory;
    /* streaming (on_body set) */
    CURL *curl;
    api_body_fn on_body;
    void *arg;
    bool decided; /* status looked at (first body bytes) */
    bool pass;    /* a 2xx answer: the body goes to on_body */
    bool stopped;
    char *media; /* of the streamed answer */
    size_t streamed;
};

static char *media_type(const char *ct);

static size_t sink_write(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct sink *s = userdata;
    size_t n = size * nmemb;

    if (s->on_body) {
        if (!s->decided) {
            long status = 0;
            char *ct = NULL;
            s->decided = true;
            curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
            s->pass = status >= 200 && status <= 299;
            if (s->pass && curl_easy_getinfo(s->curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK &&
                ct && !(s->media = media_type(ct))) {
                s->no_memory = true;
                return 0;
            }
        }
        if (s->pass) {
            if (n > 0 && !s->on_body(s->arg, s->media, data, n)) {
                s->stopped = true;
                return 0;
            }
            s->streamed += n;
            return n;
        }
    }

    if (n > API_MAX_RESPONSE - s->len) {
        s->too_large = true;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 16384;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *nb = realloc(s->buf, cap);
        if (!nb) {
            s->no_memory = true;
            return 0;
        }
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    s->buf[s->len] = '\0';
    return n;
}

bool api_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

void api_global_cleanup(void)
{
    curl_global_cleanup();
}

const char *api_backend_version(void)
{
    return curl_version();
}

static void set_error(struct api_response *res, enum api_outcome o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(struct api_response *res, enum api_outcome o, const char *fmt, ...)
{
    va_list ap;

    res->outcome = o;
    va_start(ap, fmt);
    vsnprintf(res->error, sizeof res->error, fmt, ap);
    va_end(ap);
}

/* A local file curl will need: say which one and why, before curl hides it. */
static bool check_readable(struct api_response *res, const char *what, const char *path)
{
    if (!path)
        return true;
    if (access(path, R_OK) == 0)
        return true;
    set_error(res, API_LOCAL, "cannot read %s %s: %s", what, path, strerror(errno));
    return false;
}

static bool starts_with_ci(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* base URL without trailing slashes + path */
static char *join_url(const char *base, const char *path)
{
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    size_t pl = strlen(path);
    char *u = malloc(bl + pl + 1);
    if (!u)
        return NULL;
    memcpy(u, base, bl);
    memcpy(u + bl, path, pl + 1);
    return u;
}

/* media type, lower case, parameters and blanks removed */
static char *media_type(const char *ct)
{
    if (!ct)
        return NULL;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strcspn(ct, "; \t");
    char *m = malloc(n + 1);
    if (!m)
        return NULL;
    for (size_t i = 0; i < n; i++)
        m[i] = (char)tolower((unsigned char)ct[i]);
    m[n] = '\0';
    return m;
}

static char *header_value(CURL *c, const char *name)
{
    struct curl_header *h = NULL;

    if (curl_easy_header(c, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h || !h->value)
        return NULL;
    return strdup(h->value);
}

/* the headers of a 2xx answer were received */
static bool answered_2xx(CURL *c)
{
    long status = 0;
    return curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status >= 200 &&
           status <= 299;
}

static enum api_outcome classify(CURLcode rc)
{
    switch (rc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_FAILED_INIT:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_READ_ERROR:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CERTPROBLEM: /* our certificate or key */
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
        return API_LOCAL;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_BAD_CONTENT_ENCODING:
        return API_BAD_ANSWER;
    default: /* connect, resolve, timeout, TLS handshake, peer verification, send/recv */
        return API_UNREACHABLE;
    }
}

#define SETOPT(c, opt, val)                                                                        \
    do {                                                                                           \
        if (curl_easy_setopt((c), (opt), (val)) != CURLE_OK)                                       \
            goto setopt_failed;                                                                    \
    } while (0)

static void exchange_once(const struct api_options *o, const struct api_request *rq,
                          struct api_response *res)
{
    char errbuf[CURL_ERROR_SIZE];
    struct sink sink = {0};
    struct curl_slist *hdrs = NULL;
    char *url = NULL;
    char line[512];
    CURL *c = NULL;
    bool p12 = o->cert_type && strcmp(o->cert_type, "P12") == 0;

    memset(res, 0, sizeof *res);
    errbuf[0] = '\0';

    if (!starts_with_ci(o->url, "https://")) {
        set_error(res, API_LOCAL, "URL must start with https:// (got %s)", o->url);
        return;
    }
    if (strpbrk(o->url, "?# \t\r\n")) {
        set_error(res, API_LOCAL, "URL must not contain a query, fragment or blanks: %s", o->url);
        return;
    }
    if (p12 && o->key) {
        set_error(res, API_LOCAL, "--cert-type P12: the key is in the PKCS#12 file; no --key");
        return;
    }
    if (!check_readable(res, "client certificate", o->cert) ||
        !check_readable(res, "client key", o->key) || !check_readable(res, "CA certificate", o->ca))
        return;

    url = join_url(o->url, rq->path);
    c = curl_easy_init();
    if (!url || !c) {
        set_error(res, API_LOCAL, "out of memory");
        goto out;
    }

    SETOPT(c, CURLOPT_URL, url);
    SETOPT(c, CURLOPT_PROTOCOLS_STR, "https");
    SETOPT(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SETOPT(c, CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(c, CURLOPT_ERRORBUFFER, errbuf);
    if (rq->on_body) {
        /* a stream may last long: give up only when no data comes */
        SETOPT(c, CURLOPT_CONNECTTIMEOUT, o->timeout);
        SETOPT(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
        SETOPT(c, CURLOPT_LOW_SPEED_TIME, o->timeout);
    } else {
        SETOPT(c, CURLOPT_TIMEOUT, o->timeout);
        SETOPT(c, CURLOPT_CONNECTTIMEOUT, o->timeout);
    }
    SETOPT(c, CURLOPT_USERAGENT, "medaid/" MEDAID_VERSION);

    /* TLS: always verify the server; present our certificate. */
    SETOPT(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    SETOPT(c, CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->ca)
        SETOPT(c, CURLOPT_CAINFO, o->ca);
    if (o->cert) {
        SETOPT(c, CURLOPT_SSLCERT, o->cert);
        SETOPT(c, CURLOPT_SSLCERTTYPE, p12 ? "P12" : "PEM");
    }
    if (o->key && !p12) {
        SETOPT(c, CURLOPT_SSLKEY, o->key);
        SETOPT(c, CURLOPT_SSLKEYTYPE, "PEM");
    }
    /* Without a pass phrase, an empty one makes an encrypted key fail instead
     * of letting OpenSSL prompt on the terminal: medaid never prompts. */
    SETOPT(c, CURLOPT_KEYPASSWD, o->key_password ? o->key_password : "");

    /* Response: capped body (a streamed one is not kept, so not capped). */
    if (!rq->on_body)
        SETOPT(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)API_MAX_RESPONSE);
    sink.curl = c;
    sink.on_body = rq->on_body;
    sink.arg = rq->on_body_arg;
    SETOPT(c, CURLOPT_WRITEFUNCTION, sink_write);
    SETOPT(c, CURLOPT_WRITEDATA, &sink);

    /* Method and body. */
    if (strcmp(rq->method, "GET") == 0) {
        SETOPT(c, CURLOPT_HTTPGET, 1L);
    } else {
        if (rq->body || strcmp(rq->method, "POST") == 0) {
            SETOPT(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(rq->body ? rq->body_len : 0));
            SETOPT(c, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
        }
        if (strcmp(rq->method, "POST") != 0)
            SETOPT(c, CURLOPT_CUSTOMREQUEST, rq->method);
    }

    /* Headers. */
    {
        const char *fixed[6];
        size_t nf = 0;
        fixed[nf++] = "Expect:"; /* no 100-continue round trip */
        snprintf(line, sizeof line, "Accept: %s", rq->accept ? rq->accept : "application/json");
        hdrs = curl_slist_append(hdrs, line);
        if (!hdrs)
            goto no_memory;
        if (rq->content_type) {
            snprintf(line, sizeof line, "Content-Type: %s", rq->content_type);
            if (!curl_slist_append(hdrs, line))
                goto no_memory;
        } else if (strcmp(rq->method, "GET") != 0) {
            fixed[nf++] = "Content-Type:";
        }
        if (o->lang) {
            snprintf(line, sizeof line, "Accept-Language: %s", o->lang);
            if (!curl_slist_append(hdrs, line))
                goto no_memory;
        }
        if (o->request_id) {
            snprintf(line, sizeof line, "X-Request-Id: %s", o->request_id);
            if (!curl_slist_append(hdrs, line))
                goto no_memory;
        }
        for (size_t i = 0; i < nf; i++)
            if (!curl_slist_append(hdrs, fixed[i]))
                goto no_memory;
        for (size_t i = 0; rq->headers && rq->headers[i]; i++)
            if (!curl_slist_append(hdrs, rq->headers[i]))
                goto no_memory;
        SETOPT(c, CURLOPT_HTTPHEADER, hdrs);
    }

    if (o->verbose)
        fprintf(stderr, "medaid: %s %s\n", rq->method, url);

    CURLcode rc = curl_easy_perform(c);
    res->streamed = sink.streamed;
    if (rc != CURLE_OK) {
        const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
        if (sink.stopped) {
            res->stopped = true;
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
            set_error(res, API_LOCAL, "transfer stopped by the client");
        } else if (sink.no_memory) {
            set_error(res, API_LOCAL, "out of memory reading the answer");
        } else if (rq->on_body && (sink.pass || (!sink.decided && answered_2xx(c)))) {
            /* the headers of a 2xx answer came, then the body stopped short */
            set_error(res, API_BAD_ANSWER, "%s: the answer was cut off after %zu bytes: %s", url,
                      sink.streamed, why);
        } else if (sink.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
            set_error(res, API_BAD_ANSWER, "answer larger than %u MiB", API_MAX_RESPONSE >> 20);
        } else if (rc == CURLE_SSL_CERTPROBLEM) {
            set_error(res, API_LOCAL,
                      "cannot use the client certificate or key (wrong pass phrase, or not %s?): "
                      "%s",
                      p12 ? "a PKCS#12 file" : "PEM", why);
        } else {
            set_error(res, classify(rc), "%s: %s", url, why);
        }
        goto out;
    }

    long status = 0;
    char *ct = NULL;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    res->outcome = API_ANSWERED;
    res->status = status;
    res->content_type = media_type(ct);
    res->request_id = header_value(c, "X-Request-Id");
    res->retry_after = header_value(c, "Retry-After");
    if (rq->capture)
        res->captured = header_value(c, rq->capture);
    if (!sink.buf) {
        sink.buf = strdup("");
        if (!sink.buf)
            goto no_memory;
    }
    res->body = sink.buf;
    res->len = sink.len;
    sink.buf = NULL;
    if (o->verbose)
        fprintf(stderr, "medaid: HTTP %ld X-Request-Id: %s\n", status,
                res->request_id ? res->request_id : "-");
    goto out;

no_memory:
    set_error(res, API_LOCAL, "out of memory");
    goto out;
setopt_failed:
    set_error(res, API_LOCAL, "libcurl refused an option (libcurl too old or built without TLS?)");
out:
    free(sink.buf);
    free(sink.media);
    curl_slist_free_all(hdrs);
    if (c)
        curl_easy_cleanup(c);
    free(url);
}

/* ---- retries -------------------------------------------------------------- */

#define RETRY_BASE_MS 500L
#define RETRY_CAP_MS  30000L

static bool has_idempotency_key(const struct api_request *rq)
{
    for (size_t i = 0; rq->headers && rq->headers[i]; i++)
        if (starts_with_ci(rq->headers[i], "Idempotency-Key:"))
            return true;
    return false;
}

static bool retryable(const struct api_request *rq, const struct api_response *res)
{
    if (res->streamed > 0)
        return false;
    if (strcmp(rq->method, "GET") != 0 && !has_idempotency_key(rq))
        return false; /* never repeat a write the server could not recognise */
    if (res->outcome == API_UNREACHABLE)
        return true;
    return res->outcome == API_ANSWERED && (res->status == 503 || res->status == 429);
}

/* Retry-After in whole seconds (an HTTP date is not followed: backoff) */
static long retry_after_ms(const struct api_response *res)
{
    const char *ra = res->retry_after;
    if (!ra || !isdigit((unsigned char)*ra))
        return -1;
    char *end;
    errno = 0;
    long v = strtol(ra, &end, 10);
    if (errno || *end || v < 0)
        return -1;
    return v > RETRY_CAP_MS / 1000 ? RETRY_CAP_MS : v * 1000;
}

static unsigned long jitter_seed(void)
{
    unsigned char b[sizeof(unsigned long)];
    FILE *f = fopen("/dev/urandom", "rb");
    unsigned long v = (unsigned long)getpid();
    if (f) {
        if (fread(b, 1, sizeof b, f) == sizeof b)
            memcpy(&v, b, sizeof v);
        fclose(f);
    }
    return v;
}

void api_exchange(const struct api_options *o, const struct api_request *rq,
                  struct api_response *res)
{
    unsigned long seed = 0;
    for (int attempt = 0;; attempt++) {
        exchange_once(o, rq, res);
        if (attempt >= o->retry || !retryable(rq, res))
            return;
        /* exponential backoff, full jitter over its upper half */
        long cap = RETRY_BASE_MS << (attempt < 6 ? attempt : 6);
        if (cap > RETRY_CAP_MS)
            cap = RETRY_CAP_MS;
        if (!seed)
            seed = jitter_seed() | 1;
        seed = seed * 6364136223846793005UL + 1442695040888963407UL;
        long wait = cap / 2 + (long)((seed >> 33) % (unsigned long)(cap / 2 + 1));
        long ra = retry_after_ms(res);
        if (ra > wait)
            wait = ra;
        char why[64];
        if (res->outcome == API_ANSWERED)
            snprintf(why, sizeof why, "HTTP %ld", res->status);
        else
            snprintf(why, sizeof why, "not reached");
        fprintf(stderr, "medaid: retrying (%s): attempt %d of %d in %ld.%01ld s\n", why,
                attempt + 2, o->retry + 1, wait / 1000, (wait % 1000) / 100);
        api_response_free(res);
        struct timespec ts = {.tv_sec = wait / 1000, .tv_nsec = (wait % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
}

void api_response_free(struct api_response *res)
{
    free(res->content_type);
    free(res->body);
    free(res->request_id);
    free(res->retry_after);
    free(res->captured);
    res->content_type = res->body = res->request_id = res->retry_after = res->captured = NULL;
    res->len = 0;
}

enum exit_code api_exit_for_status(long status)
{
    if (status >= 200 && status < 300)
        return EXIT_OK;
    if (status >= 400 && status < 500)
        return EXIT_REFUSED;
    return EXIT_SERVER;
}

enum exit_code api_exit_for_outcome(enum api_outcome o)
{
    switch (o) {
    case API_ANSWERED:
        return EXIT_OK;
    case API_UNREACHABLE:
        return EXIT_UNREACHABLE;
    case API_LOCAL:
        return EXIT_USAGE;
    case API_BAD_ANSWER:
        return EXIT_SERVER;
    }
    return EXIT_SERVER;
}

bool api_is_json(const struct api_response *res)
{
    return res->content_type && (strcmp(res->content_type, "application/json") == 0 ||
                                 strcmp(res->content_type, "application/problem+json") == 0);
}

bool api_is_problem(const struct api_response *res)
{
    return res->content_type && strcmp(res->content_type, "application/problem+json") == 0;
}

char *api_escape_segment(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(3 * n + 1);
    char *p = out;

    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            *p++ = (char)ch;
        } else {
            *p++ = '%';
            *p++ = hex_digit_upper(ch >> 4);
            *p++ = hex_digit_upper(ch);
        }
    }
    *p = '\0';
    return out;
}
