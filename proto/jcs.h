/*
 * jcs: RFC 8785 JSON Canonicalization Scheme.
 *
 * Object members sorted by their names as UTF-16 code units, no
 * whitespace, strings with only the escapes the RFC allows (\" \\ \b \f \n
 * \r \t and \u00xx, lowercase, for the other control characters), numbers
 * as ECMAScript's Number.prototype.toString prints a double.
 * Pure: no I/O.
 */
#ifndef MEDAID_JCS_H
#define MEDAID_JCS_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* The canonical form of v, malloc'd and NUL-terminated; NULL when v has no
 * canonical form (a number that is not finite, a name that occurs twice in
 * one object, a string that is not UTF-8). */
char *jcs_canonical(const cJSON *v);
/* The same for the JSON text buf[0..len); NULL also when it does not parse. */
char *jcs_canonical_text(const char *buf, size_t len);
/* ECMAScript's form of a finite double into out (at least 32 bytes). */
void jcs_number(double d, char *out, size_t n);

#endif
