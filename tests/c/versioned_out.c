/* Every call that writes a size-versioned out-struct, each given a struct
 * declared by an older caller: struct_size 8 (the smallest version), put
 * at the very end of a page whose next page is PROT_NONE. The library may
 * write those 8 bytes and nothing after them; one byte more faults. Then
 * the same with the full struct at the page end, whose fields are checked.
 * usage: versioned_out RING (a ring of that name is created and removed) */
#define _DEFAULT_SOURCE
#include "disruptor_mp.h"
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what) {
    printf("%s: %s\n", ok ? "ok" : "FAILED", what);
    if (!ok) failures++;
}

/* `size` bytes ending where the guard page starts, struct_size set. */
static void *at_end(unsigned char *guard, size_t size) {
    unsigned char *p = guard - size;
    memset(p, 0xa5, size);
    uint32_t s = (uint32_t)size;
    memcpy(p, &s, sizeof s);
    return p;
}

static uint32_t size_of(const void *p) {
    uint32_t s;
    memcpy(&s, p, sizeof s);
    return s;
}

/* One call on an 8-byte struct and on the full one: both succeed, the
 * short one says 8, the full one its own size. */
#define BOTH(T, call_with, what)                                                     \
    do {                                                                             \
        T *small = (T *)at_end(guard, 8);                                            \
        check(call_with(small) == DMP_STATUS_OK && size_of(small) == 8,              \
              what " into an 8-byte struct");                                        \
        T *full = (T *)at_end(guard, sizeof(T));                                     \
        check(call_with(full) == DMP_STATUS_OK && size_of(full) == sizeof(T),        \
              what " into the full struct");                                         \
        last = full;                                                                 \
    } while (0)

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: versioned_out RING\n");
        return 2;
    }
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    unsigned char *base = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED || mprotect(base + page, page, PROT_NONE) != 0) {
        perror("mmap");
        return 1;
    }
    unsigned char *guard = base + page;
    const void *last = NULL;

    dmp_ring_options o;
    dmp_ring_options_init(&o);
    o.capacity = 16;
    o.slot_size = 8;
    dmp_ring *ring;
    if (dmp_ring_create(argv[1], &o, &ring) != DMP_STATUS_OK) {
        fprintf(stderr, "create: %s\n", dmp_last_error_message());
        return 1;
    }
    dmp_consumer *c;
    dmp_producer *p;
    if (dmp_consumer_open(ring, "c", NULL, &c) != DMP_STATUS_OK ||
        dmp_producer_open(ring, NULL, &p) != DMP_STATUS_OK) {
        fprintf(stderr, "open: %s\n", dmp_last_error_message());
        return 1;
    }
    int64_t seq = -1, avail = -1;
    check(dmp_claim(p, 2, 1000000000, &seq) == DMP_STATUS_OK, "claim 2");

#define PSPAN(out) dmp_producer_span(p, seq, seq + 1, out)
    BOTH(dmp_span, PSPAN, "dmp_producer_span");
    check(((const dmp_span *)last)->first_count + ((const dmp_span *)last)->second_count == 2,
          "the producer span holds the two claimed slots");
    check(dmp_publish(p, seq, seq + 1) == DMP_STATUS_OK, "publish");
    check(dmp_wait_for(c, seq, 1000000000, &avail) == DMP_STATUS_OK && avail == seq + 1,
          "wait for both");
#define CSPAN(out) dmp_consumer_span(c, seq, avail, out)
    BOTH(dmp_span, CSPAN, "dmp_consumer_span");

#define INFO(out) dmp_ring_get_info(ring, out)
    BOTH(dmp_ring_info, INFO, "dmp_ring_get_info");
    check(((const dmp_ring_info *)last)->capacity == 16, "the info says capacity 16");

    dmp_snapshot *snap;
    check(dmp_snapshot_take(ring, &snap) == DMP_STATUS_OK, "snapshot");
#define STATS(out) dmp_snapshot_stats(snap, out)
    BOTH(dmp_ring_stats, STATS, "dmp_snapshot_stats");
    check(((const dmp_ring_stats *)last)->cursor == seq + 1, "the stats say the cursor");
#define CSTATUS(out) dmp_snapshot_consumer(snap, 0, out)
    BOTH(dmp_consumer_status, CSTATUS, "dmp_snapshot_consumer");
    check(strcmp(((const dmp_consumer_status *)last)->name, "c") == 0, "the consumer is c");
#define PSTATUS(out) dmp_snapshot_producer(snap, 0, out)
    BOTH(dmp_producer_status, PSTATUS, "dmp_snapshot_producer");
#define COUNTER(out) dmp_snapshot_counter(snap, 0, out)
    BOTH(dmp_counter, COUNTER, "dmp_snapshot_counter");

    (void)dmp_snapshot_free(snap);
    (void)dmp_commit(c, avail);
    (void)dmp_producer_close(p);
    (void)dmp_consumer_close(c);
    (void)dmp_ring_close(ring);
    (void)dmp_ring_unlink(argv[1], DMP_BACKING_SHM);
    munmap(base, 2 * page);
    printf("%d failed\n", failures);
    return failures != 0;
}
