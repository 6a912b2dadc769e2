/*
 * hex: lowercase hexadecimal, and SHA-256 in hex (the registry's hashes:
 * audit chain, idempotency, migration checksums, certificate fingerprints).
 */
#ifndef MEDAID_BASE_HEX_H
#define MEDAID_BASE_HEX_H

#include <stdbool.h>
#include <stddef.h>

#define SHA256_HEX_LEN 64

/* out holds 2 * n + 1 bytes; NUL-terminated */
void hex_encode(const unsigned char *in, size_t n, char *out);
/* Decode exactly 2 * n hex digits (either case) into out; false on a bad digit. */
bool hex_decode(const char *in, size_t n, unsigned char *out);
/* Value of one hex digit, or -1. */
int hex_digit(int ch);
/* SHA-256 of the concatenation of up to two pieces (b may be NULL), in hex;
 * out holds SHA256_HEX_LEN + 1 bytes. */
void sha256_hex2(const void *a, size_t an, const void *b, size_t bn, char *out);
void sha256_hex(const void *data, size_t n, char *out);

#endif
