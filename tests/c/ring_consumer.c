/* Attaches to an existing ring as consumer NAME and verifies COUNT events
 * written with the payload pattern, in order.
 * With "one", one event per call with dmp_consume_one (copied out to a
 * local buffer); otherwise batches with dmp_wait_for and dmp_commit.
 * RING_GAP_US (environment): a pause before each dmp_commit (each
 * dmp_consume_one with "one").
 * usage: ring_consumer RING NAME COUNT [one] */
#define _POSIX_C_SOURCE 200809L /* nanosleep (payload.h) */
#include "disruptor_mp.h"
#include "payload.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_NS (20ull * 1000 * 1000 * 1000)

static int fail(const char *what, int32_t st) {
    fprintf(stderr, "ring_consumer: %s: %s: %s\n", what, dmp_status_str(st), dmp_last_error_message());
    return 1;
}

/* The order check: the event at `seq` is intact and follows the last one. */
struct order {
    uint64_t expected;
    int have_expected;
};

static int check_event(struct order *o, const uint8_t *slot, uint32_t size, int64_t seq) {
    uint64_t i = 0;
    if (check_payload(slot, size, &i) != 0) {
        fprintf(stderr, "ring_consumer: torn payload at sequence %lld\n", (long long)seq);
        return 1;
    }
    if (o->have_expected && i != o->expected) {
        fprintf(stderr, "ring_consumer: event %llu at %lld, expected %llu\n", (unsigned long long)i,
                (long long)seq, (unsigned long long)o->expected);
        return 1;
    }
    o->expected = i + 1;
    o->have_expected = 1;
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 4 && !(argc == 5 && strcmp(argv[4], "one") == 0)) {
        fprintf(stderr, "usage: ring_consumer RING NAME COUNT [one]\n");
        return 2;
    }
    int one = argc == 5;
    uint64_t count = strtoull(argv[3], NULL, 10);
    dmp_ring_options ro;
    dmp_ring_options_init(&ro);
    ro.timeout_ns = TIMEOUT_NS;
    dmp_ring *ring = NULL;
    int32_t st = dmp_ring_open(argv[1], &ro, &ring);
    if (st != DMP_STATUS_OK) return fail("open", st);
    dmp_ring_info info;
    info.struct_size = sizeof info;
    st = dmp_ring_get_info(ring, &info);
    if (st != DMP_STATUS_OK) return fail("info", st);

    dmp_consumer_options co;
    dmp_consumer_options_init(&co);
    co.wait_strategy = DMP_WAIT_YIELD;
    dmp_consumer *c = NULL;
    st = dmp_consumer_open(ring, argv[2], &co, &c);
    if (st != DMP_STATUS_OK) return fail("consumer open", st);
    printf("ready %s\n", argv[2]);
    fflush(stdout);

    uint64_t got = 0;
    struct order order = {0, 0};
    int64_t next = 0;
    st = dmp_consumer_next(c, &next);
    if (st != DMP_STATUS_OK) return fail("next", st);
    uint8_t *event = (uint8_t *)malloc(info.slot_size);
    if (event == NULL) return fail("malloc", DMP_STATUS_IO);
    for (; one && got < count; got++) {
        int64_t seq = -1;
        gap();
        st = dmp_consume_one(c, event, info.slot_size, TIMEOUT_NS, &seq);
        if (st != DMP_STATUS_OK) return fail("consume_one", st);
        if (seq != next + (int64_t)got) {
            fprintf(stderr, "ring_consumer: event %llu at sequence %lld\n", (unsigned long long)got,
                    (long long)seq);
            return 1;
        }
        if (check_event(&order, event, info.slot_size, seq) != 0) return 1;
    }
    free(event);
    while (got < count) {
        int64_t avail = 0;
        st = dmp_wait_for(c, next, TIMEOUT_NS, &avail);
        if (st != DMP_STATUS_OK) return fail("wait_for", st);
        if (avail - next + 1 > (int64_t)(count - got)) avail = next + (int64_t)(count - got) - 1;
        for (int64_t s = next; s <= avail; s++) {
            const uint8_t *slot = (const uint8_t *)dmp_consumer_slot(c, s);
            if (slot == NULL) return fail("slot", DMP_STATUS_SEQUENCE_OUT_OF_RANGE);
            if (check_event(&order, slot, info.slot_size, s) != 0) return 1;
        }
        gap();
        st = dmp_commit(c, avail);
        if (st != DMP_STATUS_OK) return fail("commit", st);
        got += (uint64_t)(avail - next + 1);
        next = avail + 1;
    }
    printf("consumed %llu events, last event %llu\n", (unsigned long long)got,
           (unsigned long long)(order.expected - 1));
    if (dmp_consumer_close(c) != DMP_STATUS_OK) return 1;
    if (dmp_ring_close(ring) != DMP_STATUS_OK) return 1;
    return 0;
}
