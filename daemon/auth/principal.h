/*
 * principal: who is on the other end of a verified client certificate.
 * Principals live in PostgreSQL (table principal), keyed by the SHA-256
 * fingerprint of the certificate; `medaidd principal add|list|revoke`
 * (admin/principals.c) manages them from the host. The type itself is in
 * base/principal.h (every layer carries it).
 */
#ifndef MEDAID_PRINCIPAL_H
#define MEDAID_PRINCIPAL_H

#include <stdbool.h>

#include "base/principal.h"

/* Is org a valid organisation number for that role? */
bool principal_org_valid(enum role r, const char *org);

#endif
