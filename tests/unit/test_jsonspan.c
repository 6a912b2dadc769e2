/* unit tests: client/jsonspan (JSON values as spans of the text) */
#include <string.h>

#include "jsonspan.h"
#include "tap.h"

#define MAXE 8

static struct jsonspan sp[MAXE];

static int elems(const char *text, const char *member, int max)
{
    memset(sp, 0, sizeof sp);
    return jsonspan_array_elements(text, strlen(text), member, sp, max);
}

static bool elem_is(int i, const char *want)
{
    return sp[i].p && sp[i].n == strlen(want) && memcmp(sp[i].p, want, sp[i].n) == 0;
}

static const char *end_of(const char *s)
{
    return jsonspan_value_end(s, s + strlen(s));
}

int main(void)
{
    /* white space */
    const char *ws = " \t\r\n x";
    ok(jsonspan_skip_ws(ws, ws + strlen(ws)) == ws + 5, "skips space, tab, CR, LF");
    ok(jsonspan_skip_ws(ws, ws + 3) == ws + 3, "stops at the end");
    const char *vt = "\v1";
    ok(jsonspan_skip_ws(vt, vt + 2) == vt, "a vertical tab is not JSON white space");

    /* the end of one value */
    const char *s = "\"a\\\"b]\" tail";
    ok(end_of(s) == s + 7, "a string with an escaped quote and a bracket");
    s = "{\"a\":[1,{\"b\":\"}\"}]} x";
    ok(end_of(s) == s + 19, "nested object and array with a brace in a string");
    s = "12.5e3, 4";
    ok(end_of(s) == s + 6, "a number ends at the comma");
    s = "true}";
    ok(end_of(s) == s + 4, "a literal ends at the brace");
    s = "null";
    ok(end_of(s) == s + 4, "a literal at the end of the text");
    s = "[[[";
    ok(end_of(s) == s + 3, "an unclosed array: the end of the text");
    s = "\"abc\\";
    ok(end_of(s) == s + 5, "a string cut after a backslash: the end");
    s = "";
    ok(end_of(s) == s, "nothing: the end");

    /* the elements of a member's array, as written */
    is_int(elems("{\"answers\":[{\"a\":1}, 2 ,\"x,]\" ,[3,[4]],null]}", "answers", MAXE), 5,
           "five elements");
    ok(elem_is(0, "{\"a\":1}") && elem_is(1, "2") && elem_is(2, "\"x,]\"") &&
           elem_is(3, "[3,[4]]") && elem_is(4, "null"),
       "each exactly as written, no white space");
    is_int(elems(" {\n \"next\" : \"c\" , \"items\" : [ ] } ", "items", MAXE), 0, "an empty array");
    is_int(elems("{\"x\":{\"items\":[1]},\"items\":[7,8]}", "items", MAXE), 2,
           "a nested member of the same name is not it");
    ok(elem_is(0, "7") && elem_is(1, "8"), "the top-level member's elements");
    is_int(elems("{\"a\":\"[\\\"\",\"items\":[1]}", "items", MAXE), 1,
           "a string with a bracket and an escaped quote before it");
    is_int(elems("{\"items\":[1,2,3]}", "items", 3), 3, "exactly max elements");
    is_int(elems("{\"items\":[1,2,3,4]}", "items", 3), -1, "more than max: -1");
    is_int(elems("{\"items\":[1,2]}", "answers", MAXE), -1, "no such member: -1");
    is_int(elems("{\"items\":{\"a\":1}}", "items", MAXE), -1, "not an array: -1");
    is_int(elems("[{\"items\":[1]}]", "items", MAXE), -1, "not an object: -1");
    is_int(elems("", "items", MAXE), -1, "empty text: -1");
    is_int(elems("{\"items\":[1,2", "items", MAXE), -1, "cut: -1");
    is_int(elems("{\"items\":[1 2]}", "items", MAXE), -1, "no comma: -1");
    is_int(elems("{\"items\" [1]}", "items", MAXE), -1, "no colon: -1");
    is_int(elems("{\"itemsx\":[1],\"items\":[5]}", "items", MAXE), 1,
           "a longer key is another member");
    ok(elem_is(0, "5"), "the right one");
    is_int(elems("{\"item\":[1]}", "items", MAXE), -1, "a shorter key is another member");
    {
        const char *t = "{\"items\":[1,2]} and more text that is not looked at";
        memset(sp, 0, sizeof sp);
        is_int(jsonspan_array_elements(t, 13, "items", sp, MAXE), -1,
               "the length counts: the text cut before the closing bracket");
    }
    return done_testing();
}
