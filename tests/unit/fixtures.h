/*
 * fixtures.h: what the unit tests of decisions share to build their input documents
 * (JSON surgery on a cJSON tree, by dotted path such as "covers.0.ocmw_pays").
 *
 *   cJSON *doc = cJSON_Parse(base_json);
 *   doc_set(doc, "covers.0.period.end", doc_str("2027-01-31"));
 *   doc_del(doc, "reference");
 *
 * A path segment is an object key, or an array index when the node is an array.
 */
#ifndef MEDAID_TESTS_FIXTURES_H
#define MEDAID_TESTS_FIXTURES_H

#include <cjson/cJSON.h>

/* the node at path, NULL when absent */
cJSON *doc_at(cJSON *root, const char *path);
/* set (replace, or add to an object) the value at path; takes v (freed if no parent) */
void doc_set(cJSON *root, const char *path, cJSON *v);
/* remove the value at path (nothing when absent) */
void doc_del(cJSON *root, const char *path);
/* a string node, and a node of raw JSON text (e.g. "12.5", "[1,", "null") */
cJSON *doc_str(const char *s);
cJSON *doc_raw(const char *raw);

#endif
