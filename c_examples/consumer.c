/* consumer: registers a consumer on a ring and verifies COUNT events.
 *
 * usage: consumer RING --name NAME [--count N] [--after OTHER]...
 *                      [--wait spin|yield|sleep|block] [--timeout-ms MS]
 *
 * Waits up to 10 s for the ring to appear, registers NAME (reading each
 * event only after every --after consumer has committed it: a pipeline
 * stage), prints "ready NAME", then reads whole batches, checks that every
 * event is intact (payload.h) and that the numbers follow each other, and
 * commits each batch. Exits non-zero on any error or when no event arrives
 * for --timeout-ms (default 10000).
 */
#include "disruptor_mp.h"
#include "options.h"
#include "payload.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define PROGRAM "consumer"
#define MAX_AFTER 16

int main(int argc, char **argv) {
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: " PROGRAM " RING --name NAME [--count N] [--after OTHER]...\n"
                        "                [--wait spin|yield|sleep|block] [--timeout-ms MS]\n");
        return 2;
    }
    const char *ring_name = argv[1];
    const char *name = NULL;
    const char *after[MAX_AFTER];
    size_t after_count = 0;
    uint64_t count = 1000000, timeout_ms = 10000;
    dmp_consumer_options co;
    dmp_consumer_options_init(&co);
    for (int i = 2; i < argc; i++) {
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--name") == 0 && next != NULL) {
            name = next, i++;
        } else if (strcmp(argv[i], "--after") == 0 && next != NULL && after_count < MAX_AFTER) {
            after[after_count++] = next, i++;
        } else if (strcmp(argv[i], "--count") == 0) {
            count = example_number(PROGRAM, argv[i], next), i++;
        } else if (strcmp(argv[i], "--timeout-ms") == 0) {
            timeout_ms = example_number(PROGRAM, argv[i], next), i++;
        } else if (strcmp(argv[i], "--wait") == 0) {
            co.wait_strategy = example_wait(PROGRAM, next), i++;
        } else {
            fprintf(stderr, PROGRAM ": unknown or incomplete option %s\n", argv[i]);
            return 2;
        }
    }
    if (name == NULL) {
        fprintf(stderr, PROGRAM ": --name NAME is required\n");
        return 2;
    }
    const uint64_t timeout_ns = timeout_ms * 1000 * 1000;

    /* Open the ring, waiting for it to appear. */
    dmp_ring_options ro;
    dmp_ring_options_init(&ro);
    ro.timeout_ns = timeout_ns;
    dmp_ring *ring = NULL;
    int32_t st = dmp_ring_open(ring_name, &ro, &ring);
    if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "open", st);
    dmp_ring_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    st = dmp_ring_get_info(ring, &info);
    if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "info", st);

    /* Register; from now on the producer cannot overwrite what we have not read. */
    co.dependencies = after_count > 0 ? after : NULL;
    co.dependency_count = after_count;
    dmp_consumer *consumer = NULL;
    st = dmp_consumer_open(ring, name, &co, &consumer);
    if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "register", st);
    printf("ready %s\n", name);
    fflush(stdout);

    int64_t next = 0;
    st = dmp_consumer_next(consumer, &next);
    if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "next", st);
    uint64_t got = 0, expected = 0, batches = 0;
    bool started = false;
    while (got < count) {
        /* Wait for `next`; learn how far we may read in one go. */
        int64_t available = 0;
        st = dmp_wait_for(consumer, next, timeout_ns, &available);
        if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "wait", st);
        if ((uint64_t)(available - next) >= count - got) available = next + (int64_t)(count - got) - 1;
        for (int64_t seq = next; seq <= available; seq++) {
            const uint8_t *slot = (const uint8_t *)dmp_consumer_slot(consumer, seq);
            if (slot == NULL) return example_fail(PROGRAM, "slot", DMP_STATUS_SEQUENCE_OUT_OF_RANGE);
            uint64_t number = 0;
            if (payload_check(slot, info.slot_size, &number) != 0) {
                fprintf(stderr, PROGRAM ": damaged event at sequence %lld\n", (long long)seq);
                return 1;
            }
            if (started && number != expected) {
                fprintf(stderr, PROGRAM ": event %llu at sequence %lld, expected %llu\n",
                        (unsigned long long)number, (long long)seq, (unsigned long long)expected);
                return 1;
            }
            started = true;
            expected = number + 1;
        }
        /* One release store: the producer may now reuse these slots. */
        st = dmp_commit(consumer, available);
        if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "commit", st);
        got += (uint64_t)(available - next + 1);
        batches++;
        next = available + 1;
    }
    printf("consumed %llu events in %llu batches, last event %lld\n", (unsigned long long)got,
           (unsigned long long)batches, started ? (long long)expected - 1 : -1LL);

    st = dmp_consumer_close(consumer);
    if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "close consumer", st);
    st = dmp_ring_close(ring);
    if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "close ring", st);
    return 0;
}
