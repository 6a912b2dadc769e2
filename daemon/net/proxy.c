/*
 * proxy: the PROXY protocol v2 header and the trusted peers (see proxy.h).
 */
#include "net/proxy.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static const unsigned char signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                            0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

#define CMD_LOCAL  0x0
#define CMD_PROXY  0x1
#define FAM_UNSPEC 0x00
#define FAM_TCP4   0x11
#define FAM_TCP6   0x21

size_t proxy_need(const unsigned char *buf, size_t n)
{
    size_t sig = n < sizeof signature ? n : sizeof signature;
    if (memcmp(buf, signature, sig) != 0)
        return 0;
    if (n > 12 && (buf[12] >> 4) != 0x2)
        return 0;
    if (n < PROXY_V2_FIXED)
        return PROXY_V2_FIXED;
    size_t len = (size_t)buf[14] << 8 | buf[15];
    if (PROXY_V2_FIXED + len > PROXY_V2_MAX)
        return 0;
    return PROXY_V2_FIXED + len;
}

static void take_addr(struct proxy_addr *a, enum proxy_family f, const unsigned char *bytes,
                      const unsigned char *port)
{
    memset(a, 0, sizeof *a);
    a->family = f;
    memcpy(a->bytes, bytes, f == PROXY_AF_INET ? 4 : 16);
    a->port = (uint16_t)(port[0] << 8 | port[1]);
}

/* the TLVs after the addresses: each must fit in what is left */
static bool tlvs_fit(const unsigned char *p, size_t n)
{
    while (n > 0) {
        if (n < 3)
            return false;
        size_t len = (size_t)p[1] << 8 | p[2];
        if (len > n - 3)
            return false;
        p += 3 + len;
        n -= 3 + len;
    }
    return true;
}

enum proxy_result proxy_parse(const unsigned char *buf, size_t n, struct proxy_header *out,
                              size_t *used, const char **reason)
{
    static const char *const none = "";
    *reason = none;
    memset(out, 0, sizeof *out);
    size_t need = proxy_need(buf, n);
    if (need == 0) {
        *reason = "not a PROXY v2 header (signature, version or length)";
        return PROXY_BAD;
    }
    if (n < need)
        return PROXY_INCOMPLETE;
    unsigned cmd = buf[12] & 0x0F;
    unsigned fam = buf[13];
    const unsigned char *body = buf + PROXY_V2_FIXED;
    size_t len = need - PROXY_V2_FIXED;
    if (cmd != CMD_LOCAL && cmd != CMD_PROXY) {
        *reason = "PROXY v2 header: unknown command";
        return PROXY_BAD;
    }
    size_t addr_len;
    switch (fam) {
    case FAM_UNSPEC:
        addr_len = 0;
        break;
    case FAM_TCP4:
        addr_len = 12;
        break;
    case FAM_TCP6:
        addr_len = 36;
        break;
    default:
        /* UDP and Unix sockets make no sense for a TLS stream */
        if (cmd == CMD_PROXY) {
            *reason = "PROXY v2 header: not TCP over IPv4 or IPv6";
            return PROXY_BAD;
        }
        addr_len = 0;
    }
    if (len < addr_len) {
        *reason = "PROXY v2 header: shorter than its addresses";
        return PROXY_BAD;
    }
    if (!tlvs_fit(body + addr_len, len - addr_len)) {
        *reason = "PROXY v2 header: a TLV overruns the header";
        return PROXY_BAD;
    }
    *used = need;
    out->local = cmd == CMD_LOCAL;
    /* LOCAL (the balancer's own health check) or an unspecified family:
     * the connection's own endpoints stand */
    if (cmd == CMD_LOCAL || addr_len == 0)
        return PROXY_OK;
    if (fam == FAM_TCP4) {
        take_addr(&out->src, PROXY_AF_INET, body, body + 8);
        take_addr(&out->dst, PROXY_AF_INET, body + 4, body + 10);
    } else {
        take_addr(&out->src, PROXY_AF_INET6, body, body + 32);
        take_addr(&out->dst, PROXY_AF_INET6, body + 16, body + 34);
    }
    return PROXY_OK;
}

