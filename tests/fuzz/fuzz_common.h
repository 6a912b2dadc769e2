/*
 * fuzz_common.h: what the decision fuzz targets share.
 *
 *   fuzz_round_trip(d, meta)   encode -> decision_parse_stored -> encode gives the
 *                              same text, or abort()
 *   fuzz_set_meta(d, v, st)    give d the metadata of a stored version (id, version v,
 *                              status st, OCMW, recorded_at)
 */
#ifndef MEDAID_FUZZ_COMMON_H
#define MEDAID_FUZZ_COMMON_H

#include <stdbool.h>

#include "decision.h"

void fuzz_round_trip(const struct decision *d, bool meta);
void fuzz_set_meta(struct decision *d, int version, enum decision_status st);

#endif
