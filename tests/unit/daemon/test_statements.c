/*
 * Unit tests of the statement table (db/statements.h) and of the pool's
 * checks that need no database: every statement's parameter count is the
 * one its SQL uses, names are unique, writes are not marked read-only, a
 * call with the wrong number of parameters aborts, which outcomes are
 * passing, and the problems the timeouts map to.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tap.h"
#include "db/pg.h"
#include "db/queries.h"

/* the highest $n in sql, and whether each of $1..$n occurs */
static int max_param(const char *sql, bool used[PG_MAX_PARAMS + 1])
{
    int max = 0;
    for (const char *p = sql; (p = strchr(p, '$')); p++) {
        if (p[1] < '0' || p[1] > '9')
            continue;
        int n = atoi(p + 1);
        if (n > max)
            max = n;
        if (n >= 1 && n <= PG_MAX_PARAMS)
            used[n] = true;
    }
    return max;
}

static bool writes(const char *sql)
{
    return strstr(sql, "INSERT INTO") || strstr(sql, "UPDATE ") || strstr(sql, "DELETE FROM");
}

static void test_table(void)
{
    int n = 0;
    for (const struct pg_stmt *const *s = queries_all; *s; s++, n++) {
        bool used[PG_MAX_PARAMS + 1] = {false};
        int max = max_param((*s)->sql, used);
        is_int(max, (*s)->nparams, "%s: its SQL uses $1..$%d", (*s)->name, (*s)->nparams);
        bool all = true;
        for (int i = 1; i <= (*s)->nparams && i <= PG_MAX_PARAMS; i++)
            all = all && used[i];
        ok(all, "%s: every parameter is used", (*s)->name);
        ok(!((*s)->readonly && writes((*s)->sql)), "%s: a write is not run again when lost",
           (*s)->name);
        for (const struct pg_stmt *const *t = queries_all; t != s; t++)
            if (strcmp((*t)->name, (*s)->name) == 0)
                ok(false, "%s: name given twice", (*s)->name);
    }
    ok(n >= 21, "the table holds every statement (%d)", n);
    ok(Q_COVERAGE_LOOKUP.readonly && !Q_AGREEMENT_INSERT_MANY.readonly,
       "reads are read-only, the group commit is not");
    ok(strstr(Q_AUDIT_AS_OF.sql, "coverage_as_of(") != NULL &&
           strstr(Q_COVERAGE_LOOKUP.sql, "coverage_lookup(") != NULL,
       "the as-of and coverage reads are SQL functions (schema/005, 009)");
}

static void never_called(void *arg, enum pg_outcome o, const PGresult *res)
{
    (void)arg;
    (void)o;
    (void)res;
}

static void test_count_check(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        /* stderr is the abort message: keep it out of the TAP stream */
        freopen("/dev/null", "w", stderr);
        const char *params[] = {"a", "b"};
        /* the check comes before the pool is touched */
        pg_submit((struct pg_pool *)NULL, &Q_DECISION_HISTORY, params, never_called, NULL);
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT,
       "two parameters for a one-parameter statement abort");
}

static void test_outcomes(void)
{
    ok(!pg_outcome_transient(PG_OK), "PG_OK is not a failure");
    ok(pg_outcome_transient(PG_UNAVAILABLE), "unavailable is passing");
    ok(pg_outcome_transient(PG_LOST), "lost is passing");
    ok(pg_outcome_transient(PG_RETRY), "serialization failure / deadlock is passing");
    ok(!pg_outcome_transient(PG_ERROR), "an error is not");
    ok(!pg_outcome_transient(PG_INVALID), "a refused value is not");
    ok(!pg_outcome_transient(PG_BAD_DATA), "unreadable data is not");
    ok(pg_outcome_transient(PG_TIMEOUT), "a timed-out wait is passing");
    ok(pg_outcome_transient(PG_WR_TIMEOUT), "a timed-out write is passing");

    const char *detail = NULL;
    is_int(db_outcome_problem(PG_TIMEOUT, &detail), PROBLEM_DATABASE_TIMEOUT,
           "a timed-out wait is database_timeout");
    ok(detail && strstr(detail, "nothing was changed"), "which says nothing changed");
    detail = NULL;
    is_int(db_outcome_problem(PG_WR_TIMEOUT, &detail), PROBLEM_DATABASE_TIMEOUT,
           "a timed-out write is database_timeout");
    ok(detail && strstr(detail, "outcome is unknown") && strstr(detail, "Idempotency-Key"),
       "which says the outcome is unknown and a keyed retry is safe");
    is_int(db_outcome_problem(PG_UNAVAILABLE, &detail), PROBLEM_DATABASE_UNAVAILABLE,
           "unavailable stays database_unavailable");
    is_int(problem_status(PROBLEM_DATABASE_TIMEOUT), 503, "database_timeout is a 503");
}

int main(void)
{
    test_table();
    test_count_check();
    test_outcomes();
    return done_testing();
}
