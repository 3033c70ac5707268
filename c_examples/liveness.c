/* liveness: what keeps a ring working while processes come and go.
 *
 * usage: liveness RING optional NAME [--max-block-ms MS] [--until SEQ]
 *        liveness RING required NAME --count N [--die-after K]
 *        liveness RING produce --count N [--ready NAME]... [--ready-count C]
 *                              [--ready-timeout-ms MS] [--dead-ms MS]
 *        (every role: [--timeout-ms MS], default 10000)
 *
 * The same three roles as cpp_examples/liveness.cpp, in C:
 * optional: an optional consumer (a dashboard), which the producer evicts
 *   rather than wait for it longer than --max-block-ms. With --until it
 *   plays a consumer too slow for the producer: it stops until it has been
 *   evicted and the cursor reached SEQ, then reads and learns it
 *   (DMP_STATUS_EVICTED), rejoins at the current position (dmp_consumer_rejoin
 *   says what it lost) and leaves. It prints what its name lost when it
 *   joined (dmp_consumer_lost_on_join).
 * required: a required consumer (an audit log), which the producer waits
 *   for. It commits at most 16 events at a time and checks that every event
 *   is intact and the one of its sequence, until it has read event N-1.
 *   With --die-after K it kills itself (SIGKILL) once it has committed K
 *   events, in the middle of a batch: started again under the same name it
 *   resumes from its commit (the uncommitted batch comes again; lost on
 *   join 0).
 * produce: a producer that waits for its consumers before the first
 *   publish (the readiness gate), so consumers started after it miss
 *   nothing; a required consumer dead for --dead-ms fails it naming it.
 */
#define _POSIX_C_SOURCE 200809L
#include "disruptor_mp.h"
#include "options.h"
#include "payload.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define PROGRAM "liveness"
#define MAX_READY 16
#define MS 1000000ull

static void joined(dmp_consumer *c, const char *name) {
    int64_t next = 0;
    uint64_t lost = 0;
    if (dmp_consumer_next(c, &next) != DMP_STATUS_OK || dmp_consumer_lost_on_join(c, &lost) != DMP_STATUS_OK) return;
    printf("ready %s\njoined at sequence %lld (lost on join %llu)\n", name, (long long)next, (unsigned long long)lost);
    fflush(stdout);
}

/* Whether the snapshot shows `name` evicted and the cursor at `until`. */
static int evicted_at(dmp_ring *ring, const char *name, int64_t until) {
    dmp_snapshot *snap = NULL;
    if (dmp_snapshot_take(ring, &snap) != DMP_STATUS_OK) return -1;
    dmp_ring_stats stats = {.struct_size = sizeof stats};
    int found = dmp_snapshot_stats(snap, &stats) == DMP_STATUS_OK ? 0 : -1;
    for (uint32_t i = 0; found == 0 && i < stats.consumer_count; i++) {
        dmp_consumer_status c = {.struct_size = sizeof c};
        if (dmp_snapshot_consumer(snap, i, &c) != DMP_STATUS_OK) found = -1;
        else if (strcmp(c.name, name) == 0 && c.state == 4 /* evicted */ && stats.cursor >= until) found = 1;
    }
    (void)dmp_snapshot_free(snap);
    return found;
}

