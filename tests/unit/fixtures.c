/* fixtures.c: JSON surgery for the unit tests' input documents (see fixtures.h) */
#include "fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cJSON *doc_at(cJSON *root, const char *path)
{
    char buf[200];
    snprintf(buf, sizeof buf, "%s", path);
    cJSON *cur = root;
    for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok && cur;
         tok = strtok_r(NULL, ".", &save)) {
        if (cJSON_IsArray(cur))
            cur = cJSON_GetArrayItem(cur, atoi(tok));
        else
            cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
    }
    return cur;
}

/* the parent of the node at path; *last is the last segment of path */
static cJSON *parent_of(cJSON *root, const char *path, const char **last)
{
    char buf[200];
    snprintf(buf, sizeof buf, "%s", path);
    char *dot = strrchr(buf, '.');
    if (dot == NULL) {
        *last = path;
        return root;
    }
    *dot = '\0';
    *last = path + (dot - buf) + 1;
    return doc_at(root, buf);
}

void doc_set(cJSON *root, const char *path, cJSON *v)
{
    const char *last;
    cJSON *p = parent_of(root, path, &last);
    if (p == NULL) {
        printf("# no parent for %s\n", path);
        cJSON_Delete(v);
        return;
    }
    if (cJSON_IsArray(p))
        cJSON_ReplaceItemInArray(p, atoi(last), v);
    else if (cJSON_GetObjectItemCaseSensitive(p, last))
        cJSON_ReplaceItemInObjectCaseSensitive(p, last, v);
    else
        cJSON_AddItemToObject(p, last, v);
}

void doc_del(cJSON *root, const char *path)
{
    const char *last;
    cJSON *p = parent_of(root, path, &last);
    if (p && cJSON_IsArray(p))
        cJSON_DeleteItemFromArray(p, atoi(last));
    else if (p)
        cJSON_DeleteItemFromObjectCaseSensitive(p, last);
}

cJSON *doc_str(const char *s)
{
    return cJSON_CreateString(s);
}

cJSON *doc_raw(const char *raw)
{
    return cJSON_CreateRaw(raw);
}
