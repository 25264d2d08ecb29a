/* Reads a file through read (4 KiB and 64 KiB), readv and pread, then stdin
 * through read, and prints lengths and checksums: built with and without
 * libc-shim (make examples), the outputs must be the same. With -DSHIM it
 * also prints libc-shim's counts: reads that landed in the caller's buffer
 * and reads that fell back to a copy. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#ifdef SHIM
uint64_t libc_shim_landed(void);
uint64_t libc_shim_fallbacks(void);
#endif

static uint64_t digest(uint64_t h, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static void counts(const char *part) {
#ifdef SHIM
    static uint64_t landed, fallbacks;
    uint64_t l = libc_shim_landed(), f = libc_shim_fallbacks();
    printf("shim: %s: landed %llu, fallbacks %llu\n", part, (unsigned long long)(l - landed),
           (unsigned long long)(f - fallbacks));
    landed = l;
    fallbacks = f;
#else
    (void)part;
#endif
}

static void drain(int fd, size_t chunk, const char *what) {
    unsigned char *buf = malloc(chunk);
    uint64_t h = 0xcbf29ce484222325ull, total = 0;
    ssize_t n;
    while ((n = read(fd, buf, chunk)) > 0) {
        h = digest(h, buf, n);
        total += n;
    }
    printf("%s, %zu-byte reads: %llu bytes, digest %016llx, last %zd\n", what, chunk,
           (unsigned long long)total, (unsigned long long)h, n);
    free(buf);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: shim-read FILE\n");
        return 2;
    }
    for (size_t chunk = 4096; chunk <= 65536; chunk *= 16) {
        int fd = open(argv[1], O_RDONLY);
        if (fd < 0) {
            perror("open");
            return 1;
        }
        drain(fd, chunk, "file");
        close(fd);
    }
    int fd = open(argv[1], O_RDONLY);
    unsigned char a[3000], b[5000];
    struct iovec iov[2] = {{a, sizeof a}, {b, sizeof b}};
    uint64_t h = 0xcbf29ce484222325ull, total = 0;
    ssize_t n;
    while ((n = readv(fd, iov, 2)) > 0) {
        h = digest(h, a, n < 3000 ? n : 3000);
        if (n > 3000) h = digest(h, b, n - 3000);
        total += n;
    }
    printf("file, readv: %llu bytes, digest %016llx\n", (unsigned long long)total,
           (unsigned long long)h);
    counts("read");
    off_t size = lseek(fd, 0, SEEK_END), off = size / 3;
    static unsigned char buf[65536];
    h = 0xcbf29ce484222325ull;
    for (int i = 0; i < 40; i++) {
        n = pread(fd, buf, sizeof buf, off);
        h = digest(h, buf, n < 0 ? 0 : n);
        off = (off * 7 + 12345) % (size + 1000);
    }
    printf("file, pread: digest %016llx\n", (unsigned long long)h);
    n = pread(fd, buf, 10, -1);
    printf("  pread at EOF: %zd, at -1: %zd errno %d\n", pread(fd, buf, 10, size), n, errno);
    counts("pread");
    drain(0, 4096, "stdin");
    counts("stdin");
    return 0;
}
