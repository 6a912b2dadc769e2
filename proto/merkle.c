/*
 * merkle: RFC 9162 tree hashing and proof verification.
 */
#include "merkle.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

static void sha256_parts(const void *a, size_t an, const void *b, size_t bn, const void *c,
                         size_t cn, merkle_hash out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int len = 0;
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, a, an) != 1 || (bn && EVP_DigestUpdate(ctx, b, bn) != 1) ||
        (cn && EVP_DigestUpdate(ctx, c, cn) != 1) || EVP_DigestFinal_ex(ctx, out, &len) != 1 ||
        len != MERKLE_HASH_LEN)
        memset(out, 0, MERKLE_HASH_LEN); /* only when out of memory: proofs then fail */
    EVP_MD_CTX_free(ctx);
}

void merkle_leaf_hash(const void *record, size_t len, merkle_hash out)
{
    static const uint8_t zero = 0x00;
    sha256_parts(&zero, 1, record, len, NULL, 0, out);
}

void merkle_node_hash(const merkle_hash left, const merkle_hash right, merkle_hash out)
{
    static const uint8_t one = 0x01;
    sha256_parts(&one, 1, left, MERKLE_HASH_LEN, right, MERKLE_HASH_LEN, out);
}

/* the largest power of two below n (n >= 2) */
static size_t split(size_t n)
{
    size_t k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

void merkle_root(const merkle_hash *leaves, size_t n, merkle_hash out)
{
    if (n == 0) {
        sha256_parts("", 0, NULL, 0, NULL, 0, out);
        return;
    }
    if (n == 1) {
        memcpy(out, leaves[0], MERKLE_HASH_LEN);
        return;
    }
    size_t k = split(n);
    merkle_hash l, r;
    merkle_root(leaves, k, l);
    merkle_root(leaves + k, n - k, r);
    merkle_node_hash(l, r, out);
}

bool merkle_root_from_inclusion(uint64_t index, uint64_t size, const merkle_hash leaf,
                                const merkle_hash *path, size_t n, merkle_hash out)
{
    if (index >= size || size > MERKLE_SIZE_MAX)
        return false;
    uint64_t fn = index, sn = size - 1;
    merkle_hash r;
    memcpy(r, leaf, MERKLE_HASH_LEN);
    for (size_t i = 0; i < n; i++) {
        if (sn == 0)
            return false;
        if ((fn & 1) || fn == sn) {
            merkle_node_hash(path[i], r, r);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            merkle_node_hash(r, path[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return false;
    memcpy(out, r, MERKLE_HASH_LEN);
    return true;
}

bool merkle_verify_inclusion(uint64_t index, uint64_t size, const merkle_hash leaf,
                             const merkle_hash *path, size_t n, const merkle_hash root)
{
    merkle_hash r;
    return merkle_root_from_inclusion(index, size, leaf, path, n, r) &&
           memcmp(r, root, MERKLE_HASH_LEN) == 0;
}

bool merkle_verify_consistency(uint64_t size1, uint64_t size2, const merkle_hash root1,
                               const merkle_hash root2, const merkle_hash *path, size_t n)
{
    if (size1 > size2 || size2 > MERKLE_SIZE_MAX)
        return false;
    if (size1 == size2)
        return n == 0 && memcmp(root1, root2, MERKLE_HASH_LEN) == 0;
    if (size1 == 0)
        return n == 0;
    if (n == 0 || n >= MERKLE_PATH_MAX)
        return false;
    /* 2.1.4.2, step 2: a first tree of 2^k leaves is a node of the second,
     * its root the path's first value */
    merkle_hash p[MERKLE_PATH_MAX + 1];
    size_t np = 0;
    if ((size1 & (size1 - 1)) == 0)
        memcpy(p[np++], root1, MERKLE_HASH_LEN);
    for (size_t i = 0; i < n; i++)
        memcpy(p[np++], path[i], MERKLE_HASH_LEN);
    uint64_t fn = size1 - 1, sn = size2 - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    merkle_hash fr, sr;
    memcpy(fr, p[0], MERKLE_HASH_LEN);
    memcpy(sr, p[0], MERKLE_HASH_LEN);
    for (size_t i = 1; i < np; i++) {
        if (sn == 0)
            return false;
        if ((fn & 1) || fn == sn) {
            merkle_node_hash(p[i], fr, fr);
            merkle_node_hash(p[i], sr, sr);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            merkle_node_hash(sr, p[i], sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(fr, root1, MERKLE_HASH_LEN) == 0 &&
           memcmp(sr, root2, MERKLE_HASH_LEN) == 0;
}

bool merkle_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || (s[0] == '0' && s[1]))
        return false;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || p - s > 19)
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > MERKLE_SIZE_MAX)
            return false;
    }
    *out = v;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool merkle_hash_from_hex(const char *s, merkle_hash h)
{
    if (!s || strlen(s) != 2 * MERKLE_HASH_LEN)
        return false;
    for (size_t i = 0; i < MERKLE_HASH_LEN; i++) {
        int a = hexval(s[2 * i]), b = hexval(s[2 * i + 1]);
        if (a < 0 || b < 0)
            return false;
        h[i] = (uint8_t)(a * 16 + b);
    }
    return true;
}

size_t merkle_head_text(const char *created_at, const char *key_id, uint64_t tree_size,
                        const char *root_hex, char *out, size_t cap)
{
    int n = snprintf(out, cap,
                     "medaid audit tree head v1\ncreated_at %s\nkey_id %s\ntree_size %llu\n"
                     "root_hash %s\n",
                     created_at, key_id, (unsigned long long)tree_size, root_hex);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
