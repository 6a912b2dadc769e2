/* unit tests: proto/jcs (RFC 8785 canonical JSON, with the RFC's own examples) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "answer_sig.h"
#include "jcs.h"
#include "tap.h"

static void canon(const char *in, const char *want, const char *name)
{
    char *got = jcs_canonical_text(in, strlen(in));
    is_str(got ? got : "(null)", want, "%s", name);
    if (got) {
        /* canonical text is its own canonical form */
        char *again = jcs_canonical_text(got, strlen(got));
        is_str(again ? again : "(null)", got, "%s: stable", name);
        free(again);
    }
    free(got);
}

static void refused(const char *in, const char *name)
{
    char *got = jcs_canonical_text(in, strlen(in));
    ok(got == NULL, "refused: %s", name);
    free(got);
}

static void number_bits(uint64_t bits, const char *want)
{
    double d;
    memcpy(&d, &bits, sizeof d);
    char out[48];
    jcs_number(d, out, sizeof out);
    is_str(out, want, "number 0x%016llx", (unsigned long long)bits);
}

int main(void)
{
    /* RFC 8785 section 3.2.2 (the sample object) and 3.2.4 */
    canon(
        "{\n  \"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n"
        "  \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n"
        "  \"literals\": [null, true, false]\n}",
        "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
        "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}",
        "RFC 8785 3.2.2 sample object");
    /* RFC 8785 section 3.2.3: sorting by UTF-16 code units */
    canon("{\n  \"\\u20ac\": \"Euro Sign\",\n  \"\\r\": \"Carriage Return\",\n"
          "  \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\",\n  \"1\": \"One\",\n"
          "  \"\\ud83d\\ude00\": \"Emoji: Grinning Face\",\n  \"\\u0080\": \"Control\",\n"
          "  \"\\u00f6\": \"Latin Small Letter O With Diaeresis\"\n}",
          "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
          "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\",\"\xe2\x82\xac\":\"Euro Sign\","
          "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
          "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}",
          "RFC 8785 3.2.3 sorting");
    /* RFC 8785 appendix B: IEEE 754 doubles and their canonical text */
    number_bits(0x0000000000000000ull, "0");
    number_bits(0x8000000000000000ull, "0");
    number_bits(0x0000000000000001ull, "5e-324");
    number_bits(0x8000000000000001ull, "-5e-324");
    number_bits(0x7fefffffffffffffull, "1.7976931348623157e+308");
    number_bits(0xffefffffffffffffull, "-1.7976931348623157e+308");
    number_bits(0x4340000000000000ull, "9007199254740992");
    number_bits(0xc340000000000000ull, "-9007199254740992");
    number_bits(0x4430000000000000ull, "295147905179352830000");
    number_bits(0x44b52d02c7e14af5ull, "9.999999999999997e+22");
    number_bits(0x44b52d02c7e14af6ull, "1e+23");
    number_bits(0x44b52d02c7e14af7ull, "1.0000000000000001e+23");
    number_bits(0x444b1ae4d6e2ef4eull, "999999999999999700000");
    number_bits(0x444b1ae4d6e2ef4full, "999999999999999900000");
    number_bits(0x444b1ae4d6e2ef50ull, "1e+21");
    number_bits(0x3eb0c6f7a0b5ed8cull, "9.999999999999997e-7");
    number_bits(0x3eb0c6f7a0b5ed8dull, "0.000001");
    number_bits(0x41b3de4355555553ull, "333333333.3333332");
    number_bits(0x41b3de4355555554ull, "333333333.33333325");
    number_bits(0x41b3de4355555555ull, "333333333.3333333");
    number_bits(0x41b3de4355555556ull, "333333333.3333334");
    number_bits(0x41b3de4355555557ull, "333333333.33333343");
    number_bits(0xbecbf647612f3696ull, "-0.0000033333333333333333");
    number_bits(0x43143ff3c1cb0959ull, "1424953923781206.2");

    /* what medaid emits: integers (cents) within +-2^53 */
    canon("[0, -1, 3000, 9007199254740991, -9007199254740991, 1e2, 100.0]",
          "[0,-1,3000,9007199254740991,-9007199254740991,100,100]", "integers");
    canon("{\"b\":{\"z\":1,\"a\":[{\"y\":true,\"x\":null}]},\"a\":\"\"}",
          "{\"a\":\"\",\"b\":{\"a\":[{\"x\":null,\"y\":true}],\"z\":1}}", "nested objects sorted");
    canon("\"\\u001f\\u007f\\b\\f\\t/\"", "\"\\u001f\x7f\\b\\f\\t/\"", "control escapes");
    canon(" [ ] ", "[]", "empty array");
    canon("{}", "{}", "empty object");
    refused("{\"a\":1,\"a\":2}", "a name twice");
    refused("{\"a\":", "truncated");
    refused("\"\xc3\"", "not UTF-8");
    /* the signed payload of an answer and its signature object */
    const char *answer = "{\"covered\":false,\"agreement\":\"A2026-00000001\"}";
    char *signed_ = answer_sig_attach(answer, "ab", "c2ln");
    is_str(signed_ ? signed_ : "(null)",
           "{\"covered\":false,\"agreement\":\"A2026-00000001\",\"signature\":{\"algorithm\":"
           "\"Ed25519\",\"key_id\":\"ab\",\"value\":\"c2ln\"}}",
           "attach: the signature is the last member");
    char *p1 = answer_sig_payload(answer, strlen(answer));
    char *p2 = signed_ ? answer_sig_payload(signed_, strlen(signed_)) : NULL;
    is_str(p2 ? p2 : "(null)", "{\"agreement\":\"A2026-00000001\",\"covered\":false}",
           "payload: canonical, without the signature");
    ok(p1 && p2 && strcmp(p1, p2) == 0, "payload: the same with and without the signature");
    char kid[8], val[8];
    ok(signed_ && answer_sig_get(signed_, strlen(signed_), kid, sizeof kid, val, sizeof val) &&
           strcmp(kid, "ab") == 0 && strcmp(val, "c2ln") == 0,
       "get: key_id and value");
    ok(!answer_sig_get(answer, strlen(answer), kid, sizeof kid, val, sizeof val),
       "get: no signature object");
    const char *other = "{\"signature\":{\"algorithm\":\"RSA\",\"key_id\":\"a\",\"value\":\"b\"}}";
    ok(!answer_sig_get(other, strlen(other), kid, sizeof kid, val, sizeof val),
       "get: another algorithm is refused");
    char *e = answer_sig_attach("{}", "k", "v");
    is_str(e ? e : "(null)",
           "{\"signature\":{\"algorithm\":\"Ed25519\",\"key_id\":\"k\",\"value\":\"v\"}}",
           "attach to an empty object");
    ok(answer_sig_attach("[1]", "k", "v") == NULL, "attach: not an object");
    ok(answer_sig_payload("[1]", 3) == NULL, "payload: not an object");
    free(signed_);
    free(p1);
    free(p2);
    free(e);
    return done_testing();
}
