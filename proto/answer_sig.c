/*
 * answer_sig: the signed payload of an answer and its signature object.
 */
#include "answer_sig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "jcs.h"

char *answer_sig_payload(const char *text, size_t len)
{
    cJSON *o = cJSON_ParseWithLength(text, len);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return NULL;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(o, "signature");
    char *s = jcs_canonical(o);
    cJSON_Delete(o);
    return s;
}

char *answer_sig_attach(const char *text, const char *key_id, const char *value_b64)
{
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\n' || text[n - 1] == '\r' ||
                     text[n - 1] == '\t'))
        n--;
    if (n < 2 || text[n - 1] != '}')
        return NULL;
    bool empty = true; /* "{}" takes no comma */
    for (size_t i = 1; i + 1 < n && empty; i++)
        if (text[i] != ' ' && text[i] != '\n' && text[i] != '\r' && text[i] != '\t')
            empty = false;
#define SIG_FMT                                                                                    \
    "%s\"signature\":{\"algorithm\":\"" ANSWER_SIG_ALGORITHM                                       \
    "\",\"key_id\":\"%s\",\"value\":\"%s\"}}"
    int extra = snprintf(NULL, 0, SIG_FMT, empty ? "" : ",", key_id, value_b64);
    if (extra < 0)
        return NULL;
    char *out = malloc(n - 1 + (size_t)extra + 1);
    if (!out)
        return NULL;
    memcpy(out, text, n - 1);
    snprintf(out + n - 1, (size_t)extra + 1, SIG_FMT, empty ? "" : ",", key_id, value_b64);
#undef SIG_FMT
    return out;
}

static bool copy_str(const cJSON *v, char *out, size_t size)
{
    if (!cJSON_IsString(v) || !v->valuestring || strlen(v->valuestring) >= size)
        return false;
    memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
    return true;
}

bool answer_sig_get(const char *text, size_t len, char *key_id, size_t key_id_size, char *value,
                    size_t value_size)
{
    cJSON *o = cJSON_ParseWithLength(text, len);
    const cJSON *s = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, "signature") : NULL;
    bool ok = cJSON_IsObject(s) && cJSON_GetArraySize(s) == 3;
    const cJSON *alg = ok ? cJSON_GetObjectItemCaseSensitive(s, "algorithm") : NULL;
    ok = ok && cJSON_IsString(alg) && strcmp(alg->valuestring, ANSWER_SIG_ALGORITHM) == 0 &&
         copy_str(cJSON_GetObjectItemCaseSensitive(s, "key_id"), key_id, key_id_size) &&
         copy_str(cJSON_GetObjectItemCaseSensitive(s, "value"), value, value_size);
    cJSON_Delete(o);
    return ok;
}
