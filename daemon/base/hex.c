/*
 * hex: lowercase hexadecimal and SHA-256 digests in hex.
 */
#include "base/hex.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "base/mem.h"

void hex_encode(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int hex_digit(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

bool hex_decode(const char *in, size_t n, unsigned char *out)
{
    for (size_t i = 0; i < n; i++) {
        int hi = hex_digit((unsigned char)in[2 * i]), lo = hex_digit((unsigned char)in[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

void sha256_hex2(const void *a, size_t an, const void *b, size_t bn, char *out)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    ASSERT(ctx != NULL);
    bool ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(ctx, a, an) == 1 && (!b || EVP_DigestUpdate(ctx, b, bn) == 1) &&
              EVP_DigestFinal_ex(ctx, md, &mdlen) == 1;
    EVP_MD_CTX_free(ctx);
    /* SHA-256 in OpenSSL's default provider fails only when memory does */
    ASSERT(ok && mdlen == SHA256_DIGEST_LENGTH);
    hex_encode(md, SHA256_DIGEST_LENGTH, out);
}

void sha256_hex(const void *data, size_t n, char *out)
{
    sha256_hex2(data, n, NULL, 0, out);
}
