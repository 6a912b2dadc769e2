/*
 * hex: bytes as hexadecimal digits (the client's one helper for it).
 */
#ifndef MEDAID_CLIENT_HEX_H
#define MEDAID_CLIENT_HEX_H

#include <stddef.h>

/* in[0..n) as 2n lower-case digits and a NUL; out holds 2n + 1 bytes */
void hex_encode(const unsigned char *in, size_t n, char *out);
/* the upper-case digit of v & 15 (percent-encoding, RFC 3986) */
char hex_digit_upper(unsigned v);

#endif