void proxy_addr_text(const struct proxy_addr *a, char *out, size_t n)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (a->family == PROXY_AF_INET) {
        inet_ntop(AF_INET, a->bytes, host, sizeof host);
        snprintf(out, n, "%s:%u", host, (unsigned)a->port);
    } else if (a->family == PROXY_AF_INET6) {
        inet_ntop(AF_INET6, a->bytes, host, sizeof host);
        snprintf(out, n, "[%s]:%u", host, (unsigned)a->port);
    } else {
        snprintf(out, n, "?");
    }
}

static bool is_sep(char ch)
{
    return ch == ',' || ch == ' ' || ch == '\t';
}

bool proxy_trust_parse(const char *text, struct proxy_trust *t, char *err, size_t en)
{
    memset(t, 0, sizeof *t);
    const char *p = text;
    for (;;) {
        while (*p && is_sep(*p))
            p++;
        if (!*p)
            return true;
        const char *e = p;
        while (*e && !is_sep(*e))
            e++;
        char item[64];
        if ((size_t)(e - p) >= sizeof item) {
            snprintf(err, en, "proxy_trusted: entry \"%.*s\" is too long", (int)(e - p), p);
            return false;
        }
        memcpy(item, p, (size_t)(e - p));
        item[e - p] = '\0';
        if (t->n == PROXY_TRUST_MAX) {
            snprintf(err, en, "proxy_trusted: more than %d entries", PROXY_TRUST_MAX);
            return false;
        }
        char *slash = strchr(item, '/');
        if (slash)
            *slash = '\0';
        unsigned char bytes[16] = {0};
        enum proxy_family f;
        unsigned max;
        if (inet_pton(AF_INET, item, bytes) == 1) {
            f = PROXY_AF_INET;
            max = 32;
        } else if (inet_pton(AF_INET6, item, bytes) == 1) {
            f = PROXY_AF_INET6;
            max = 128;
        } else {
            snprintf(err, en, "proxy_trusted: \"%s\" is not an IPv4 or IPv6 address", item);
            return false;
        }
        unsigned prefix = max;
        if (slash) {
            const char *d = slash + 1;
            unsigned v = 0;
            if (!*d || strlen(d) > 3)
                goto bad_prefix;
            for (; *d; d++) {
                if (*d < '0' || *d > '9')
                    goto bad_prefix;
                v = v * 10 + (unsigned)(*d - '0');
            }
            if (v > max)
                goto bad_prefix;
            prefix = v;
        }
        t->net[t->n].family = f;
        memcpy(t->net[t->n].bytes, bytes, sizeof bytes);
        t->net[t->n].prefix = prefix;
        t->n++;
        p = e;
        continue;
    bad_prefix:
        snprintf(err, en, "proxy_trusted: \"%s/%s\": bad prefix length", item, slash + 1);
        return false;
    }
}

static bool prefix_match(const unsigned char *a, const unsigned char *b, unsigned bits)
{
    size_t whole = bits / 8;
    if (memcmp(a, b, whole) != 0)
        return false;
    unsigned rest = bits % 8;
    if (!rest)
        return true;
    unsigned char mask = (unsigned char)(0xFF << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

bool proxy_trusted(const struct proxy_trust *t, enum proxy_family family,
                   const unsigned char *bytes)
{
    /* an IPv4 peer on an IPv6 socket (::ffff:a.b.c.d) is that IPv4 address */
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    if (family == PROXY_AF_INET6 && memcmp(bytes, mapped, 12) == 0) {
        family = PROXY_AF_INET;
        bytes += 12;
    }
    for (size_t i = 0; i < t->n; i++)
        if (t->net[i].family == family && prefix_match(t->net[i].bytes, bytes, t->net[i].prefix))
            return true;
    return false;
}
