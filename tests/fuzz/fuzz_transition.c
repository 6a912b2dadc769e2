/*
 * fuzz target: decision_transition over every (status, change) byte pair,
 * checked against the rules stated in lifecycle.h: a refusal is always 409
 * invalid_status with a detail and keeps the status; an allowed change
 * ends in the status it names; nothing leaves a stopped decision.
 */
#include <stdint.h>
#include <stdlib.h>

#include "lifecycle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i + 1 < size; i += 2) {
        enum decision_status from = (enum decision_status)(data[i] % 5);
        enum decision_change c = (enum decision_change)(data[i + 1] % 6);
        struct decision_transition t = decision_transition(from, c);
        if (!t.allowed) {
            if (t.problem != PROBLEM_INVALID_STATUS || t.detail == NULL || t.to != from)
                abort();
            continue;
        }
        if (t.detail != NULL || from == DS_STOPPED || from > DS_STOPPED)
            abort();
        switch (c) {
        case DC_UPDATE:
            if (t.to != from)
                abort();
            break;
        case DC_SUSPEND:
            if (from != DS_ACTIVE || t.to != DS_SUSPENDED)
                abort();
            break;
        case DC_RESUME:
            if (from != DS_SUSPENDED || t.to != DS_ACTIVE)
                abort();
            break;
        case DC_STOP:
            if (t.to != DS_STOPPED)
                abort();
            break;
        default:
            abort();
        }
    }
    return 0;
}
