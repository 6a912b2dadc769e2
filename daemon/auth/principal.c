/*
 * principal: organisation numbers of the principals that may connect.
 */
#include "auth/principal.h"

#include <string.h>

#include "proto/ids.h"

bool principal_org_valid(enum role r, const char *org)
{
    size_t n = strlen(org);
    if (r == ROLE_PROVIDER)
        return ids_nihii_valid(org, n) || ids_kbo_valid(org, n);
    return ids_kbo_valid(org, n);
}
