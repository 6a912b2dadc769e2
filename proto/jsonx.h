/*
 * jsonx: internal JSON helpers shared by the proto modules (not part of the
 * wire contract; do not include from daemon/ or client/).
 *
 * Strict parsing on top of cJSON: the whole buffer must be one JSON value
 * (only trailing whitespace), objects are walked member by member so that
 * unknown and duplicate keys are reported, numbers must be integers within
 * +-(2^53 - 1), strings must be valid UTF-8 without control characters.
 *
 * cJSON neither validates UTF-8 nor keeps a number's text (it parses every
 * number as a double, so 9007199254740993 would become ...992). jx_parse
 * therefore checks the raw text first: every string (key or value) must be
 * strict UTF-8, and every number is classified on its own text (see
 * jx_number_class); a body that fails is refused as a whole.
 */
#ifndef MEDAID_PROTO_JSONX_H
#define MEDAID_PROTO_JSONX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "date.h"
#include "problem.h"

/* The wire integer: exactly representable in a double, |n| <= 2^53 - 1. */
#define JX_INT_MAX 9007199254740991LL /* 2^53 - 1 */

/*
 * Parse buf[0..len) (need not be NUL-terminated). NULL when it is not
 * exactly one JSON value followed by optional whitespace, when a string
 * contains the escape \u0000, when a string or key is not valid UTF-8, or
 * when a number is not exactly representable (see jx_parse_checked).
 * Free with cJSON_Delete.
 */
cJSON *jx_parse(const char *buf, size_t len);

/*
 * jx_parse, telling why not. On NULL, *invalid is false when the text is
 * not JSON (malformed), true when it is JSON that the wire contract refuses
 * as a whole; then e holds, with the JSON path of each offence:
 *   invalid_utf8   a key or string that is not strict UTF-8 (overlong forms,
 *                  surrogates, code points above U+10FFFF, truncated or
 *                  stray continuation bytes)
 *   out_of_range   a number whose value is beyond +-JX_INT_MAX (on its text:
 *                  9007199254740992 is refused, 9007199254740991 is not)
 *   not_integer    a number with a fractional part that a double would
 *                  silently round to an integer (1.0000000000000000001)
 * Other fractions (12.5) are left to the typed getters. e may be NULL.
 */
cJSON *jx_parse_checked(const char *buf, size_t len, struct verrs *e, bool *invalid);

/* The class of a JSON number's text s[0..n). */
enum jx_num {
    JX_NUM_INT,          /* an integer within +-JX_INT_MAX; *out holds it */
    JX_NUM_FRACTION,     /* not an integer, magnitude within JX_INT_MAX */
    JX_NUM_OUT_OF_RANGE, /* magnitude beyond JX_INT_MAX (integer or not) */
    JX_NUM_BAD,          /* not a number as cJSON reads them */
};
enum jx_num jx_number_class(const char *s, size_t n, int64_t *out);

/* one expected member of an object */
struct jx_field {
    const char *name;
    const cJSON *item; /* set by jx_walk; NULL when absent */
};

/*
 * Walk the members of obj (an object) in order. Each member whose key is in
 * fields[] is stored there; a repeated key is reported as duplicate_field, a
 * key listed in readonly (NULL-terminated, may be NULL) as read_only_field,
 * any other key as unknown_field. Returns the number of errors added.
 */
int jx_walk(const cJSON *obj, const char *path, struct jx_field *fields, size_t nfields,
            const char *const *readonly, struct verrs *e);

/* "base.name" (or "name" when base is empty); truncated to fit */
void jx_path(char *out, size_t n, const char *base, const char *name);
/* "base[i]" */
void jx_path_index(char *out, size_t n, const char *base, size_t i);

bool jx_utf8_valid(const char *s, size_t len);
/* true when s (valid UTF-8) contains a C0 or C1 control character or DEL */
bool jx_has_control(const char *s, size_t len);

/* Result of a typed getter. */
enum jx_res {
    JX_ABSENT, /* member absent (or null when null is allowed) */
    JX_OK,     /* value stored */
    JX_BAD,    /* an error was added to e */
};

/* required: absent or null is an error "required"; for optional members
 * null means absent when nullable, else wrong_type.
 * Wrong JSON types are reported as wrong_type. */
enum jx_res jx_get_string(const cJSON *it, const char *path, bool required, bool nullable,
                          const char **out, struct verrs *e);
enum jx_res jx_get_int(const cJSON *it, const char *path, bool required, int64_t *out,
                       struct verrs *e);
enum jx_res jx_get_bool(const cJSON *it, const char *path, bool required, bool *out,
                        struct verrs *e);
enum jx_res jx_get_date(const cJSON *it, const char *path, bool required, bool nullable, pdate *out,
                        struct verrs *e);
/* object / array: only checks presence and type */
enum jx_res jx_get_object(const cJSON *it, const char *path, bool required, struct verrs *e);
enum jx_res jx_get_array(const cJSON *it, const char *path, bool required, struct verrs *e);

/* Encoding helpers; all return false on allocation failure. Integers are
 * written as raw "%lld" text so that large cents never get an exponent. */
bool jx_add_int(cJSON *obj, const char *name, long long v);
bool jx_add_str(cJSON *obj, const char *name, const char *s);
bool jx_add_bool(cJSON *obj, const char *name, bool v);
bool jx_add_null(cJSON *obj, const char *name);
bool jx_add_date(cJSON *obj, const char *name, pdate d);
/* a {"start","end"} object */
bool jx_add_period(cJSON *obj, const char *name, pdate start, pdate end);
/* cJSON_PrintUnformatted, then cJSON_Delete(root); NULL root -> NULL */
char *jx_print_free(cJSON *root);
/* The JSON text `text` without the whitespace outside its strings (as
 * cJSON_PrintUnformatted prints it), every other byte kept as it is (numbers
 * are not re-read); malloc'd. Text that is not JSON comes out with its
 * whitespace outside strings removed all the same. NULL when memory ran
 * out. */
char *jx_compact(const char *text);

#endif
