/* One side of the C-ABI throughput benchmark (scripts/bench-ffi.sh): the C
 * twin of `dmp bench-worker --role ring-producer|ring-consumer`, doing the
 * same work through the C ABI so that the two can be compared in one run.
 *
 * usage: bench_worker producer|consumer RING EVENTS SIZE BATCH CPU
 *
 * Events are those of `dmp bench`: SIZE bytes of 0xa5, the event number
 * (little-endian) in the first 8 bytes and its complement in the last 8.
 * The producer claims BATCH slots at a time and fills each; the consumer
 * takes every available event at once, checks each, and commits the batch.
 * Both busy-spin. The worker prints "ready" once attached and, at the end,
 * "result events=N first_batch=F span_ns=S batches=B" (the consumer times
 * from its first batch to the last event, as dmp's does).
 */
#define _GNU_SOURCE
#include "disruptor_mp.h"

#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STALL_NS (10ull * 1000 * 1000 * 1000)

static int fail(const char *what, int32_t st) {
    fprintf(stderr, "bench_worker: %s: %s: %s\n", what, dmp_status_str(st), dmp_last_error_message());
    return 1;
}

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* Little-endian 64-bit words (the byte order dmp's worker uses). */
static inline uint64_t le64(uint64_t v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return __builtin_bswap64(v);
#else
    return v;
#endif
}

#define FILL 0xa5a5a5a5a5a5a5a5ull

/* A 64-byte event (the common case) is stored as eight explicit 8-byte
 * words: gcc -O2 turns a 64-byte memcpy of a local array, or a loop of
 * equal stores, into `rep movs` / `rep stos`, several times slower here than
 * the plain stores Rust's fixed-size copy compiles to. */
static inline void store64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static inline void fill_event64(uint8_t *slot, uint64_t i) {
    store64(slot, le64(i));
    store64(slot + 8, FILL);
    store64(slot + 16, FILL);
    store64(slot + 24, FILL);
    store64(slot + 32, FILL);
    store64(slot + 40, FILL);
    store64(slot + 48, FILL);
    store64(slot + 56, le64(~i));
}

static inline void fill_event(uint8_t *slot, size_t size, uint64_t i) {
    uint64_t head = le64(i), tail = le64(~i);
    memset(slot, 0xa5, size);
    memcpy(slot, &head, 8);
    if (size >= 16) memcpy(slot + size - 8, &tail, 8);
}

static inline int check_event(const uint8_t *slot, size_t size, uint64_t i) {
    uint64_t head, tail = 0;
    memcpy(&head, slot, 8);
    if (size >= 16) memcpy(&tail, slot + size - 8, 8);
    return le64(head) == i && (size < 16 || le64(tail) == ~i);
}

static int produce(dmp_ring *ring, uint64_t events, size_t size, uint64_t batch) {
    dmp_producer_options po;
    dmp_producer_options_init(&po);
    po.wait_strategy = DMP_WAIT_BUSY_SPIN;
    dmp_producer *p = NULL;
    int32_t st = dmp_producer_open(ring, &po, &p);
    if (st != DMP_STATUS_OK) return fail("producer", st);
    printf("ready\n");
    fflush(stdout);
    uint64_t start = now_ns();
    for (uint64_t i = 0; i < events;) {
        uint64_t n = events - i < batch ? events - i : batch;
        int64_t first = 0;
        st = dmp_claim(p, n, STALL_NS, &first);
        if (st != DMP_STATUS_OK) return fail("claim", st);
        /* The whole batch's slots in one call: at most two runs. */
        dmp_span span;
        span.struct_size = sizeof span;
        st = dmp_producer_span(p, first, first + (int64_t)n - 1, &span);
        if (st != DMP_STATUS_OK) return fail("span", st);
        for (uint64_t k = 0; k < n; k++) {
            uint8_t *slot = k < span.first_count
                                ? (uint8_t *)span.first + k * span.stride
                                : (uint8_t *)span.second + (k - span.first_count) * span.stride;
            if (size == 64) fill_event64(slot, i + k);
            else fill_event(slot, size, i + k);
        }
        st = dmp_publish(p, first, first + (int64_t)n - 1);
        if (st != DMP_STATUS_OK) return fail("publish", st);
        i += n;
    }
    printf("result events=%" PRIu64 " span_ns=%" PRIu64 "\n", events, now_ns() - start);
    return dmp_producer_close(p) == DMP_STATUS_OK ? 0 : 1;
}

static int consume(dmp_ring *ring, uint64_t events, size_t size) {
    dmp_consumer_options co;
    dmp_consumer_options_init(&co);
    co.wait_strategy = DMP_WAIT_BUSY_SPIN;
    dmp_consumer *c = NULL;
    int32_t st = dmp_consumer_open(ring, "bench", &co, &c);
    if (st != DMP_STATUS_OK) return fail("consumer", st);
    printf("ready\n");
    fflush(stdout);
    int64_t base = 0;
    st = dmp_consumer_next(c, &base);
    if (st != DMP_STATUS_OK) return fail("next", st);
    const int64_t last = base + (int64_t)events - 1;
    uint64_t first_at = 0, first_batch = 0, batches = 0;
    for (int64_t next = base; next <= last;) {
        int64_t available = 0;
        st = dmp_wait_for(c, next, STALL_NS, &available);
        if (st != DMP_STATUS_OK) return fail("wait", st);
        if (available > last) {
            fprintf(stderr, "bench_worker: more events than the %" PRIu64 " published\n", events);
            return 1;
        }
        batches++;
        if (first_at == 0) {
            first_at = now_ns();
            first_batch = (uint64_t)(available - next + 1);
        }
        dmp_span span;
        span.struct_size = sizeof span;
        st = dmp_consumer_span(c, next, available, &span);
        if (st != DMP_STATUS_OK) return fail("span", st);
        for (int64_t seq = next; seq <= available; seq++) {
            uint64_t k = (uint64_t)(seq - next);
            const uint8_t *slot = k < span.first_count
                                      ? (const uint8_t *)span.first + k * span.stride
                                      : (const uint8_t *)span.second + (k - span.first_count) * span.stride;
            int ok = size == 64 ? check_event(slot, 64, (uint64_t)(seq - base))
                                : check_event(slot, size, (uint64_t)(seq - base));
            if (!ok) {
                fprintf(stderr, "bench_worker: payload check failed at event %lld\n", (long long)(seq - base));
                return 1;
            }
        }
        st = dmp_commit(c, available);
        if (st != DMP_STATUS_OK) return fail("commit", st);
        next = available + 1;
    }
    printf("result events=%" PRIu64 " first_batch=%" PRIu64 " span_ns=%" PRIu64 " batches=%" PRIu64 "\n", events,
           first_batch, now_ns() - first_at, batches);
    return dmp_consumer_close(c) == DMP_STATUS_OK ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc != 7 || (strcmp(argv[1], "producer") != 0 && strcmp(argv[1], "consumer") != 0)) {
        fprintf(stderr, "usage: bench_worker producer|consumer RING EVENTS SIZE BATCH CPU\n");
        return 2;
    }
    uint64_t events = strtoull(argv[3], NULL, 10);
    size_t size = (size_t)strtoull(argv[4], NULL, 10);
    uint64_t batch = strtoull(argv[5], NULL, 10);
    int cpu = atoi(argv[6]);
    if (events == 0 || size < 8 || size > 256 || batch == 0) {
        fprintf(stderr, "bench_worker: EVENTS >= 1, 8 <= SIZE <= 256, BATCH >= 1\n");
        return 2;
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
        fprintf(stderr, "bench_worker: cannot pin to CPU %d; running unpinned\n", cpu);
    }
    dmp_ring_options ro;
    dmp_ring_options_init(&ro);
    ro.slot_size = (uint32_t)size;
    dmp_ring *ring = NULL;
    int32_t st = dmp_ring_open(argv[2], &ro, &ring);
    if (st != DMP_STATUS_OK) return fail("open", st);
    dmp_ring_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    st = dmp_ring_get_info(ring, &info);
    if (st != DMP_STATUS_OK) return fail("info", st);
    if (batch > info.capacity) batch = info.capacity;
    int rc = strcmp(argv[1], "producer") == 0 ? produce(ring, events, size, batch) : consume(ring, events, size);
    if (dmp_ring_close(ring) != DMP_STATUS_OK) rc = 1;
    return rc;
}
