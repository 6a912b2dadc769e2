/* unit tests: proto/jsonx (strict UTF-8, numbers judged on their text) */
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "tap.h"

static void utf8(const char *s, size_t n, bool want, const char *name)
{
    ok(jx_utf8_valid(s, n) == want, "utf8 %s: %s", want ? "valid" : "invalid", name);
}

static void test_utf8(void)
{
    utf8("", 0, true, "empty");
    utf8("plain ascii", 11, true, "ascii");
    utf8("\x7f", 1, true, "U+007F (one byte, largest)");
    utf8("\xc2\x80", 2, true, "U+0080 (smallest two bytes)");
    utf8("\xdf\xbf", 2, true, "U+07FF");
    utf8("\xe0\xa0\x80", 3, true, "U+0800 (smallest three bytes)");
    utf8("\xed\x9f\xbf", 3, true, "U+D7FF (below the surrogates)");
    utf8("\xee\x80\x80", 3, true, "U+E000 (above the surrogates)");
    utf8("\xef\xbf\xbf", 3, true, "U+FFFF");
    utf8("\xf0\x90\x80\x80", 4, true, "U+10000 (smallest four bytes)");
    utf8("\xf4\x8f\xbf\xbf", 4, true, "U+10FFFF (largest)");
    utf8("caf\xc3\xa9", 5, true, "cafe with e-acute");

    utf8("\x80", 1, false, "a lone continuation byte");
    utf8("a\xbf", 2, false, "a stray continuation byte after ASCII");
    utf8("\xc0\x80", 2, false, "overlong NUL (C0 80)");
    utf8("\xc1\xbf", 2, false, "overlong U+007F (C1 BF)");
    utf8("\xe0\x9f\xbf", 3, false, "overlong U+07FF in three bytes");
    utf8("\xf0\x8f\xbf\xbf", 4, false, "overlong U+FFFF in four bytes");
    utf8("\xed\xa0\x80", 3, false, "U+D800 (high surrogate)");
    utf8("\xed\xbf\xbf", 3, false, "U+DFFF (low surrogate)");
    utf8("\xed\xa0\x80\xed\xb0\x80", 6, false, "a surrogate pair encoded as CESU-8");
    utf8("\xf4\x90\x80\x80", 4, false, "U+110000 (beyond U+10FFFF)");
    utf8("\xf5\x80\x80\x80", 4, false, "lead byte F5");
    utf8("\xff", 1, false, "byte FF");
    utf8("\xfe", 1, false, "byte FE");
    utf8("\xc3", 1, false, "truncated two-byte sequence");
    utf8("\xe2\x82", 2, false, "truncated three-byte sequence");
    utf8("\xf0\x9f\x98", 3, false, "truncated four-byte sequence");
    utf8("\xe2\x82z", 3, false, "a sequence cut by ASCII");
    utf8("\xc3\xa9\xc3", 3, false, "valid then truncated");
}

static void num(const char *s, enum jx_num want, long long value, const char *name)
{
    int64_t v = -12345;
    enum jx_num got = jx_number_class(s, strlen(s), &v);
    if (!is_int(got, want, "number %s: %s", s, name))
        return;
    if (want == JX_NUM_INT)
        is_int(v, value, "number %s: value", s);
}

static void test_numbers(void)
{
    num("0", JX_NUM_INT, 0, "zero");
    num("-0", JX_NUM_INT, 0, "minus zero");
    num("42", JX_NUM_INT, 42, "small");
    num("-42", JX_NUM_INT, -42, "negative");
    num("9007199254740991", JX_NUM_INT, 9007199254740991LL, "2^53 - 1 is the largest");
    num("-9007199254740991", JX_NUM_INT, -9007199254740991LL, "-(2^53 - 1) is the smallest");
    num("9007199254740992", JX_NUM_OUT_OF_RANGE, 0, "2^53 is refused");
    num("-9007199254740992", JX_NUM_OUT_OF_RANGE, 0, "-2^53 is refused");
    num("9007199254740993", JX_NUM_OUT_OF_RANGE, 0, "2^53 + 1 (a double reads 2^53)");
    num("9999999999999999", JX_NUM_OUT_OF_RANGE, 0, "16 nines");
    num("10000000000000000", JX_NUM_OUT_OF_RANGE, 0, "10^16");
    num("123456789012345678901234567890", JX_NUM_OUT_OF_RANGE, 0, "30 digits");
    num("0000000000000000000042", JX_NUM_INT, 42, "leading zeros are not magnitude");
    num("1e3", JX_NUM_INT, 1000, "exponent");
    num("1E+3", JX_NUM_INT, 1000, "exponent with plus");
    num("1.5e1", JX_NUM_INT, 15, "fraction made whole by the exponent");
    num("12.50e1", JX_NUM_INT, 125, "trailing zero in the fraction");
    num("100e-2", JX_NUM_INT, 1, "negative exponent, still whole");
    num("5.0", JX_NUM_INT, 5, "a zero fraction");
    num("0e999999999999", JX_NUM_INT, 0, "zero with a huge exponent");
    num("9007199254740991e0", JX_NUM_INT, 9007199254740991LL, "2^53 - 1 with e0");
    num("9.007199254740991e15", JX_NUM_INT, 9007199254740991LL, "2^53 - 1 in exponent form");
    num("9.007199254740992e15", JX_NUM_OUT_OF_RANGE, 0, "2^53 in exponent form");
    num("1e16", JX_NUM_OUT_OF_RANGE, 0, "10^16 in exponent form");
    num("1e400", JX_NUM_OUT_OF_RANGE, 0, "beyond a double");
    num("1e999999999999999999", JX_NUM_OUT_OF_RANGE, 0, "an exponent beyond long long");
    num("12.5", JX_NUM_FRACTION, 0, "a fraction");
    num("-0.5", JX_NUM_FRACTION, 0, "a negative fraction");
    num("1e-400", JX_NUM_FRACTION, 0, "a tiny fraction (a double reads 0)");
    num("1.0000000000000000001", JX_NUM_FRACTION, 0, "a fraction a double drops");
    num("9007199254740990.5", JX_NUM_FRACTION, 0, "a fraction just below the bound");
    num("9007199254740991.5", JX_NUM_OUT_OF_RANGE, 0, "a fraction above 2^53 - 1");
    num("", JX_NUM_BAD, 0, "empty");
    num("-", JX_NUM_BAD, 0, "a minus alone");
    num("1e", JX_NUM_BAD, 0, "an exponent without digits");
    num("1-2", JX_NUM_BAD, 0, "a minus inside");
    num("1.2.3", JX_NUM_BAD, 0, "two points");
    num("1e5e5", JX_NUM_BAD, 0, "two exponents");
}

