/*
 * medaid-bench-sql: prints the SQL of the daemon's prepared statements
 * (daemon/queries.c, linked in), so that scripts/bench runs in pgbench and
 * tests/integration/tests_plans.py explains exactly what medaidd runs.
 *
 *   medaid-bench-sql            the names, each with its number of parameters
 *   medaid-bench-sql NAME...    the SQL of each statement named, one a line
 *   medaid-bench-sql --json     every statement, one JSON object a line:
 *                               {"name":..., "nparams":N, "readonly":B, "sql":...}
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "db/queries.h"

static void json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

static const struct pg_stmt *find(const char *name)
{
    for (const struct pg_stmt *const *s = queries_all; *s != NULL; s++)
        if (strcmp((*s)->name, name) == 0)
            return *s;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        for (const struct pg_stmt *const *s = queries_all; *s != NULL; s++)
            printf("%s %d\n", (*s)->name, (*s)->nparams);
        return 0;
    }
    if (strcmp(argv[1], "--json") == 0) {
        for (const struct pg_stmt *const *s = queries_all; *s != NULL; s++) {
            printf("{\"name\":");
            json_string((*s)->name);
            printf(",\"nparams\":%d,\"readonly\":%s,\"sql\":", (*s)->nparams,
                   (*s)->readonly ? "true" : "false");
            json_string((*s)->sql);
            printf("}\n");
        }
        return 0;
    }
    bool ok = true;
    for (int i = 1; i < argc; i++) {
        const struct pg_stmt *s = find(argv[i]);
        if (s == NULL) {
            fprintf(stderr, "medaid-bench-sql: no statement named %s\n", argv[i]);
            ok = false;
        } else
            printf("%s\n", s->sql);
    }
    return ok ? 0 : 1;
}
