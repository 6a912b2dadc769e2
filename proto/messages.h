/*
 * messages: every readable text of the wire contract, in the four languages
 * (DOMAIN.md "The provider's question": Dutch, French, German, English),
 * and the language a client asks for. One table, keyed by the stable code:
 * a refusal reason ("no_active_decision"), an item refusal
 * ("unknown_code"), a problem's title ("problem.not_found"), a per-field
 * error's message by its code ("error.required"), a problem's detail by
 * its English text ("no such agreement").
 * An answer carries "message" in the language asked and "messages" with
 * nl, fr and de (MediPrima answers in at least two languages).
 */
#ifndef MEDAID_PROTO_MESSAGES_H
#define MEDAID_PROTO_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>

enum lang { LANG_EN, LANG_NL, LANG_FR, LANG_DE, LANG__COUNT };

/* Pick en, nl, fr or de from an Accept-Language header value (q-values
 * honoured, "nl-BE" matches nl, the first of equal q-values wins, "*" and
 * anything else -> en). NULL -> en. */
enum lang lang_from_accept(const char *hdr);
const char *lang_tag(enum lang l); /* "en", "nl", "fr", "de" */

/* The text of code in l; NULL when the table has no such code. */
const char *message_text(const char *code, enum lang l);

/* The codes of the table, by index (NULL past the end): for the tests. */
const char *message_code(size_t i);

/* Add to the JSON object o "message" (code's text in l) and "messages"
 * ({"nl","fr","de"}). False when code has no text or memory ran out. */
struct cJSON;
bool message_add(struct cJSON *o, const char *code, enum lang l);

#endif
