/*
 * Counts a process's heap allocations, for benches/scripts (allocations per request):
 *
 *   gcc -O2 -shared -fPIC -o alloc_count.so alloc_count.c -ldl
 *   ALLOC_COUNT_FILE=/tmp/n LD_PRELOAD=./alloc_count.so server ...
 *
 * Every call that allocates (malloc, calloc, realloc, posix_memalign, aligned_alloc,
 * memalign, valloc) adds one to an 8-byte counter in ALLOC_COUNT_FILE, shared with
 * the reader through mmap: read it before and after a workload, divide the difference
 * by the requests. Then the call goes on to the next allocator in the link order
 * (glibc's, or jemalloc for a dynamically linked redis-server). A statically linked
 * allocator is not seen. Never part of statio.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static _Atomic uint64_t local_count;
/* Counts into a private word until the constructor maps the file. */
static _Atomic uint64_t *count = &local_count;

static void *(*next_malloc)(size_t);
static void *(*next_calloc)(size_t, size_t);
static void *(*next_realloc)(void *, size_t);
static void (*next_free)(void *);
static int (*next_posix_memalign)(void **, size_t, size_t);
static void *(*next_aligned_alloc)(size_t, size_t);
static void *(*next_memalign)(size_t, size_t);
static void *(*next_valloc)(size_t);

/* dlsym may allocate (calloc) while the next allocator is being looked up: served
 * from this buffer, never freed. */
static _Alignas(16) char boot[8192];
static size_t boot_used;
static int resolving;

static int from_boot(const void *p) {
    return (const char *)p >= boot && (const char *)p < boot + sizeof boot;
}

static void *boot_alloc(size_t n) {
    size_t at = (boot_used + 15) & ~(size_t)15;
    if (at + n > sizeof boot) return NULL;
    boot_used = at + n;
    return boot + at; /* static storage: already zero */
}

static void resolve(void) {
    if (next_malloc || resolving) return;
    resolving = 1;
    next_calloc = dlsym(RTLD_NEXT, "calloc");
    next_realloc = dlsym(RTLD_NEXT, "realloc");
    next_free = dlsym(RTLD_NEXT, "free");
    next_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    next_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    next_memalign = dlsym(RTLD_NEXT, "memalign");
    next_valloc = dlsym(RTLD_NEXT, "valloc");
    next_malloc = dlsym(RTLD_NEXT, "malloc");
    resolving = 0;
}

static void counted(void) {
    atomic_fetch_add_explicit(count, 1, memory_order_relaxed);
}

__attribute__((constructor)) static void map_counter(void) {
    const char *path = getenv("ALLOC_COUNT_FILE");
    if (!path) return;
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    if (fd < 0) return;
    if (ftruncate(fd, sizeof(uint64_t)) == 0) {
        void *shared = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (shared != MAP_FAILED) count = shared;
    }
    close(fd);
}

void *malloc(size_t n) {
    resolve();
    if (!next_malloc) return boot_alloc(n);
    counted();
    return next_malloc(n);
}

void *calloc(size_t a, size_t b) {
    resolve();
    if (!next_calloc) return b && a > SIZE_MAX / b ? NULL : boot_alloc(a * b);
    counted();
    return next_calloc(a, b);
}

void *realloc(void *p, size_t n) {
    resolve();
    counted();
    if (from_boot(p)) {
        void *q = next_malloc(n);
        if (q) memcpy(q, p, n < (size_t)(boot + sizeof boot - (char *)p) ? n : (size_t)(boot + sizeof boot - (char *)p));
        return q;
    }
    return next_realloc(p, n);
}

void free(void *p) {
    if (!p || from_boot(p)) return;
    resolve();
    next_free(p);
}

int posix_memalign(void **out, size_t align, size_t n) {
    resolve();
    counted();
    return next_posix_memalign(out, align, n);
}

void *aligned_alloc(size_t align, size_t n) {
    resolve();
    counted();
    return next_aligned_alloc(align, n);
}

void *memalign(size_t align, size_t n) {
    resolve();
    counted();
    return next_memalign(align, n);
}

void *valloc(size_t n) {
    resolve();
    counted();
    return next_valloc(n);
}
