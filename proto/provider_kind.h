/*
 * provider_kind: what kind of care provider a provider principal is, and
 * the care types each kind may ask about (DOMAIN.md "Provider kinds").
 * Pure; the one table of kinds (the daemon and the client use it).
 */
#ifndef MEDAID_PROTO_PROVIDER_KIND_H
#define MEDAID_PROTO_PROVIDER_KIND_H

#include <stdbool.h>

#include "decision.h"

enum provider_kind {
    PK_NONE = 0, /* not a provider (or not judged: may ask every care type) */
    PK_HOSPITAL,
    PK_GENERAL_PRACTITIONER,
    PK_PHARMACY,
    PK_PARAMEDICAL,
    PK_MEDICAL_TRANSPORT,
    PK_PROSTHESIS,
    PK__COUNT
};

/* "hospital", "general_practitioner", ...; "" for PK_NONE */
const char *provider_kind_name(enum provider_kind k);
/* false when s is not one of the six kinds */
bool provider_kind_from_name(const char *s, enum provider_kind *out);
/* "hospital, general_practitioner, pharmacy, paramedical, medical_transport, prosthesis" */
const char *provider_kind_names(void);

/* May a provider of kind k ask about care type t? PK_NONE may ask every one. */
bool provider_kind_may_ask(enum provider_kind k, enum care_type t);

/* Is org the right number for a provider of kind k? hospital: a NIHII
 * number (11 digits) starting 710 or 720; medical_transport and prosthesis:
 * a KBO number (10 digits, checksum); the others: a NIHII number. */
bool provider_kind_org_valid(enum provider_kind k, const char *org);
/* what provider_kind_org_valid wants, in words, for a message */
const char *provider_kind_org_rule(enum provider_kind k);

#endif