static int optional_role(dmp_ring *ring, const char *name, uint64_t max_block_ms, int64_t until, uint64_t timeout_ms) {
    dmp_consumer_options co;
    dmp_consumer_options_init(&co);
    co.optional = 1;
    co.max_block_ns = max_block_ms * MS;
    dmp_consumer *c = NULL;
    int32_t st = dmp_consumer_open(ring, name, &co, &c);
    if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "dmp_consumer_open", st);
    joined(c, name);
    if (until >= 0) {
        /* Stuck (it reads nothing) until the producer has evicted it and gone on. */
        const struct timespec tick = {0, 1000000};
        for (uint64_t waited = 0; evicted_at(ring, name, until) != 1; waited++) {
            if (waited > timeout_ms) {
                fprintf(stderr, PROGRAM ": not evicted, or the cursor short of %lld, in time\n", (long long)until);
                return 1;
            }
            nanosleep(&tick, NULL);
        }
        /* dmp_wait_for or, if events look available, dmp_commit learns it
         * (a batch read since the last commit is void). */
        int64_t next = 0, avail = 0;
        st = dmp_consumer_next(c, &next);
        if (st == DMP_STATUS_OK) st = dmp_wait_for(c, next, timeout_ms * MS, &avail);
        if (st == DMP_STATUS_OK) st = dmp_commit(c, avail);
        if (st != DMP_STATUS_EVICTED) return example_fail(PROGRAM, "a commit after the eviction", st);
        printf("evicted: %s\n", dmp_last_error_message());
        uint64_t lost = 0;
        st = dmp_consumer_rejoin(c, &lost);
        if (st != DMP_STATUS_OK || (st = dmp_consumer_next(c, &next)) != DMP_STATUS_OK)
            return example_fail(PROGRAM, "dmp_consumer_rejoin", st);
        printf("rejoined at sequence %lld, lost %llu\n", (long long)next, (unsigned long long)lost);
    }
    st = dmp_consumer_close(c);
    return st == DMP_STATUS_OK ? 0 : example_fail(PROGRAM, "dmp_consumer_close", st);
}

static int required_role(dmp_ring *ring, const char *name, int64_t last, uint64_t die_after, uint64_t timeout_ms) {
    dmp_ring_info info = {.struct_size = sizeof info};
    int32_t st = dmp_ring_get_info(ring, &info);
    if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "dmp_ring_get_info", st);
    dmp_consumer *c = NULL;
    st = dmp_consumer_open(ring, name, NULL, &c);
    if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "dmp_consumer_open", st);
    joined(c, name);
    int64_t next = 0, first = 0;
    st = dmp_consumer_next(c, &first);
    if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "dmp_consumer_next", st);
    uint64_t got = 0;
    for (next = first; next <= last;) {
        int64_t avail = 0;
        st = dmp_wait_for(c, next, timeout_ms * MS, &avail);
        if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "dmp_wait_for", st);
        if (avail > next + 15) avail = next + 15;
        if (avail > last) avail = last;
        for (int64_t seq = next; seq <= avail; seq++) {
            const void *slot = NULL;
            uint64_t number = 0;
            st = dmp_consumer_event(c, seq, &slot);
            if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "dmp_consumer_event", st);
            if (payload_check(slot, info.slot_size, &number) != 0 || number != (uint64_t)seq) {
                fprintf(stderr, PROGRAM ": wrong event %llu at sequence %lld\n", (unsigned long long)number, (long long)seq);
                return 1;
            }
        }
        if (die_after > 0 && got >= die_after) {
            printf("killed with sequences [%lld, %lld] read, not committed\n", (long long)next, (long long)avail);
            fflush(stdout);
            raise(SIGKILL);
        }
        st = dmp_commit(c, avail);
        if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "dmp_commit", st);
        got += (uint64_t)(avail - next + 1);
        next = avail + 1;
    }
    printf("consumed %llu events, sequences %lld to %lld\n", (unsigned long long)got, (long long)first, (long long)last);
    st = dmp_consumer_close(c);
    return st == DMP_STATUS_OK ? 0 : example_fail(PROGRAM, "dmp_consumer_close", st);
}

