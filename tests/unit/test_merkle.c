/*
 * test_merkle: proto/merkle.c against RFC 9162-style vectors.
 *
 * The vectors (the eight leaves and the roots of RFC 6962's reference test
 * data, the same hashing as RFC 9162) and the expected paths were computed
 * independently, with Python's hashlib from the RFC's recursive definitions
 * of MTH, PATH and PROOF. Every proof of every tree up to 40 leaves made
 * here by those recursive definitions must verify, and any changed byte,
 * index or size must not.
 */
#include <stdlib.h>
#include <string.h>

#include "merkle.h"
#include "tap.h"

static const char *const leaf_hex[8] = {"",
                                        "00",
                                        "10",
                                        "2021",
                                        "3031",
                                        "40414243",
                                        "5051525354555657",
                                        "606162636465666768696a6b6c6d6e6f"};

static const char *const roots[8] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

struct vec {
    unsigned a, b;
    const char *path;
};

/* inclusion: index, size, path (deepest first) */
static const struct vec inclusion[] = {
    {0, 1, ""},
    {0, 8,
     "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7,"
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e,"
     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"},
    {5, 8,
     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b,"
     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0,"
     "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"},
    {2, 3, "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"},
    {1, 5,
     "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d,"
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e,"
     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"},
    {4, 5, "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"},
    {6, 7,
     "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a,"
     "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"},
    {3, 8,
     "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7,"
     "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125,"
     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"},
};
/* consistency: size1, size2, path */
static const struct vec consistency[] = {
    {1, 1, ""},
    {1, 8,
     "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7,"
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e,"
     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"},
    {6, 8,
     "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a,"
     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0,"
     "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"},
    {2, 5,
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e,"
     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"},
    {4, 7, "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e"},
    {3, 7,
     "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7,"
     "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7,"
     "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125,"
     "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e"},
    {5, 8,
     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b,"
     "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658,"
     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0,"
     "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"},
    {7, 8,
     "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f,"
     "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1,"
     "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a,"
     "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"},
};

static merkle_hash leaves[64];

static void make_leaves(void)
{
    for (int i = 0; i < 8; i++) {
        uint8_t raw[16];
        size_t n = strlen(leaf_hex[i]) / 2;
        for (size_t j = 0; j < n; j++) {
            unsigned v;
            sscanf(leaf_hex[i] + 2 * j, "%2x", &v);
            raw[j] = (uint8_t)v;
        }
        merkle_leaf_hash(raw, n, leaves[i]);
    }
    for (int i = 8; i < 64; i++) {
        char rec[32];
        int n = snprintf(rec, sizeof rec, "record %d", i);
        merkle_leaf_hash(rec, (size_t)n, leaves[i]);
    }
}

static size_t parse_path(const char *s, merkle_hash *out)
{
    size_t n = 0;
    while (*s) {
        char one[65];
        memcpy(one, s, 64);
        one[64] = 0;
        if (!merkle_hash_from_hex(one, out[n]))
            return (size_t)-1;
        n++;
        s += 64;
        if (*s == ',')
            s++;
    }
    return n;
}

/* ---- proofs by the recursive definitions (RFC 9162 2.1.3.1, 2.1.4.1) ---- */

static size_t split(size_t n)
{
    size_t k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

static size_t ref_path(size_t m, const merkle_hash *d, size_t n, merkle_hash *out)
{
    if (n <= 1)
        return 0;
    size_t k = split(n), len;
    if (m < k) {
        len = ref_path(m, d, k, out);
        merkle_root(d + k, n - k, out[len]);
    } else {
        len = ref_path(m - k, d + k, n - k, out);
        merkle_root(d, k, out[len]);
    }
    return len + 1;
}

static size_t ref_subproof(size_t m, const merkle_hash *d, size_t n, bool whole, merkle_hash *out)
{
    if (m == n) {
        if (whole)
            return 0;
        merkle_root(d, n, out[0]);
        return 1;
    }
    size_t k = split(n), len;
    if (m <= k) {
        len = ref_subproof(m, d, k, whole, out);
        merkle_root(d + k, n - k, out[len]);
    } else {
        len = ref_subproof(m - k, d + k, n - k, false, out);
        merkle_root(d, k, out[len]);
    }
    return len + 1;
}

int main(void)
{
    make_leaves();
    merkle_hash h, r;

    merkle_root(leaves, 0, h);
    ok(merkle_hash_from_hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                            r) &&
           memcmp(h, r, 32) == 0,
       "the empty tree's root is SHA-256 of nothing");
    for (int n = 1; n <= 8; n++) {
        merkle_root(leaves, (size_t)n, h);
        ok(merkle_hash_from_hex(roots[n - 1], r) && memcmp(h, r, 32) == 0, "root of %d leaves", n);
    }

    merkle_hash root8, path[MERKLE_PATH_MAX];
    merkle_root(leaves, 8, root8);
    for (size_t i = 0; i < sizeof inclusion / sizeof *inclusion; i++) {
        const struct vec *v = &inclusion[i];
        size_t n = parse_path(v->path, path);
        merkle_hash root;
        merkle_root(leaves, v->b, root);
        ok(merkle_verify_inclusion(v->a, v->b, leaves[v->a], path, n, root),
           "inclusion of leaf %u in %u (vector)", v->a, v->b);
        merkle_hash ref[MERKLE_PATH_MAX];
        size_t rn = ref_path(v->a, leaves, v->b, ref);
        ok(rn == n && memcmp(ref, path, n * 32) == 0,
           "the recursive path of %u in %u is the vector's", v->a, v->b);
        if (v->b > 1) {
            ok(!merkle_verify_inclusion(v->a, v->b, leaves[(v->a + 1) % v->b], path, n, root),
               "another leaf at %u in %u fails", v->a, v->b);
            ok(!merkle_verify_inclusion((v->a + 1) % v->b, v->b, leaves[v->a], path, n, root),
               "leaf %u at another index of %u fails", v->a, v->b);
        }
        /* (the size is bound by the signed head, not by the path: leaf 1 of 5
         * and of 6 have the same path; an index past the size never verifies) */
        ok(!merkle_verify_inclusion(v->b, v->b, leaves[v->a], path, n, root),
           "index %u in a tree of %u fails", v->b, v->b);
    }
    for (size_t i = 0; i < sizeof consistency / sizeof *consistency; i++) {
        const struct vec *v = &consistency[i];
        size_t n = parse_path(v->path, path);
        merkle_hash r1, r2;
        merkle_root(leaves, v->a, r1);
        merkle_root(leaves, v->b, r2);
        ok(merkle_verify_consistency(v->a, v->b, r1, r2, path, n), "consistency %u -> %u (vector)",
           v->a, v->b);
        merkle_hash ref[MERKLE_PATH_MAX];
        size_t rn = ref_subproof(v->a, leaves, v->b, true, ref);
        ok(rn == n && memcmp(ref, path, n * 32) == 0,
           "the recursive proof %u -> %u is the vector's", v->a, v->b);
        if (v->a < v->b) {
            r1[0] ^= 1;
            ok(!merkle_verify_consistency(v->a, v->b, r1, r2, path, n),
               "consistency %u -> %u with a changed first root fails", v->a, v->b);
        }
    }
    ok(!merkle_verify_consistency(8, 7, root8, root8, path, 0), "a smaller second tree fails");
    ok(merkle_verify_consistency(0, 8, root8, root8, path, 0), "every tree extends the empty one");

    /* every proof of every tree of up to 40 leaves, and each one altered */
    int bad = 0, checked = 0;
    for (size_t n = 1; n <= 40; n++) {
        merkle_hash root;
        merkle_root(leaves, n, root);
        for (size_t m = 0; m < n; m++) {
            size_t len = ref_path(m, leaves, n, path);
            checked++;
            if (!merkle_verify_inclusion(m, n, leaves[m], path, len, root))
                bad++;
            for (size_t j = 0; j < len; j++) {
                path[j][j % 32] ^= 0x40;
                if (merkle_verify_inclusion(m, n, leaves[m], path, len, root))
                    bad++;
                path[j][j % 32] ^= 0x40;
            }
            if (len > 0 && merkle_verify_inclusion(m, n, leaves[m], path, len - 1, root))
                bad++;
        }
        for (size_t m = 1; m <= n; m++) {
            merkle_hash r1;
            merkle_root(leaves, m, r1);
            size_t len = ref_subproof(m, leaves, n, true, path);
            checked++;
            if (!merkle_verify_consistency(m, n, r1, root, path, len))
                bad++;
            for (size_t j = 0; j < len; j++) {
                path[j][31 - j % 32] ^= 0x02;
                if (merkle_verify_consistency(m, n, r1, root, path, len))
                    bad++;
                path[j][31 - j % 32] ^= 0x02;
            }
            if (m < n && merkle_verify_consistency(m, n, root, root, path, len))
                bad++;
        }
    }
    ok(bad == 0 && checked > 1000,
       "every proof of trees 1..40 verifies, every altered one fails (%d checked, %d wrong)",
       checked, bad);

    uint64_t x;
    ok(merkle_parse_u64("0", &x) && x == 0, "parse 0");
    ok(merkle_parse_u64("4096", &x) && x == 4096, "parse 4096");
    ok(merkle_parse_u64("4611686018427387904", &x) && x == MERKLE_SIZE_MAX, "parse 2^62");
    ok(!merkle_parse_u64("4611686018427387905", &x), "2^62 + 1 refused");
    ok(!merkle_parse_u64("99999999999999999999999", &x), "too long refused");
    ok(!merkle_parse_u64("", &x) && !merkle_parse_u64("-1", &x) && !merkle_parse_u64("+1", &x) &&
           !merkle_parse_u64("01", &x) && !merkle_parse_u64("1x", &x) &&
           !merkle_parse_u64(" 1", &x),
       "empty, signs, leading zeros, junk refused");
    char text[300];
    size_t tl = merkle_head_text("2026-12-01T00:00:00.000000Z", "ab", 7, "cd", text, sizeof text);
    is_str(text,
           "medaid audit tree head v1\ncreated_at 2026-12-01T00:00:00.000000Z\nkey_id ab\n"
           "tree_size 7\nroot_hash cd\n",
           "the signed text of a tree head");
    ok(tl == strlen(text) && merkle_head_text("x", "y", 1, "z", text, 10) == 0,
       "its length; too small a buffer");
    return done_testing();
}
