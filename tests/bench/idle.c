/*
 * medaid-idle: open N idle mutual-TLS keep-alive connections to a loopback
 * medaidd and hold them, to measure what an idle connection costs the
 * daemon (scripts/bench reads its VmRSS before, while and after).
 *
 * Each connection completes its handshake and one request (GET PATH,
 * /v1/health by default) so that it is a real keep-alive HTTP connection,
 * then stays silent. At most --parallel connections are being opened at
 * once (the daemon caps unfinished handshakes per address). When every
 * connection is open (or has failed) one line is printed:
 *   open n=N idle=K failed=F ms=T
 * then the connections are held until SIGTERM or SIGINT (or for --hold
 * seconds, 600 by default, so it always stops by itself); at the end:
 *   closed idle=K closed_by_server=C
 * and every connection is closed (close_notify, then the socket).
 *
 * Loopback only: any host other than 127.0.0.1, localhost or ::1 is refused.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "loopback.h"

#define MAX_HEAD 16384

enum cstate { C_NEW, C_OPENING, C_IDLE, C_FAILED, C_CLOSED };

struct iconn {
    struct bufferevent *bev;
    enum cstate state;
};

static struct {
    const char *url, *cert, *key, *ca, *path;
    long n, parallel, hold_s, timeout_ms;
} opt = {.path = "/v1/health", .n = 100, .parallel = 32, .hold_s = 600, .timeout_ms = 30000};

static struct loopback_target target;

static struct event_base *base;
static SSL_CTX *ctx;
static struct iconn *conns;
static long next_conn, opening, n_idle, n_failed, n_closed_by_server;
static bool all_open, stopping;
static uint64_t t_start;
static struct event *ev_hold;
static char request[600];
static size_t request_len;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void open_more(void);

static void check_all_open(void)
{
    if (all_open || next_conn < opt.n || opening > 0)
        return;
    all_open = true;
    struct timeval hold = {opt.hold_s, 0};
    evtimer_add(ev_hold, &hold); /* held from now on */
    printf("open n=%ld idle=%ld failed=%ld ms=%llu\n", opt.n, n_idle, n_failed,
           (unsigned long long)(now_ms() - t_start));
    fflush(stdout);
}

static void conn_fail(struct iconn *c)
{
    bool was_opening = c->state == C_OPENING;
    if (c->state == C_IDLE) {
        n_idle--;
        n_closed_by_server++;
        c->state = C_CLOSED;
    } else {
        n_failed++;
        c->state = C_FAILED;
    }
    if (c->bev) {
        bufferevent_free(c->bev);
        c->bev = NULL;
    }
    if (was_opening) {
        opening--;
        open_more();
        check_all_open();
    }
}

/* the whole answer to the one request: a head (any status: a loaded
 * daemon's health check may say 503, the connection is as real) that does
 * not close the connection, and a Content-Length body (or a chunked one,
 * ended by its last chunk) */
static int answer_complete(struct evbuffer *in)
{
    size_t len = evbuffer_get_length(in);
    struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
    if (end.pos < 0)
        return len > MAX_HEAD ? -1 : 0;
    size_t head_len = (size_t)end.pos + 4;
    char *head = malloc(head_len + 1);
    if (!head)
        return -1;
    evbuffer_copyout(in, head, head_len);
    head[head_len] = '\0';
    int status = 0;
    if (sscanf(head, "HTTP/1.%*d %d", &status) != 1 || status < 200) {
        free(head);
        return -1;
    }
    long clen = -1;
    bool chunked = false, closing = false;
    for (char *line = strstr(head, "\r\n"); line && line[2]; line = strstr(line + 2, "\r\n")) {
        const char *l = line + 2;
        if (strncasecmp(l, "content-length:", 15) == 0)
            clen = strtol(l + 15, NULL, 10);
        else if (strncasecmp(l, "transfer-encoding:", 18) == 0 && strstr(l, "chunked"))
            chunked = true;
        else if (strncasecmp(l, "connection:", 11) == 0 && strstr(l, "close"))
            closing = true;
    }
    free(head);
    if (closing)
        return -1;
    if (chunked) {
        struct evbuffer_ptr last = evbuffer_search(in, "\r\n0\r\n\r\n", 7, NULL);
        if (last.pos < 0)
            return 0;
        evbuffer_drain(in, (size_t)last.pos + 7);
        return 1;
    }
    if (clen < 0)
        return -1;
    if (len < head_len + (size_t)clen)
        return 0;
    evbuffer_drain(in, head_len + (size_t)clen);
    return 1;
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    struct iconn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    if (c->state != C_OPENING) {
        evbuffer_drain(in, evbuffer_get_length(in)); /* nothing is expected */
        return;
    }
    int done = answer_complete(in);
    if (done < 0) {
        conn_fail(c);
        return;
    }
    if (done == 0)
        return;
    c->state = C_IDLE;
    n_idle++;
    opening--;
    bufferevent_set_timeouts(bev, NULL, NULL); /* idle from now on */
    open_more();
    check_all_open();
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct iconn *c = arg;
    if (what & BEV_EVENT_CONNECTED) {
        if (bufferevent_write(bev, request, request_len) != 0)
            conn_fail(c);
        return;
    }
    if (c->state == C_OPENING && n_failed == 0) {
        unsigned long e = bufferevent_get_openssl_error(bev);
        char buf[256] = "";
        if (e)
            ERR_error_string_n(e, buf, sizeof buf);
        fprintf(stderr, "medaid-idle: a connection failed%s%s%s\n", buf[0] ? " (" : "", buf,
                buf[0] ? ")" : "");
    }
    conn_fail(c);
}

