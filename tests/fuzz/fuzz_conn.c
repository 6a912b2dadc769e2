/*
 * Fuzz target: a whole HTTP/1.1 connection (framing, pipelining,
 * keep-alive, answers) through the daemon's real net/ and http/ code, over
 * a libevent bufferevent pair (no TLS), with a trivial route table and no
 * authenticator. The input is what the client sends; the answers must
 * each start with a status line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "base/config.h"
#include "base/log.h"
#include "http/framing.h"
#include "http/router.h"
#include "net/conn.h"
#include "net/worker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void h_ok(struct request *r)
{
    const char *q = request_query(r, "q");
    size_t len;
    request_body(r, &len);
    char *b = malloc(64);
    int n = snprintf(b, 64, "{\"len\":%zu,\"q\":%d}", len, q != NULL);
    request_respond(r, 200, "application/json", b, (size_t)n);
}

static void h_stream(struct request *r)
{
    request_stream_begin(r, 200, "application/x-ndjson");
    request_stream_line(r, "{}", 2);
    request_stream_end(r);
}

static const char *const q_ok[] = {"q", NULL};
static const struct route routes[] = {
    {HM_GET, "/x", ~0u, h_ok, .query = q_ok},
    {HM_POST, "/x/*", ~0u, h_ok, .csv = true},
    {HM_GET, "/s", ~0u, h_stream},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct config cfg;
    static int once;
    if (!once) {
        once = 1;
        config_init(&cfg);
        cfg.max_header_bytes = 4096;
        cfg.max_body_bytes = 4096;
        cfg.max_bulk_body_bytes = 4096;
        log_set_level(LOG_ERROR);
        conn_set_protocol(http_protocol());
        router_set_routes(routes, sizeof routes / sizeof routes[0]);
    }
    struct event_base *base = event_base_new();
    struct worker *w = worker_new_on(base, &cfg);
    if (!w)
        abort();
    struct bufferevent *pair[2];
    if (bufferevent_pair_new(base, 0, pair) != 0)
        abort();
    conn_adopt(w, pair[0], "fuzz:0", "00");
    bufferevent_enable(pair[1], EV_READ | EV_WRITE);
    /* feed it in two pieces, so a head can be split */
    size_t half = size / 2;
    bufferevent_write(pair[1], data, half);
    for (int i = 0; i < 8; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);
    bufferevent_write(pair[1], data + half, size - half);
    for (int i = 0; i < 16; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);
    struct evbuffer *got = bufferevent_get_input(pair[1]);
    size_t n = evbuffer_get_length(got);
    if (n > 0) {
        char head[9];
        size_t k = n < 8 ? n : 8;
        evbuffer_copyout(got, head, k);
        if (memcmp(head, "HTTP/1.1", k) != 0)
            abort();
    }
    bufferevent_free(pair[1]);
    for (int i = 0; i < 4; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);
    worker_free(w);
    event_base_free(base);
    return 0;
}
