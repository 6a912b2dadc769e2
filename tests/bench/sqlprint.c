/*
 * medaid-bench-sql: prints the SQL of one of the daemon's prepared
 * statements (daemon/queries.c, linked in), so that scripts/bench runs in
 * pgbench exactly what medaidd runs. Without an argument: the names.
 */
#include <stdio.h>
#include <string.h>

#include "db/queries.h"

int main(int argc, char **argv)
{
    for (const struct pg_stmt *const *s = queries_all; *s != NULL; s++) {
        if (argc < 2)
            printf("%s %d\n", (*s)->name, (*s)->nparams);
        else if (strcmp((*s)->name, argv[1]) == 0) {
            printf("%s\n", (*s)->sql);
            return 0;
        }
    }
    if (argc < 2)
        return 0;
    fprintf(stderr, "medaid-bench-sql: no statement named %s\n", argv[1]);
    return 1;
}
