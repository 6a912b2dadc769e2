/*
 * provider_kind: the kinds of care providers and what each may ask (see
 * provider_kind.h).
 */
#include "provider_kind.h"

#include <string.h>

#include "ids.h"

#define CT(t) (1u << (t))

static const struct {
    const char *name;
    unsigned care_types; /* bit per enum care_type */
} kinds[PK__COUNT] = {
    [PK_NONE] = {"", (1u << CT__COUNT) - 1},
    [PK_HOSPITAL] = {"hospital", CT(CT_HOSPITALISATION) | CT(CT_AMBULATORY_HOSPITAL) |
                                     CT(CT_PHARMACY) | CT(CT_MEDICAL_TRANSPORT) |
                                     CT(CT_MISCELLANEOUS)},
    [PK_GENERAL_PRACTITIONER] = {"general_practitioner",
                                 CT(CT_GENERAL_PRACTICE) | CT(CT_MISCELLANEOUS)},
    [PK_PHARMACY] = {"pharmacy", CT(CT_PHARMACY)},
    [PK_PARAMEDICAL] = {"paramedical", CT(CT_PARAMEDICAL)},
    [PK_MEDICAL_TRANSPORT] = {"medical_transport", CT(CT_MEDICAL_TRANSPORT)},
    [PK_PROSTHESIS] = {"prosthesis", CT(CT_PROSTHESIS)},
};

const char *provider_kind_name(enum provider_kind k)
{
    return (unsigned)k < PK__COUNT ? kinds[k].name : "";
}

bool provider_kind_from_name(const char *s, enum provider_kind *out)
{
    for (int k = PK_NONE + 1; s != NULL && k < PK__COUNT; k++) {
        if (strcmp(s, kinds[k].name) == 0) {
            *out = (enum provider_kind)k;
            return true;
        }
    }
    return false;
}

const char *provider_kind_names(void)
{
    return "hospital, general_practitioner, pharmacy, paramedical, medical_transport, prosthesis";
}

bool provider_kind_may_ask(enum provider_kind k, enum care_type t)
{
    if ((unsigned)k >= PK__COUNT || (unsigned)t >= CT__COUNT)
        return false;
    return (kinds[k].care_types & CT(t)) != 0;
}

bool provider_kind_org_valid(enum provider_kind k, const char *org)
{
    size_t n = org ? strlen(org) : 0;
    switch (k) {
    case PK_HOSPITAL:
        return ids_nihii_valid(org, n) &&
               (strncmp(org, "710", 3) == 0 || strncmp(org, "720", 3) == 0);
    case PK_MEDICAL_TRANSPORT:
    case PK_PROSTHESIS:
        return ids_kbo_valid(org, n);
    case PK_GENERAL_PRACTITIONER:
    case PK_PHARMACY:
    case PK_PARAMEDICAL:
        return ids_nihii_valid(org, n);
    default:
        return false;
    }
}

const char *provider_kind_org_rule(enum provider_kind k)
{
    switch (k) {
    case PK_HOSPITAL:
        return "a NIHII number (11 digits) starting with 710 or 720";
    case PK_MEDICAL_TRANSPORT:
    case PK_PROSTHESIS:
        return "a KBO number (10 digits)";
    default:
        return "a NIHII number (11 digits)";
    }
}
