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

    /* every field error code: "error.<code>" in the four languages (the codes the
     * sources raise are checked against the table by check-messages.py) */
    size_t n_errors = 0, n_details = 0;
    for (size_t i = 0; message_code(i) != NULL; i++) {
        const char *code = message_code(i);
        if (strncmp(code, "error.", 6) == 0) {
            n_errors++;
            for (int l = 0; l < LANG__COUNT; l++)
                ok(message_text(code, (enum lang)l) != NULL, "%s in %s", code,
                   lang_tag((enum lang)l));
        } else if (strchr(code, ' ') != NULL) {
            /* a detail, keyed by its English text: that text is its English */
            n_details++;
            is_str(message_text(code, LANG_EN), code, "detail \"%s\": its English is its key",
                   code);
        }
    }
    ok(n_errors >= 45 && n_details >= 60, "field errors (%zu) and details (%zu) in the table",
       n_errors, n_details);

    /* a 422 in German: detail and field errors in German; in English as before */
    struct verrs e;
    verrs_init(&e);
    verrs_add(&e, "ssin", "invalid_ssin", "not a valid SSIN: %s", "check digits");
    verrs_add(&e, "service_date", "required", "is required");
    verrs_add(&e, "x", "no_such_error_code", "its own message");
    doc = problem_encode_lang(PROBLEM_VALIDATION_FAILED, "the question is incomplete or wrong", &e,
                              NULL, LANG_DE);
    ok(doc && strstr(doc, "\"detail\":\"die Frage ist unvollständig oder falsch\"") &&
           strstr(doc, "{\"field\":\"ssin\",\"code\":\"invalid_ssin\",\"message\":\"ist keine "
                       "gültige Nationalregister- oder BIS-Nummer\"}") &&
           strstr(doc, "{\"field\":\"service_date\",\"code\":\"required\",\"message\":\"ist "
                       "erforderlich\"}") &&
           strstr(doc, "\"message\":\"its own message\""),
       "German: the detail and each field error in German (unknown code: its own message)");
    free(doc);
    doc = problem_encode_lang(PROBLEM_VALIDATION_FAILED, "the question is incomplete or wrong", &e,
                              NULL, LANG_EN);
    ok(doc && strstr(doc, "\"detail\":\"the question is incomplete or wrong\"") &&
           strstr(doc, "\"message\":\"not a valid SSIN: check digits\"") &&
           strstr(doc, "\"message\":\"is required\""),
       "English: the detail and the field errors' own messages");
    free(doc);
    doc = problem_encode_lang(PROBLEM_NOT_FOUND, "no such agreement", NULL, NULL, LANG_FR);
    ok(doc && strstr(doc, "\"detail\":\"cet accord n'existe pas\""), "French: a detail");
    free(doc);
    doc =
        problem_encode_lang(PROBLEM_NOT_FOUND, "a detail made at run time 42", NULL, NULL, LANG_NL);
    ok(doc && strstr(doc, "\"detail\":\"a detail made at run time 42\""),
       "a detail the table does not have: as given");
    free(doc);
    doc = problem_encode(PROBLEM_NOT_FOUND, "no such agreement", &e, NULL);
    ok(doc && strstr(doc, "\"detail\":\"no such agreement\"") &&
           strstr(doc, "\"message\":\"is required\""),
       "problem_encode (not localized): English");
    free(doc);
    return done_testing();
}
