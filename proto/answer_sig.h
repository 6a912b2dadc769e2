/*
 * answer_sig: the signature object of a coverage answer (an agreement).
 *
 *   "signature": {"algorithm": "Ed25519", "key_id": "<hex>", "value": "<base64>"}
 *
 * The signature is over the answer's RFC 8785 form (proto/jcs.h) without
 * its "signature" member. Shared by the daemon, which signs, and the
 * client, which verifies. Pure: no I/O, no keys.
 */
#ifndef MEDAID_ANSWER_SIG_H
#define MEDAID_ANSWER_SIG_H

#include <stdbool.h>
#include <stddef.h>

#define ANSWER_SIG_ALGORITHM "Ed25519"

/* What is signed: the canonical form of the JSON object text[0..len)
 * without its "signature" member; malloc'd, NULL when text is not a JSON
 * object or has no canonical form. */
char *answer_sig_payload(const char *text, size_t len);

/* text, a JSON object without a "signature" member, with one appended as
 * its last member; malloc'd. NULL when text does not end in '}'. */
char *answer_sig_attach(const char *text, const char *key_id, const char *value_b64);

/* The signature object of the answer text[0..len): key_id and value
 * copied (NUL-terminated) into the buffers. false when the answer has no
 * signature object, or one that is not exactly {algorithm "Ed25519",
 * key_id, value} of strings that fit. */
bool answer_sig_get(const char *text, size_t len, char *key_id, size_t key_id_size, char *value,
                    size_t value_size);

#endif