static bool conn_open(struct iconn *c)
{
    SSL *ssl = loopback_ssl(ctx, &target);
    if (!ssl)
        return false;
    c->bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                            BEV_OPT_CLOSE_ON_FREE);
    if (!c->bev) {
        SSL_free(ssl);
        return false;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
    bufferevent_setcb(c->bev, read_cb, NULL, event_cb, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    struct timeval tv = {opt.timeout_ms / 1000, (opt.timeout_ms % 1000) * 1000};
    bufferevent_set_timeouts(c->bev, &tv, &tv);
    c->state = C_OPENING;
    opening++;
    if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&target.addr, (int)target.addr_len) !=
        0) {
        conn_fail(c);
        return true;
    }
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return true;
}

static void open_more(void)
{
    while (!stopping && opening < opt.parallel && next_conn < opt.n) {
        struct iconn *c = &conns[next_conn++];
        if (!conn_open(c)) {
            c->state = C_FAILED;
            n_failed++;
        }
    }
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    stopping = true;
    event_base_loopbreak(base);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: medaid-idle --url https://127.0.0.1:PORT --cert FILE --key FILE --ca FILE\n"
               "                   [-n CONNECTIONS] [--path PATH] [--parallel K] [--hold SECONDS]\n"
               "                   [--timeout MS]\n"
               "  -n          connections to open and hold (default 100)\n"
               "  --path      the one GET each connection completes (default /v1/health)\n"
               "  --parallel  connections being opened at once (default 32)\n"
               "  --hold      hold at most this long, then close (default 600)\n"
               "  --timeout   opening one connection (handshake and request) (default 30000)\n"
               "Prints \"open n= idle= failed= ms=\" when all are open, holds them until SIGTERM\n"
               "or SIGINT, then prints \"closed idle= closed_by_server=\" and closes them.\n");
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* every connection is a descriptor */
static void raise_nofile(long need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= (rlim_t)need)
        return;
    rl.rlim_cur =
        rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (rlim_t)need ? (rlim_t)need : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < (rlim_t)need)
        fprintf(stderr, "medaid-idle: RLIMIT_NOFILE is %llu, below the %ld needed\n",
                (unsigned long long)rl.rlim_cur, need);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},  {"cert", required_argument, NULL, 'C'},
        {"key", required_argument, NULL, 'K'},  {"ca", required_argument, NULL, 'A'},
        {"path", required_argument, NULL, 'p'}, {"parallel", required_argument, NULL, 'P'},
        {"hold", required_argument, NULL, 'H'}, {"timeout", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "n:h", longopts, NULL)) != -1) {
        bool ok = true;
        switch (ch) {
        case 'u':
            opt.url = optarg;
            break;
        case 'C':
            opt.cert = optarg;
            break;
        case 'K':
            opt.key = optarg;
            break;
        case 'A':
            opt.ca = optarg;
            break;
        case 'p':
            opt.path = optarg;
            break;
        case 'n':
            ok = parse_long(optarg, 1, 1000000, &opt.n);
            break;
        case 'P':
            ok = parse_long(optarg, 1, 10000, &opt.parallel);
            break;
        case 'H':
            ok = parse_long(optarg, 0, 86400, &opt.hold_s);
            break;
        case 'T':
            ok = parse_long(optarg, 1, 3600000, &opt.timeout_ms);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
        if (!ok) {
            fprintf(stderr, "medaid-idle: bad value for an option: %s\n", optarg);
            return 2;
        }
    }
    if (!opt.url || !opt.cert || !opt.key || !opt.ca || optind != argc) {
        usage(stderr);
        return 2;
    }
    if (!loopback_parse_url("medaid-idle", opt.url, &target))
        return 2;
    if (opt.path[0] != '/' || strpbrk(opt.path, " \r\n")) {
        fprintf(stderr, "medaid-idle: --path must be an absolute path\n");
        return 2;
    }
    request_len = (size_t)snprintf(request, sizeof request,
                                   "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: medaid-idle\r\n\r\n",
                                   opt.path, target.host_hdr);
    if (request_len >= sizeof request) {
        fprintf(stderr, "medaid-idle: --path too long\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    raise_nofile(opt.n + 64);

    ctx = loopback_client_ctx(opt.cert, opt.key, opt.ca);
    if (!ctx)
        return 1;
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);

    base = event_base_new();
    conns = calloc((size_t)opt.n, sizeof *conns);
    if (!base || !conns)
        return 1;
    struct event *ev_term = evsignal_new(base, SIGTERM, stop_cb, NULL);
    struct event *ev_int = evsignal_new(base, SIGINT, stop_cb, NULL);
    ev_hold = evtimer_new(base, stop_cb, NULL);
    if (!ev_term || !ev_int || !ev_hold || event_add(ev_term, NULL) || event_add(ev_int, NULL))
        return 1;

    t_start = now_ms();
    open_more();
    check_all_open();
    event_base_dispatch(base);

    printf("closed idle=%ld closed_by_server=%ld\n", n_idle, n_closed_by_server);
    fflush(stdout);
    for (long i = 0; i < opt.n; i++) {
        struct iconn *c = &conns[i];
        if (!c->bev)
            continue;
        SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
        if (ssl && c->state == C_IDLE)
            (void)SSL_shutdown(ssl); /* a clean close, not a reset */
        bufferevent_free(c->bev);
    }
    free(conns);
    event_free(ev_term);
    event_free(ev_int);
    event_free(ev_hold);
    event_base_free(base);
    SSL_CTX_free(ctx);
    return all_open && n_failed == 0 ? 0 : 1;
}