static int produce_role(dmp_ring *ring, uint64_t count, const char **ready, size_t ready_names, uint32_t ready_count,
                        uint64_t ready_timeout_ms, uint64_t dead_ms, uint64_t timeout_ms) {
    dmp_producer_options po;
    dmp_producer_options_init(&po);
    po.ready_consumers = ready_count;
    po.ready_names = ready_names > 0 ? ready : NULL;
    po.ready_name_count = ready_names;
    po.ready_timeout_ns = ready_timeout_ms * MS;
    po.consumer_dead_timeout_ns = dead_ms * MS;
    printf("waiting for %u consumers\n", ready_count);
    fflush(stdout);
    dmp_producer *p = NULL;
    int32_t st = dmp_producer_open(ring, &po, &p); /* the readiness gate */
    if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "dmp_producer_open", st);
    printf("consumers ready\n");
    fflush(stdout);
    dmp_ring_info info = {.struct_size = sizeof info};
    st = dmp_ring_get_info(ring, &info);
    if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "dmp_ring_get_info", st);
    uint8_t event[4096];
    if (info.slot_size > sizeof event) return example_fail(PROGRAM, "slot size", DMP_STATUS_INVALID_SLOT_SIZE);
    for (uint64_t i = 0; i < count; i++) {
        payload_fill((uint64_t)(info.cursor + 1) + i, event, info.slot_size);
        st = dmp_publish_one(p, event, info.slot_size, timeout_ms * MS, NULL);
        if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "dmp_publish_one", st);
    }
    printf("produced %llu events\n", (unsigned long long)count);
    st = dmp_producer_close(p);
    return st == DMP_STATUS_OK ? 0 : example_fail(PROGRAM, "dmp_producer_close", st);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: " PROGRAM " RING optional|required NAME [options] | " PROGRAM " RING produce [options]\n");
        return 2;
    }
    const char *role = argv[2];
    const int produce = strcmp(role, "produce") == 0;
    if (!produce && (argc < 4 || (strcmp(role, "optional") != 0 && strcmp(role, "required") != 0))) {
        fprintf(stderr, PROGRAM ": expected a role (optional NAME, required NAME or produce)\n");
        return 2;
    }
    const char *name = produce ? NULL : argv[3];
    const char *ready[MAX_READY];
    size_t ready_names = 0;
    uint64_t count = 0, die_after = 0, max_block_ms = 10, until = 0, timeout_ms = 10000;
    uint64_t ready_count = UINT64_MAX, ready_timeout_ms = 10000, dead_ms = 5000;
    for (int i = produce ? 3 : 4; i < argc; i++) {
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--ready") == 0 && next != NULL && ready_names < MAX_READY) ready[ready_names++] = next, i++;
        else if (strcmp(argv[i], "--count") == 0) count = example_number(PROGRAM, argv[i], next), i++;
        else if (strcmp(argv[i], "--die-after") == 0) die_after = example_number(PROGRAM, argv[i], next), i++;
        else if (strcmp(argv[i], "--max-block-ms") == 0) max_block_ms = example_number(PROGRAM, argv[i], next), i++;
        else if (strcmp(argv[i], "--until") == 0) until = example_number(PROGRAM, argv[i], next), i++;
        else if (strcmp(argv[i], "--timeout-ms") == 0) timeout_ms = example_number(PROGRAM, argv[i], next), i++;
        else if (strcmp(argv[i], "--ready-count") == 0) ready_count = example_number(PROGRAM, argv[i], next), i++;
        else if (strcmp(argv[i], "--ready-timeout-ms") == 0) ready_timeout_ms = example_number(PROGRAM, argv[i], next), i++;
        else if (strcmp(argv[i], "--dead-ms") == 0) dead_ms = example_number(PROGRAM, argv[i], next), i++;
        else {
            fprintf(stderr, PROGRAM ": unknown or incomplete option %s\n", argv[i]);
            return 2;
        }
    }
    dmp_ring_options ro;
    dmp_ring_options_init(&ro);
    ro.timeout_ns = timeout_ms * MS;
    dmp_ring *ring = NULL;
    int32_t st = dmp_ring_open(argv[1], &ro, &ring);
    if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "dmp_ring_open", st);
    int rc;
    if (produce)
        rc = produce_role(ring, count, ready, ready_names, ready_count == UINT64_MAX ? (uint32_t)ready_names : (uint32_t)ready_count,
                          ready_timeout_ms, dead_ms, timeout_ms);
    else if (strcmp(role, "optional") == 0)
        rc = optional_role(ring, name, max_block_ms, (int64_t)until - 1, timeout_ms);
    else
        rc = required_role(ring, name, (int64_t)count - 1, die_after, timeout_ms);
    st = dmp_ring_close(ring);
    return rc != 0 ? rc : (st == DMP_STATUS_OK ? 0 : example_fail(PROGRAM, "dmp_ring_close", st));
}
