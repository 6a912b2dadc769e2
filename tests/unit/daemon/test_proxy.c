/* unit tests: net/proxy (the PROXY protocol v2 header, proxy_trusted) */
#include <string.h>

#include "net/proxy.h"

#include "../tap.h"

static const unsigned char sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                      0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

/* a header: ver_cmd, family, then body of len bytes */
static size_t header(unsigned char *out, unsigned ver_cmd, unsigned fam, const unsigned char *body,
                     size_t len)
{
    memcpy(out, sig, 12);
    out[12] = (unsigned char)ver_cmd;
    out[13] = (unsigned char)fam;
    out[14] = (unsigned char)(len >> 8);
    out[15] = (unsigned char)len;
    if (len)
        memcpy(out + 16, body, len);
    return 16 + len;
}

static const unsigned char v4_body[12] = {192, 0, 2, 7, 10, 0, 0, 1, 0xD4, 0x31, 0x20, 0xFB};

int main(void)
{
    unsigned char buf[PROXY_V2_MAX + 64];
    struct proxy_header h;
    size_t used = 0;
    const char *why;
    char text[64];

    size_t n = header(buf, 0x21, 0x11, v4_body, sizeof v4_body);
    is_int(proxy_need(buf, 0), PROXY_V2_FIXED, "nothing yet: the fixed part first");
    is_int(proxy_need(buf, 5), PROXY_V2_FIXED, "part of the signature: the fixed part");
    is_int(proxy_need(buf, 16), 28, "fixed part read: its length says the rest");
    is_int(proxy_parse(buf, 20, &h, &used, &why), PROXY_INCOMPLETE, "cut header: incomplete");
    ok(proxy_parse(buf, n, &h, &used, &why) == PROXY_OK, "TCP over IPv4 PROXY");
    is_int(used, 28, "it takes 28 bytes");
    ok(!h.local && h.src.family == PROXY_AF_INET, "source is IPv4");
    proxy_addr_text(&h.src, text, sizeof text);
    is_str(text, "192.0.2.7:54321", "client address and port");
    proxy_addr_text(&h.dst, text, sizeof text);
    is_str(text, "10.0.0.1:8443", "destination address and port");

    /* the bytes behind the header (the ClientHello) are never asked for */
    memcpy(buf + n, "\x16\x03\x01", 3);
    is_int(proxy_need(buf, n + 3), 28, "bytes past the header are not the header's");

    unsigned char v6_body[36 + 7] = {0};
    v6_body[15] = 1;                        /* src ::1 */
    v6_body[16] = 0xfd;                     /* dst fd00:: */
    v6_body[32] = 0x01, v6_body[33] = 0xBB; /* src port 443 */
    v6_body[34] = 0x20, v6_body[35] = 0xFB; /* dst port 8443 */
    /* one TLV: PP2_TYPE_NOOP, 4 bytes */
    v6_body[36] = 0x04, v6_body[37] = 0, v6_body[38] = 4;
    n = header(buf, 0x21, 0x21, v6_body, sizeof v6_body);
    ok(proxy_parse(buf, n, &h, &used, &why) == PROXY_OK, "TCP over IPv6 with a TLV");
    proxy_addr_text(&h.src, text, sizeof text);
    is_str(text, "[::1]:443", "IPv6 client address");
    is_int(used, 16 + 43, "the TLV is skipped, inside the header");

    v6_body[38] = 5; /* the TLV claims one byte more than there is */
    n = header(buf, 0x21, 0x21, v6_body, sizeof v6_body);
    is_int(proxy_parse(buf, n, &h, &used, &why), PROXY_BAD, "a TLV overrunning the header: bad");
    v6_body[38] = 4;
    n = header(buf, 0x21, 0x21, v6_body, 38); /* a TLV cut after its type and 1 length byte */
    is_int(proxy_parse(buf, n, &h, &used, &why), PROXY_BAD, "a cut TLV: bad");

    n = header(buf, 0x20, 0x00, NULL, 0);
    ok(proxy_parse(buf, n, &h, &used, &why) == PROXY_OK && h.local, "LOCAL (health check)");
    ok(h.src.family == PROXY_AF_NONE, "LOCAL: the connection's own address stands");
    n = header(buf, 0x20, 0x11, v4_body, sizeof v4_body);
    ok(proxy_parse(buf, n, &h, &used, &why) == PROXY_OK && h.src.family == PROXY_AF_NONE,
       "LOCAL with addresses: they are ignored");
    n = header(buf, 0x21, 0x00, NULL, 0);
    ok(proxy_parse(buf, n, &h, &used, &why) == PROXY_OK && h.src.family == PROXY_AF_NONE,
       "PROXY over an unspecified family: own address");

    n = header(buf, 0x21, 0x12, v4_body, sizeof v4_body);
    is_int(proxy_parse(buf, n, &h, &used, &why), PROXY_BAD, "UDP: bad");
    n = header(buf, 0x22, 0x11, v4_body, sizeof v4_body);
    is_int(proxy_parse(buf, n, &h, &used, &why), PROXY_BAD, "unknown command: bad");
    n = header(buf, 0x21, 0x11, v4_body, 8);
    is_int(proxy_parse(buf, n, &h, &used, &why), PROXY_BAD, "shorter than its addresses: bad");
    n = header(buf, 0x11, 0x11, v4_body, sizeof v4_body);
    is_int(proxy_need(buf, 13), 0, "version 1 in the binary form: refused at its 13th byte");
    is_int(proxy_parse(buf, n, &h, &used, &why), PROXY_BAD, "version 1: bad");

    memcpy(buf, "\x16\x03\x01\x02\x00", 5); /* a ClientHello straight away */
    is_int(proxy_need(buf, 1), 0, "a TLS record instead: refused at its first byte");
    memcpy(buf, "PROXY TCP4 ", 11);
    is_int(proxy_need(buf, 11), 0, "the text form (v1): refused");

    header(buf, 0x21, 0x11, v4_body, sizeof v4_body);
    buf[14] = 0x04, buf[15] = 0x01; /* 1025 bytes */
    is_int(proxy_need(buf, 16), 0, "longer than PROXY_V2_MAX: refused before reading it");
    buf[14] = 0x04, buf[15] = 0x00; /* 1024: the largest */
    is_int(proxy_need(buf, 16), PROXY_V2_MAX, "exactly PROXY_V2_MAX: accepted");

    /* proxy_trusted */
    struct proxy_trust t;
    char err[160];
    ok(proxy_trust_parse("127.0.0.1, 10.0.0.0/8 ::1,fd00::/8", &t, err, sizeof err), "list parses");
    is_int(t.n, 4, "four entries");
    unsigned char a4[4] = {127, 0, 0, 1}, b4[4] = {10, 200, 3, 4}, c4[4] = {11, 0, 0, 1};
    ok(proxy_trusted(&t, PROXY_AF_INET, a4), "127.0.0.1 trusted");
    ok(proxy_trusted(&t, PROXY_AF_INET, b4), "10.200.3.4 inside 10.0.0.0/8");
    ok(!proxy_trusted(&t, PROXY_AF_INET, c4), "11.0.0.1 not trusted");
    unsigned char l6[16] = {0}, m6[16] = {0}, f6[16] = {0xfd, 0x12};
    l6[15] = 1;
    ok(proxy_trusted(&t, PROXY_AF_INET6, l6), "::1 trusted");
    ok(proxy_trusted(&t, PROXY_AF_INET6, f6), "fd12:: inside fd00::/8");
    m6[10] = 0xFF, m6[11] = 0xFF, m6[12] = 10, m6[13] = 1;
    ok(proxy_trusted(&t, PROXY_AF_INET6, m6), "::ffff:10.1.0.0 is the IPv4 10.1.0.0");
    ok(proxy_trust_parse("192.168.1.128/25", &t, err, sizeof err), "a /25 parses");
    unsigned char in25[4] = {192, 168, 1, 200}, out25[4] = {192, 168, 1, 100};
    ok(proxy_trusted(&t, PROXY_AF_INET, in25) && !proxy_trusted(&t, PROXY_AF_INET, out25),
       "a prefix not on a byte boundary");
    ok(proxy_trust_parse("", &t, err, sizeof err) && t.n == 0, "empty: nobody");
    ok(!proxy_trusted(&t, PROXY_AF_INET, a4), "empty list trusts no one");
    ok(!proxy_trust_parse("localhost", &t, err, sizeof err), "a name is refused");
    ok(strstr(err, "localhost") != NULL, "the error names the entry");
    ok(!proxy_trust_parse("10.0.0.0/33", &t, err, sizeof err), "prefix past 32 refused");
    ok(!proxy_trust_parse("10.0.0.0/", &t, err, sizeof err), "empty prefix refused");
    ok(!proxy_trust_parse("10.0.0.0/8x", &t, err, sizeof err), "prefix with junk refused");
    return done_testing();
}