static bool has(const struct verrs *e, const char *field, const char *code)
{
    for (int i = 0; i < e->n; i++)
        if (strcmp(e->items[i].field, field) == 0 && strcmp(e->items[i].code, code) == 0)
            return true;
    return false;
}

/* jx_parse_checked: want 0 parsed, 1 malformed, 2 refused with (field, code) */
static void parse(const char *text, int want, const char *field, const char *code, const char *name)
{
    struct verrs e;
    verrs_init(&e);
    bool invalid = true;
    cJSON *root = jx_parse_checked(text, strlen(text), &e, &invalid);
    int got = root ? 0 : invalid ? 2 : 1;
    cJSON_Delete(root);
    if (!is_int(got, want, "parse %s", name))
        return;
    if (want == 2 && !ok(has(&e, field, code), "parse %s: %s at '%s'", name, code, field))
        for (int i = 0; i < e.n; i++)
            diag("%s: %s", e.items[i].field, e.items[i].code);
    if (want != 2)
        is_int(e.n, 0, "parse %s: no error added", name);
    /* jx_parse refuses the same texts */
    root = jx_parse(text, strlen(text));
    ok((root != NULL) == (want == 0), "jx_parse agrees: %s", name);
    cJSON_Delete(root);
}

static void test_parse(void)
{
    parse("{\"cap\":9007199254740991}", 0, NULL, NULL, "2^53 - 1");
    parse("{\"cap\":9007199254740993}", 2, "cap", "out_of_range", "2^53 + 1");
    parse("{\"a\":{\"b\":[1,2,-9007199254740992]}}", 2, "a.b[2]", "out_of_range",
          "-2^53 deep in an array");
    parse("[{\"fee_cents\":1},{\"fee_cents\":1e300}]", 2, "[1].fee_cents", "out_of_range",
          "1e300 in the second line");
    parse("{\"q\":1.00000000000000000001}", 2, "q", "not_integer", "a fraction a double drops");
    parse("{\"q\":12.5}", 0, NULL, NULL, "an ordinary fraction is left to the getters");
    parse("{\"ssin\":\"8507300332\xff\"}", 2, "ssin", "invalid_utf8", "FF in a value");
    parse("{\"ssin\":\"\xc0\xaf\"}", 2, "ssin", "invalid_utf8", "an overlong in a value");
    parse("{\"ssin\":\"\xed\xa0\x80\"}", 2, "ssin", "invalid_utf8", "a surrogate in a value");
    parse("{\"ssin\":\"\xf4\x90\x80\x80\"}", 2, "ssin", "invalid_utf8", "beyond U+10FFFF");
    parse("{\"ssin\":\"85\xe2\x82\"}", 2, "ssin", "invalid_utf8", "a truncated sequence");
    parse("{\"k\xff\":1}", 2, "k?", "invalid_utf8", "FF in a key");
    parse("{\"questions\":[{\"ssin\":\"1\"},{\"ssin\":\"\xff\"}]}", 2, "questions[1].ssin",
          "invalid_utf8", "a batch's second question");
    parse("{\"s\":\"caf\xc3\xa9\"}", 0, NULL, NULL, "valid UTF-8");
    parse("{\"s\":\"\\ud83d\\ude00\"}", 0, NULL, NULL, "an escaped surrogate pair");
    parse("{\"s\":\"\\ud800\"}", 1, NULL, NULL, "an escaped lone surrogate is malformed");
    parse("{\"n\":-}", 1, NULL, NULL, "a minus alone is malformed");
    parse("{\"n\":1e}", 1, NULL, NULL, "1e is malformed");
    parse("{\"n\":\"1e99999\", \"m\": 7}", 0, NULL, NULL, "digits in strings are not numbers");
    parse("{\"a\":\"x\",\"b\":[true,null,0,\"9007199254740993\"]}", 0, NULL, NULL,
          "a big number as a string is a string");
}

static void compact(const char *in, const char *want)
{
    char *got = jx_compact(in);
    ok(got != NULL && strcmp(got, want) == 0, "compact %s -> %s (got %s)", in, want,
       got ? got : "NULL");
    free(got);
}

static void test_compact(void)
{
    compact("{\"month\" : \"2026-11\", \"n\" : [1, \n 2]}", "{\"month\":\"2026-11\",\"n\":[1,2]}");
    compact("{\"a\":\"x : y, z\"}", "{\"a\":\"x : y, z\"}");
    compact("{\"a\" : \"q\\\" : \\\\\", \"b\" :\t9007199254740993}",
            "{\"a\":\"q\\\" : \\\\\",\"b\":9007199254740993}");
    compact("\r\n[ ]\n", "[]");
    compact("", "");
}

int main(void)
{
    test_utf8();
    test_numbers();
    test_parse();
    test_compact();
    return done_testing();
}
