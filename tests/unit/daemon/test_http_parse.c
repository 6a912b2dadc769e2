/*
 * Unit tests of the daemon's pure parts: the HTTP/1.1 head parser, the
 * log path redaction, and the option table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tap.h"
#include "base/config.h"
#include "http/http_parse.h"
#include "base/log.h"

static enum http_parse_status parse(const char *s, struct http_head *h)
{
    return http_parse_head(s, strlen(s), h);
}

static void test_request_line(void)
{
    struct http_head h;
    const char *req =
        "POST /v1/decisions?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\nBODY";
    is_int(parse(req, &h), HP_OK, "simple POST parses");
    is_int(h.method, HM_POST, "method POST");
    ok(h.target_len == 17 && memcmp(h.target, "/v1/decisions?x=1", 17) == 0, "target");
    is_int(h.minor_version, 1, "HTTP/1.1");
    is_int(h.n_headers, 2, "two headers");
    is_int(h.head_len, strlen(req) - 4, "head_len stops before the body");
    const struct http_header *cl = http_find_header(&h, "content-length");
    ok(cl && cl->value_len == 2 && memcmp(cl->value, "12", 2) == 0,
       "header lookup is case-insensitive");

    is_int(parse("GET / HTTP/1.0\n\n", &h), HP_OK, "bare LF line ends accepted");
    is_int(h.minor_version, 0, "HTTP/1.0");
    is_int(parse("\r\n\r\nGET / HTTP/1.1\r\n\r\n", &h), HP_OK, "leading empty lines skipped");
    is_int(parse("BREW /pot HTTP/1.1\r\n\r\n", &h), HP_OK, "unknown method parses");
    is_int(h.method, HM_OTHER, "unknown method is HM_OTHER");
}

static void test_incomplete(void)
{
    struct http_head h;
    const char *full = "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n";
    size_t n = strlen(full);
    int incomplete = 0;
    for (size_t i = 0; i < n; i++)
        incomplete += http_parse_head(full, i, &h) == HP_INCOMPLETE;
    is_int(incomplete, n, "every strict prefix is incomplete");
    is_int(http_parse_head(full, n, &h), HP_OK, "the whole head parses");
}

static void test_refusals(void)
{
    struct http_head h;
    is_int(parse("GET /x HTTP/2.0\r\n\r\n", &h), HP_BAD_VERSION, "HTTP/2.0 refused (505)");
    is_int(parse("GET /x HTTP/1.2\r\n\r\n", &h), HP_BAD_VERSION, "HTTP/1.2 refused");
    is_int(parse("GET /x HTTP/1.1 \r\n\r\n", &h), HP_BAD_REQUEST, "trailing space");
    is_int(parse("GET  /x HTTP/1.1\r\n\r\n", &h), HP_BAD_REQUEST, "double space");
    is_int(parse("GET http://a/x HTTP/1.1\r\n\r\n", &h), HP_BAD_REQUEST, "absolute-form refused");
    is_int(parse("GET /x HTTP/1.1\r\nBad Name: v\r\n\r\n", &h), HP_BAD_REQUEST,
           "space in header name");
    is_int(parse("GET /x HTTP/1.1\r\nNoColon\r\n\r\n", &h), HP_BAD_REQUEST, "header without colon");
    is_int(parse("GET /x HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", &h), HP_BAD_REQUEST,
           "obsolete line folding refused");
    is_int(parse("GET /x HTTP/1.1\r\nA: b\x01\r\n\r\n", &h), HP_BAD_REQUEST,
           "control character refused");
    is_int(parse("GET /\x7f HTTP/1.1\r\n\r\n", &h), HP_BAD_REQUEST, "DEL in target refused");
    is_int(parse("GET /x HTTP/1.1\r\n: v\r\n\r\n", &h), HP_BAD_REQUEST, "empty header name");
    is_int(http_parse_head("GET /\0 HTTP/1.1\r\n\r\n", 19, &h), HP_BAD_REQUEST, "NUL refused");

    char big[8192];
    size_t o = (size_t)snprintf(big, sizeof big, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < HTTP_MAX_HEADERS; i++)
        o += (size_t)snprintf(big + o, sizeof big - o, "H%d: v\r\n", i);
    snprintf(big + o, sizeof big - o, "\r\n");
    is_int(parse(big, &h), HP_OK, "exactly HTTP_MAX_HEADERS headers accepted");
    snprintf(big + o, sizeof big - o, "One-More: v\r\n\r\n");
    is_int(parse(big, &h), HP_TOO_MANY_HEADERS, "one header more is too many (431)");
}

static void test_helpers(void)
{
    struct http_head h;
    parse("GET / HTTP/1.1\r\nConnection: Keep-Alive, close\r\nX: 1\r\nX: 2\r\n\r\n", &h);
    const struct http_header *c = http_find_header(&h, "Connection");
    ok(c && http_list_has_token(c->value, c->value_len, "close"), "token list finds close");
    ok(c && http_list_has_token(c->value, c->value_len, "keep-alive"), "token match ignores case");
    ok(c && !http_list_has_token(c->value, c->value_len, "clos"), "no prefix match");
    is_int(http_count_header(&h, "x"), 2, "repeated headers counted");
    ok(!http_find_header(&h, "Content-Length"), "absent header is NULL");

    uint64_t v;
    ok(http_parse_content_length("0", 1, &v) && v == 0, "Content-Length 0");
    ok(http_parse_content_length("1048576", 7, &v) && v == 1048576, "Content-Length 1 MiB");
    ok(!http_parse_content_length("", 0, &v), "empty Content-Length refused");
    ok(!http_parse_content_length("+5", 2, &v), "signed Content-Length refused");
    ok(!http_parse_content_length("1 2", 3, &v), "Content-Length with space refused");
    ok(!http_parse_content_length("1234567890123456789", 19, &v), "huge Content-Length refused");
}

static void test_redaction(void)
{
    char out[128];
    log_set_hash_key((const unsigned char *)"k", 1);
    log_redact_path("/v1/beneficiaries/85073003328/decisions", out, sizeof out);
    ok(!strstr(out, "85073003328"), "an 11-digit segment is not logged");
    ok(strncmp(out, "/v1/beneficiaries/#", 19) == 0 && strstr(out, "/decisions"),
       "it is replaced by a hash: %s", out);
    char again[128];
    log_redact_path("/v1/beneficiaries/85073003328/decisions", again, sizeof again);
    is_str(again, out, "the hash is stable for one key");
    log_redact_path("/v1/decisions/D2026-00000001", out, sizeof out);
    is_str(out, "/v1/decisions/D2026-00000001", "other numbers are kept");
    log_redact_path("/x/123456789012", out, sizeof out);
    is_str(out, "/x/123456789012", "12 digits are not an SSIN");
}

static void test_config(void)
{
    struct config c;
    char err[256];
    config_init(&c);
    is_int(c.max_body_bytes, 1048576, "default max_body_bytes is 1 MiB");
    ok(config_set(&c, "workers", "4", err, sizeof err) && c.workers == 4, "set workers");
    ok(!config_set(&c, "workers", "-1", err, sizeof err), "below the bound refused");
    ok(!config_set(&c, "workers", "4x", err, sizeof err), "not an integer refused");
    ok(!config_set(&c, "no_such_option", "1", err, sizeof err) && strstr(err, "unknown"),
       "unknown option refused");
    char path[] = "/tmp/medaid-test-conf-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fputs("# comment\n\nlisten = \"127.0.0.1:9443\"\n  db_pool_size=7  \n", f);
    fclose(f);
    ok(config_load_file(&c, path, err, sizeof err), "config file loads: %s", err);
    is_str(c.listen, "127.0.0.1:9443", "quoted value");
    is_int(c.db_pool_size, 7, "unquoted value with spaces");
    f = fopen(path, "w");
    fputs("listen = 1\nbogus line\n", f);
    fclose(f);
    ok(!config_load_file(&c, path, err, sizeof err) && strstr(err, ":2:"),
       "syntax error names the line: %s", err);
    unlink(path);
    config_free(&c);
}

int main(void)
{
    test_request_line();
    test_incomplete();
    test_refusals();
    test_helpers();
    test_redaction();
    test_config();
    return done_testing();
}
