/*
 * principal: who is on the other end of a verified client certificate:
 * a role and an organisation number. The type every layer carries (the
 * request hands it to the handlers); how a principal is found is auth/'s
 * business (auth/auth.h), its organisation number rules auth/principal.h.
 */
#ifndef MEDAID_BASE_PRINCIPAL_H
#define MEDAID_BASE_PRINCIPAL_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/provider_kind.h"

enum role { ROLE_OCMW, ROLE_PROVIDER, ROLE_AUDITOR, ROLE_ADMIN, ROLE_FUND, ROLE__COUNT };

#define ROLE_BIT(r) (1u << (r))

struct principal {
    int64_t id;
    enum role role;
    char org[16];            /* KBO (ocmw, auditor, admin, fund), NIHII or KBO (provider) */
    enum provider_kind kind; /* providers: what they may ask; PK_NONE for the other roles */
};

const char *role_name(enum role r);
bool role_from_name(const char *s, enum role *out);

#endif
