/*
 * fuzz target: decision_parse_update against a fixed current version
 * (today 2026-11-23). For every accepted document: no errors, the kind and
 * SSIN are those of the current version, decision_check_change agrees, and
 * encode -> decision_parse_stored -> encode gives the same text (with and
 * without meta). A refusal must say why. The current version is also
 * stopped on a date taken from the input and must then survive storage.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decision.h"
#include "fuzz_common.h"
#include "lifecycle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* started in the past, ends in the future; one cover starts in the future,
 * one ended yesterday, one the day before */
static const char current_json[] =
    "{\"kind\":\"coverage\","
    "\"beneficiary\":{\"ssin\":\"85073003328\",\"death_date\":null},"
    "\"period\":{\"start\":\"2026-09-04\",\"end\":\"2027-03-31\"},"
    "\"reference\":\"2026/1234\",\"urgent_attestation_required\":false,"
    "\"state_share\":{\"hospitalisation\":{\"insurance_pct\":100,\"patient_share_pct\":100},"
    "\"ambulatory_hospital\":{\"insurance_pct\":100,\"patient_share_pct\":50},"
    "\"other\":{\"insurance_pct\":100,\"patient_share_pct\":0}},"
    "\"covers\":["
    "{\"care_type\":\"general_practice\","
    "\"period\":{\"start\":\"2026-09-04\",\"end\":\"2027-03-31\"},"
    "\"ocmw_pays\":{\"insurance_part\":\"none\",\"patient_share\":\"partial\",\"supplements\":"
    "\"none\"},\"patient_share_cap_cents\":5000},"
    "{\"care_type\":\"hospitalisation\","
    "\"period\":{\"start\":\"2026-12-01\",\"end\":\"2027-02-28\"},"
    "\"ocmw_pays\":{\"insurance_part\":\"full\",\"patient_share\":\"full\",\"supplements\":"
    "\"partial\"},\"supplements_cap_cents\":20000,\"allowed_supplement_types\":[\"room\"]},"
    "{\"care_type\":\"ambulatory_hospital\","
    "\"period\":{\"start\":\"2026-10-01\",\"end\":\"2026-11-22\"},"
    "\"ocmw_pays\":{\"insurance_part\":\"none\",\"patient_share\":\"full\",\"supplements\":"
    "\"none\"}},"
    "{\"care_type\":\"medical_transport\","
    "\"period\":{\"start\":\"2026-10-01\",\"end\":\"2026-11-21\"},"
    "\"ocmw_pays\":{\"insurance_part\":\"full\",\"patient_share\":\"full\",\"supplements\":"
    "\"full\"},\"designated_providers\":[\"0212345668\"]}"
    "]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const pdate today = date_from_ymd(2026, 11, 23);
    static struct decision cur;
    static bool loaded;
    if (!loaded) {
        struct verrs e;
        /* recorded on its start day; today the start is 80 days back */
        if (decision_parse_input(current_json, sizeof current_json - 1, today - 80, &cur, &e) !=
            PARSE_OK) {
            fprintf(stderr, "fixture refused: %s %s\n", e.n ? e.items[0].field : "",
                    e.n ? e.items[0].code : "");
            abort();
        }
        fuzz_set_meta(&cur, 4, DS_ACTIVE);
        loaded = true;
    }

    struct decision d;
    struct verrs e;
    enum parse_result r = decision_parse_update((const char *)data, size, today, &cur, &d, &e);
    if (r == PARSE_OK) {
        if (e.n != 0 || e.truncated)
            abort(); /* accepted with errors */
        if (d.kind != cur.kind || strcmp(d.ssin, cur.ssin) != 0)
            abort(); /* an immutable field changed */
        if (d.period.start != cur.period.start && d.period.start < today)
            abort(); /* a start moved into the past */
        struct verrs e2;
        verrs_init(&e2);
        if (!decision_check_change(&cur, &d, today, &e2) || e2.n != 0)
            abort(); /* parse_update and check_change disagree */
        fuzz_round_trip(&d, false);
        fuzz_set_meta(&d, 4, DS_SUSPENDED);
        fuzz_round_trip(&d, true);
    } else if (r == PARSE_INVALID && e.n == 0 && !e.truncated) {
        abort(); /* invalid without saying why */
    }

    /* a stop on a date from the input, between 2026-11-13 and 2027-04-09 */
    if (size > 0) {
        struct decision s = cur;
        pdate end = today - 10 + (pdate)(data[0] % 148);
        struct verrs e3;
        bool stopped = decision_apply_stop(&s, end, today, &e3);
        bool allowed = end >= today && end >= cur.period.start && end <= cur.period.end;
        if (stopped != allowed || (stopped ? e3.n != 0 : e3.n != 1))
            abort();
        if (stopped) {
            if (s.status != DS_STOPPED || s.period.end != end)
                abort();
            for (int i = 0; i < s.n_covers; i++)
                if (s.covers[i].period.end > end ||
                    s.covers[i].period.start != cur.covers[i].period.start)
                    abort();
            fuzz_round_trip(&s, true);
        } else if (memcmp(&s, &cur, sizeof s) != 0) {
            abort(); /* a refused stop changed the decision */
        }
    }
    return 0;
}
