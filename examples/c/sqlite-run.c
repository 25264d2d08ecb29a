// sqlite-run: a small driver for SQLite built for wasm32-wasip2.
//
//   sqlite-run DB < script.sql
//
// Runs the SQL read from stdin on database file DB, statement by statement,
// printing each result row as `col|col|...` (NULL as `NULL`); at the first
// error it prints `error: ...` on stderr and stops with status 1 (as
// `sqlite3 -bail`). SQLite uses its "demo" VFS for
// plain POSIX files (shipped with the amalgamation in libsqlite3-sys), as
// wasi-libc has no advisory locks or shared memory.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sqlite3.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s DB < script.sql\n", argv[0]);
        return 2;
    }
    size_t cap = 1 << 16, len = 0;
    char *sql = malloc(cap);
    size_t n;
    while ((n = fread(sql + len, 1, cap - len - 1, stdin)) > 0) {
        len += n;
        if (cap - len < 4096) {
            cap *= 2;
            sql = realloc(sql, cap);
        }
    }
    sql[len] = 0;
    sqlite3 *db;
    if (sqlite3_open(argv[1], &db) != SQLITE_OK) {
        fprintf(stderr, "error: cannot open %s: %s\n", argv[1], sqlite3_errmsg(db));
        return 1;
    }
    int failed = 0;
    const char *rest = sql;
    while (*rest && !failed) {
        sqlite3_stmt *stmt;
        const char *tail;
        if (sqlite3_prepare_v2(db, rest, -1, &stmt, &tail) != SQLITE_OK) {
            fprintf(stderr, "error: %s\n", sqlite3_errmsg(db));
            failed = 1;
            break;
        }
        if (stmt) {
            int rc;
            while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
                int cols = sqlite3_column_count(stmt);
                for (int i = 0; i < cols; i++) {
                    const unsigned char *v = sqlite3_column_text(stmt, i);
                    printf("%s%s", i ? "|" : "", v ? (const char *)v : "NULL");
                }
                printf("\n");
            }
            if (rc != SQLITE_DONE) {
                fprintf(stderr, "error: %s\n", sqlite3_errmsg(db));
                failed = 1;
            }
            sqlite3_finalize(stmt);
        }
        rest = tail;
    }
    if (sqlite3_close(db) != SQLITE_OK) {
        fprintf(stderr, "error: close: %s\n", sqlite3_errmsg(db));
        failed = 1;
    }
    free(sql);
    return failed;
}
