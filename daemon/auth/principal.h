/*
 * principal: who is on the other end of a verified client certificate.
 * Principals live in PostgreSQL (table principal), keyed by the SHA-256
 * fingerprint of the certificate; `medaidd principal add|list|revoke`
 * (admin/principals.c) manages them from the host.
 */
#ifndef MEDAID_PRINCIPAL_H
#define MEDAID_PRINCIPAL_H

#include <stdbool.h>
#include <stdint.h>

enum role { ROLE_OCMW, ROLE_PROVIDER, ROLE_AUDITOR, ROLE_ADMIN, ROLE__COUNT };

#define ROLE_BIT(r) (1u << (r))

struct principal {
    int64_t id;
    enum role role;
    char org[16]; /* KBO (ocmw, auditor, admin), NIHII or KBO (provider) */
};

const char *role_name(enum role r);
bool role_from_name(const char *s, enum role *out);
/* Is org a valid organisation number for that role? */
bool principal_org_valid(enum role r, const char *org);

#endif
