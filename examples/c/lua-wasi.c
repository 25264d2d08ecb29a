// The libc functions Lua's standard libraries call that wasi-libc does not
// have (WASI has no processes, no process CPU clock, no temporary files).
#include <errno.h>
#include <stdio.h>
#include <time.h>

// os.clock: elapsed monotonic time, the nearest WASI has to CPU time.
clock_t clock(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return (clock_t)-1;
    }
    return (clock_t)(ts.tv_sec * CLOCKS_PER_SEC + ts.tv_nsec / (1000000000 / CLOCKS_PER_SEC));
}

// os.execute: there is no shell (`system(NULL)` says so) and no command runs.
int system(const char *command) {
    if (command == NULL) {
        return 0;
    }
    errno = ENOSYS;
    return -1;
}

// io.tmpfile: no temporary files.
FILE *tmpfile(void) {
    errno = ENOSYS;
    return NULL;
}
