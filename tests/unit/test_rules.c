/* unit tests: the small shared rules the client checks before it sends
 * (tariff_code_valid, audit_outcome_valid, care_type names) */
#include <string.h>

#include "audit_query.h"
#include "coverage.h"
#include "tariff.h"
#include "tap.h"

static bool code(const char *s)
{
    return tariff_code_valid(s, strlen(s));
}

int main(void)
{
    ok(code("101076") && code("000000") && code("999999"), "six digits");
    ok(!code("10107") && !code("1010760"), "five or seven digits");
    ok(!code("10107a") && !code(" 01076") && !code("10107 ") && !code("+01076"), "not digits");
    ok(!code("") && !tariff_code_valid(NULL, 6), "nothing");
    ok(tariff_code_valid("1010769", 6), "(pointer, length)");
    ok(!tariff_code_valid("10\0"
                          "076",
                          6),
       "a NUL inside");

    ok(audit_outcome_valid("covered") && audit_outcome_valid("not_covered"),
       "covered, not_covered");
    int n = 0;
    for (int r = RF_NONE + 1; r < RF__COUNT; r++)
        n += audit_outcome_valid(refusal_code((enum refusal)r));
    is_int(n, RF__COUNT - 2, "every refusal but unknown_code");
    ok(!audit_outcome_valid("unknown_code"), "unknown_code refuses items only");
    ok(!audit_outcome_valid("") && !audit_outcome_valid("Covered") && !audit_outcome_valid("maybe"),
       "others");

    static const char *const names[CT__COUNT] = {
        "hospitalisation", "ambulatory_hospital", "general_practice",  "paramedical",
        "pharmacy",        "prosthesis",          "medical_transport", "miscellaneous",
    };
    for (int t = 0; t < CT__COUNT; t++) {
        enum care_type back = CT__COUNT;
        ok(strcmp(care_type_name((enum care_type)t), names[t]) == 0 &&
               care_type_from_name(names[t], strlen(names[t]), &back) && (int)back == t,
           "care type %d is %s, both ways", t, names[t]);
    }
    enum care_type x;
    ok(!care_type_from_name("dentistry", 9, &x) && !care_type_from_name("pharmacy ", 9, &x),
       "unknown care types");
    return done_testing();
}
