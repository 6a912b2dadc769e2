/*
 * proxy: the PROXY protocol version 2 header a TCP balancer (HAProxy's
 * send-proxy-v2) puts before the client's first byte, and the list of the
 * peers trusted to send one (proxy_trusted). Pure: no I/O (the reading is
 * net/conn.c's), so the unit test and the fuzz target drive it directly.
 *
 * The header: a 12-byte signature, a version/command byte (0x20 LOCAL,
 * 0x21 PROXY), a family/transport byte (0x11 TCP over IPv4, 0x21 TCP over
 * IPv6, 0x00 unspecified), a 16-bit big-endian length, then that many bytes:
 * the addresses and ports, then TLVs (type, 16-bit length, value), which
 * are checked to fit and otherwise skipped.
 */
#ifndef MEDAID_NET_PROXY_H
#define MEDAID_NET_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROXY_V2_FIXED 16
/* the largest header accepted (addresses + TLVs); a longer one is refused */
#define PROXY_V2_MAX (PROXY_V2_FIXED + 1024)

enum proxy_family { PROXY_AF_NONE, PROXY_AF_INET, PROXY_AF_INET6 };

struct proxy_addr {
    enum proxy_family family;
    unsigned char bytes[16]; /* 4 for IPv4 */
    uint16_t port;
};

/* what a whole header says: LOCAL (or PROXY over an unspecified family)
 * leaves src.family PROXY_AF_NONE: the connection's own address stands */
struct proxy_header {
    bool local;
    struct proxy_addr src, dst;
};

/* How many bytes the header that begins buf[0..n) takes in all: >= n when
 * known (PROXY_V2_FIXED while the fixed part is incomplete), 0 when what is
 * there already cannot be a header (wrong signature or version, longer than
 * PROXY_V2_MAX). A reader asks for exactly the difference, so it never
 * takes a byte past the header. */
size_t proxy_need(const unsigned char *buf, size_t n);

enum proxy_result {
    PROXY_OK,
    PROXY_INCOMPLETE, /* fewer bytes than the header takes */
    PROXY_BAD,        /* not a v2 header, or one that contradicts itself */
};
/* Parse one whole header at buf (n bytes, at least proxy_need()); *used:
 * its length. reason (on PROXY_BAD): a fixed text for the log. */
enum proxy_result proxy_parse(const unsigned char *buf, size_t n, struct proxy_header *out,
                              size_t *used, const char **reason);

/* "a.b.c.d:port" or "[v6]:port" */
void proxy_addr_text(const struct proxy_addr *a, char *out, size_t n);

/* proxy_trusted: addresses and prefixes ("127.0.0.1, 10.0.0.0/8, ::1,
 * fd00::/8"), separated by commas or spaces */
#define PROXY_TRUST_MAX 32
struct proxy_trust {
    size_t n;
    struct {
        enum proxy_family family;
        unsigned char bytes[16];
        unsigned prefix; /* bits */
    } net[PROXY_TRUST_MAX];
};
/* false: err (size en) says which entry is wrong */
bool proxy_trust_parse(const char *text, struct proxy_trust *t, char *err, size_t en);
/* addr (4 or 16 bytes, by family) is inside one of t's prefixes */
bool proxy_trusted(const struct proxy_trust *t, enum proxy_family family,
                   const unsigned char *bytes);

#endif
