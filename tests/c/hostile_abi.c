/* Drives every data-path call of the C ABI against a ring whose segment a
 * hostile peer corrupts (tests/hostile_peers.rs): each call must return a
 * status (any status), never crash, hang or abort.
 * usage: hostile_abi RING ROUNDS
 * Attaches a producer and a consumer, then runs ROUNDS rounds of
 * claim/publish/wait_for/slot/commit/snapshot calls with short bounded
 * timeouts (the test keeps corrupting the segment meanwhile), and prints
 * how many calls answered OK and how many an error. */
#include "disruptor_mp.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_NS (1000ull * 1000) /* 1 ms: every wait is bounded */

static unsigned long ok_calls, err_calls;

static int32_t note(int32_t st) {
    if (st == DMP_STATUS_OK) {
        ok_calls++;
    } else {
        err_calls++;
        /* Every error carries a message. */
        if (dmp_last_error_message() == NULL || dmp_last_error_message()[0] == '\0') {
            fprintf(stderr, "hostile_abi: status %d without a message\n", (int)st);
            exit(3);
        }
    }
    return st;
}

static void observe(dmp_ring *ring) {
    dmp_ring_info info;
    info.struct_size = sizeof info;
    note(dmp_ring_get_info(ring, &info));
    dmp_snapshot *snap = NULL;
    if (note(dmp_snapshot_take(ring, &snap)) != DMP_STATUS_OK) return;
    dmp_ring_stats stats;
    stats.struct_size = sizeof stats;
    if (note(dmp_snapshot_stats(snap, &stats)) == DMP_STATUS_OK) {
        /* One past the end too: an error, not a read outside. */
        for (uint32_t i = 0; i <= stats.consumer_count; i++) {
            dmp_consumer_status c;
            c.struct_size = sizeof c;
            if (note(dmp_snapshot_consumer(snap, i, &c)) == DMP_STATUS_OK && strlen(c.name) >= sizeof c.name) {
                exit(4);
            }
        }
        for (uint32_t i = 0; i <= stats.producer_count; i++) {
            dmp_producer_status p;
            p.struct_size = sizeof p;
            note(dmp_snapshot_producer(snap, i, &p));
        }
        for (uint32_t i = 0; i <= stats.counter_count; i++) {
            dmp_counter c;
            c.struct_size = sizeof c;
            if (note(dmp_snapshot_counter(snap, i, &c)) == DMP_STATUS_OK && strlen(c.label) >= sizeof c.label) {
                exit(4);
            }
        }
    }
    note(dmp_snapshot_free(snap));
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: hostile_abi RING ROUNDS\n");
        return 2;
    }
    long rounds = strtol(argv[2], NULL, 10);
    dmp_ring_options ro;
    dmp_ring_options_init(&ro);
    ro.timeout_ns = 1000ull * 1000 * 1000;
    dmp_ring *ring = NULL;
    int32_t st = dmp_ring_open(argv[1], &ro, &ring);
    if (st != DMP_STATUS_OK) {
        fprintf(stderr, "hostile_abi: open: %s: %s\n", dmp_status_str(st), dmp_last_error_message());
        return 1;
    }
    dmp_ring_info info;
    info.struct_size = sizeof info;
    if (dmp_ring_get_info(ring, &info) != DMP_STATUS_OK) return 1;
    dmp_consumer_options co;
    dmp_consumer_options_init(&co);
    co.wait_strategy = DMP_WAIT_SLEEP;
    dmp_consumer *c = NULL;
    note(dmp_consumer_open(ring, "hostile-c", &co, &c));
    dmp_producer_options po;
    dmp_producer_options_init(&po);
    po.wait_strategy = DMP_WAIT_SLEEP;
    dmp_producer *p = NULL;
    note(dmp_producer_open(ring, &po, &p));

    int64_t next = 0;
    if (c != NULL) note(dmp_consumer_next(c, &next));
    for (long r = 0; r < rounds; r++) {
        if (p != NULL) {
            int64_t lo = 0;
            if (note(dmp_claim(p, 1 + (uint64_t)(r % 3), TIMEOUT_NS, &lo)) == DMP_STATUS_OK) {
                int64_t hi = lo + (r % 3);
                for (int64_t s = lo; s <= hi; s++) {
                    void *slot = dmp_producer_slot(p, s);
                    if (slot != NULL) memset(slot, (int)(s & 0xff), info.slot_size);
                    else err_calls++;
                }
                /* A sequence outside the claim: refused. */
                if (dmp_producer_slot(p, hi + 1) != NULL) return 5;
                note(dmp_publish(p, lo, hi));
            }
        }
        if (c != NULL) {
            int64_t avail = 0;
            note(dmp_consumer_next(c, &next));
            if (note(dmp_wait_for(c, next, TIMEOUT_NS, &avail)) == DMP_STATUS_OK) {
                for (int64_t s = next; s <= avail && s < next + 64; s++) {
                    const void *payload = NULL;
                    if (note(dmp_consumer_event(c, s, &payload)) == DMP_STATUS_OK) {
                        volatile const unsigned char *b = (const unsigned char *)payload;
                        (void)b[0];
                        (void)b[info.slot_size - 1];
                    }
                    const void *slot = dmp_consumer_slot(c, s);
                    if (slot != NULL) {
                        volatile const unsigned char *b = (const unsigned char *)slot;
                        (void)b[info.slot_size - 1];
                    }
                }
                note(dmp_commit(c, avail));
            }
            /* Far outside the available range: refused, not read. */
            if (dmp_consumer_slot(c, next + (int64_t)info.capacity * 4) != NULL) return 5;
            note(dmp_commit(c, INT64_MAX));
        }
        if (r % 16 == 0) observe(ring);
    }
    if (c != NULL) note(dmp_consumer_close(c));
    if (p != NULL) note(dmp_producer_close(p));
    note(dmp_ring_close(ring));
    printf("calls ok %lu, errors %lu\n", ok_calls, err_calls);
    return 0;
}
