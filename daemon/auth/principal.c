/*
 * principal: roles and organisation numbers of the principals that may connect.
 */
#include "auth/principal.h"

#include <string.h>

#include "proto/ids.h"

static const char *const role_names[ROLE__COUNT] = {"ocmw", "provider", "auditor", "admin"};

const char *role_name(enum role r)
{
    return (unsigned)r < ROLE__COUNT ? role_names[r] : "?";
}

bool role_from_name(const char *s, enum role *out)
{
    for (int i = 0; i < ROLE__COUNT; i++) {
        if (strcmp(s, role_names[i]) == 0) {
            *out = (enum role)i;
            return true;
        }
    }
    return false;
}

bool principal_org_valid(enum role r, const char *org)
{
    size_t n = strlen(org);
    if (r == ROLE_PROVIDER)
        return ids_nihii_valid(org, n) || ids_kbo_valid(org, n);
    return ids_kbo_valid(org, n);
}
