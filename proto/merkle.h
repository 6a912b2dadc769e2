/*
 * merkle: the audit trail's Merkle tree (RFC 9162, section 2.1), pure.
 *
 * Leaf hash: SHA-256(0x00 || record); node hash: SHA-256(0x01 || left ||
 * right); the record of an audit entry is the UTF-8 text of its canonical
 * form (schema/012_merkle.sql, docs/verifying.md). The verifiers follow
 * RFC 9162 2.1.3.2 (inclusion) and 2.1.4.2 (consistency) step by step; the
 * daemon's proofs are made by the database (schema/012), so these are an
 * independent check, shared by the client and the unit tests.
 */
#ifndef MEDAID_PROTO_MERKLE_H
#define MEDAID_PROTO_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_LEN 32
#define MERKLE_PATH_MAX 64                  /* hashes in a proof, at most */
#define MERKLE_SIZE_MAX (UINT64_C(1) << 62) /* a tree size or index, at most */

typedef uint8_t merkle_hash[MERKLE_HASH_LEN];

void merkle_leaf_hash(const void *record, size_t len, merkle_hash out);
void merkle_node_hash(const merkle_hash left, const merkle_hash right, merkle_hash out);
/* MTH of n leaf hashes (n = 0: SHA-256 of nothing), by the definition
 * (recursive; for tests and small trees) */
void merkle_root(const merkle_hash *leaves, size_t n, merkle_hash out);

/* The root that the inclusion path (n hashes, deepest first) gives for leaf
 * index in a tree of size leaves; false when the path cannot be one
 * (index >= size, wrong length). */
bool merkle_root_from_inclusion(uint64_t index, uint64_t size, const merkle_hash leaf,
                                const merkle_hash *path, size_t n, merkle_hash out);
/* true when the path proves leaf is leaf index of the tree (size, root) */
bool merkle_verify_inclusion(uint64_t index, uint64_t size, const merkle_hash leaf,
                             const merkle_hash *path, size_t n, const merkle_hash root);
/* true when the path proves that the tree (size1, root1) is the first size1
 * leaves of the tree (size2, root2). size1 = size2: the path is empty and
 * the roots equal; size1 = 0: any tree extends the empty one (empty path). */
bool merkle_verify_consistency(uint64_t size1, uint64_t size2, const merkle_hash root1,
                               const merkle_hash root2, const merkle_hash *path, size_t n);

/* A tree size or index as the API writes it: decimal digits only, no sign,
 * no leading zero (but "0"), at most MERKLE_SIZE_MAX. */
bool merkle_parse_u64(const char *s, uint64_t *out);
/* 64 hex digits (either case) into h */
bool merkle_hash_from_hex(const char *s, merkle_hash h);

/* The text a tree head's signature covers, "\n" after each line:
 *     medaid audit tree head v1
 *     created_at <RFC 3339 UTC, microseconds>
 *     key_id <hex>
 *     tree_size <n>
 *     root_hash <hex>
 * into out (cap bytes); its length, or 0 when it does not fit. */
size_t merkle_head_text(const char *created_at, const char *key_id, uint64_t tree_size,
                        const char *root_hex, char *out, size_t cap);

#endif
