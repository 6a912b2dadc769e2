/* unit tests: proto/ids */
#include <string.h>

#include "ids.h"
#include "tap.h"

static bool ssin(const char *s)
{
    return ids_ssin_valid(s, strlen(s));
}

static bool kbo(const char *s)
{
    return ids_kbo_valid(s, strlen(s));
}

static bool nihii(const char *s)
{
    return ids_nihii_valid(s, strlen(s));
}

int main(void)
{
    /* SSIN */
    ok(ssin("85073003328"), "SSIN 85073003328 (born 1985) valid");
    ok(ssin("17073003384"), "SSIN 17073003384 (born 2017, 2-prefix rule) valid");
    ok(!ssin("17073003385"), "SSIN 2017 with wrong check invalid");
    ok(!ssin("85073003329"), "SSIN wrong checksum (+1) invalid");
    ok(!ssin("85073003327"), "SSIN wrong checksum (-1) invalid");
    ok(ssin("85273003371"), "BIS number month+20 valid");
    ok(ssin("85473003317"), "BIS number month+40 valid");
    ok(ssin("85000003306"), "SSIN month 00 and day 00 (unknown) valid");
    ok(ssin("00000000196"), "SSIN 000000001 + check 96 valid");
    ok(!ssin("85133003370"), "SSIN month 13 invalid (even with a right check)");
    ok(!ssin("85533003359"), "SSIN month 53 invalid (even with a right check)");
    ok(!ssin("85073203365"), "SSIN day 32 invalid (even with a right check)");
    ok(!ssin("8507300332"), "SSIN 10 digits invalid");
    ok(!ssin("850730033280"), "SSIN 12 digits invalid");
    ok(!ssin("85.07.30-033.28"), "SSIN with punctuation invalid");
    ok(!ssin("8507300332a"), "SSIN with a letter invalid");
    ok(!ssin(""), "empty SSIN invalid");
    ok(!ids_ssin_valid(NULL, 0), "NULL SSIN invalid");
    ok(!ids_ssin_valid("85073003328", 10), "SSIN length is honoured (10 of 11)");
    ok(ids_ssin_valid("85073003328XYZ", 11), "SSIN needs no terminator");

    /* KBO */
    ok(kbo("0212345668"), "KBO 0212345668 valid");
    ok(kbo("0207123407"), "KBO 0207123407 valid");
    ok(kbo("0412345614"), "KBO 0412345614 valid");
    ok(!kbo("0212345669"), "KBO check +1 invalid");
    ok(!kbo("0212345667"), "KBO check -1 invalid");
    ok(!kbo("212345668"), "KBO 9 digits invalid");
    ok(!kbo("02123456680"), "KBO 11 digits invalid");
    ok(!kbo("0212.345.668"), "KBO with dots invalid");

    /* NIHII */
    ok(nihii("71012345678"), "NIHII 11 digits valid");
    ok(nihii("10000000000"), "NIHII any 11 digits valid");
    ok(!nihii("7101234567"), "NIHII 10 digits invalid");
    ok(!nihii("710123456789"), "NIHII 12 digits invalid");
    ok(!nihii("7101234567x"), "NIHII with a letter invalid");

    /* digits */
    ok(ids_all_digits("0123", 4, 4), "all_digits 4 of 4");
    ok(!ids_all_digits("0123", 4, 3), "all_digits length mismatch");
    ok(!ids_all_digits("01 3", 4, 4), "all_digits space");
    ok(ids_all_digits("", 0, 0), "all_digits empty with n 0");
    return done_testing();
}
