/* unit tests: proto/messages (every text in four languages) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coverage.h"
#include "messages.h"
#include "problem.h"
#include "tap.h"

int main(void)
{
    /* every code of the table: four texts, all different, in every language */
    size_t n = 0;
    for (const char *code; (code = message_code(n)) != NULL; n++) {
        const char *t[LANG__COUNT];
        bool all = true;
        for (int l = 0; l < LANG__COUNT; l++) {
            t[l] = message_text(code, (enum lang)l);
            all = all && t[l] != NULL && t[l][0] != '\0';
        }
        ok(all, "%s has en, nl, fr and de", code);
        bool differ = all;
        for (int a = 0; differ && a < LANG__COUNT; a++)
            for (int b = a + 1; differ && b < LANG__COUNT; b++)
                differ = strcmp(t[a], t[b]) != 0 || strncmp(code, "problem.", 8) == 0;
        ok(differ, "%s: its four texts are four translations", code);
        for (size_t k = 0; k < n; k++)
            if (strcmp(message_code(k), code) == 0)
                ok(false, "%s given twice", code);
    }
    ok(n >= 40, "the table has every code (%zu)", n);

    /* every refusal reason and item refusal of the coverage answer */
    for (int r = 0; r < RF__COUNT; r++)
        for (int l = 0; l < LANG__COUNT; l++)
            ok(message_text(refusal_code((enum refusal)r), (enum lang)l) != NULL,
               "refusal %s in %s", refusal_code((enum refusal)r), lang_tag((enum lang)l));
    /* provider kinds (DOMAIN.md): the reason's text is there for whoever answers it */
    for (int l = 0; l < LANG__COUNT; l++)
        ok(message_text("provider_kind_mismatch", (enum lang)l) != NULL,
           "provider_kind_mismatch in %s", lang_tag((enum lang)l));
    /* every problem's title, the English one as problem_title says */
    for (int p = 0; p < PROBLEM__COUNT; p++) {
        char key[64];
        snprintf(key, sizeof key, "problem.%s", problem_code((enum problem)p));
        for (int l = 0; l < LANG__COUNT; l++)
            ok(message_text(key, (enum lang)l) != NULL, "%s in %s", key, lang_tag((enum lang)l));
        is_str(message_text(key, LANG_EN), problem_title((enum problem)p), "%s in English", key);
    }

    is_str(message_text("suspended", LANG_DE),
           "Die Entscheidung über medizinische Hilfe ist ausgesetzt.", "German: suspended");
    ok(message_text("no_such_code", LANG_EN) == NULL, "an unknown code has no text");
    is_str(message_text("suspended", (enum lang)99), message_text("suspended", LANG_EN),
           "an unknown language is English");

    /* a problem in German, with the other languages */
    char *doc = problem_encode_lang(PROBLEM_NOT_FOUND, NULL, NULL, NULL, LANG_DE);
    ok(doc && strstr(doc, "\"title\":\"Nicht gefunden\"") &&
           strstr(doc, "\"detail\":\"Nicht gefunden\"") &&
           strstr(doc, "\"messages\":{\"nl\":\"Niet gevonden\",\"fr\":\"Introuvable\","
                       "\"de\":\"Nicht gefunden\"}"),
       "problem_encode_lang: title, detail and messages");
    free(doc);
    doc = problem_encode(PROBLEM_NOT_FOUND, NULL, NULL, NULL);
    ok(doc && strstr(doc, "\"title\":\"Not found\"") && !strstr(doc, "messages"),
       "problem_encode: as before");
    free(doc);
    return done_testing();
}
