/*
 * principal: role names.
 */
#include "base/principal.h"

#include <string.h>

static const char *const role_names[ROLE__COUNT] = {"ocmw", "provider", "auditor", "admin", "fund"};

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
