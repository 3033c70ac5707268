/* Publishes COUNT events (numbered from 0) with the payload pattern, in
 * batches of BATCH. With "create", creates the ring (64 slots of 24 bytes;
 * "create-multi": a multi-producer ring) and waits for a line on stdin
 * before producing, so consumers can attach; "open" attaches to an existing
 * ring. PRODUCER_ID goes into the top 16 bits of event numbers, as
 * `dmp produce --producer-id` does. BATCH 0: one event per call, with
 * dmp_publish_one (a whole slot copied from a local buffer).
 * RING_GAP_US (environment): a pause before each claim.
 * usage: ring_producer RING COUNT BATCH [create|create-multi|open [PRODUCER_ID]] */
#define _POSIX_C_SOURCE 200809L /* nanosleep (payload.h) */
#include "disruptor_mp.h"
#include "payload.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_NS (20ull * 1000 * 1000 * 1000)

static int fail(const char *what, int32_t st) {
    fprintf(stderr, "ring_producer: %s: %s: %s\n", what, dmp_status_str(st), dmp_last_error_message());
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: ring_producer RING COUNT BATCH [create|create-multi|open [PRODUCER_ID]]\n");
        return 2;
    }
    uint64_t count = strtoull(argv[2], NULL, 10);
    uint64_t batch = strtoull(argv[3], NULL, 10);
    int multi = argc > 4 && strcmp(argv[4], "create-multi") == 0;
    int create = multi || (argc > 4 && strcmp(argv[4], "create") == 0);
    uint64_t id = argc > 5 ? strtoull(argv[5], NULL, 10) << 48 : 0;
    dmp_ring_options ro;
    dmp_ring_options_init(&ro);
    dmp_ring *ring = NULL;
    int32_t st;
    if (create) {
        ro.capacity = 64;
        ro.slot_size = 24;
        if (multi) {
            ro.producer_mode = DMP_PRODUCER_MULTI;
            ro.max_producers = 4;
        }
        st = dmp_ring_create(argv[1], &ro, &ring);
        if (st != DMP_STATUS_OK) return fail("create", st);
        printf("created\n");
        fflush(stdout);
        char line[16];
        if (fgets(line, sizeof line, stdin) == NULL) return fail("waiting for go", DMP_STATUS_IO);
    } else {
        st = dmp_ring_open(argv[1], NULL, &ring);
        if (st != DMP_STATUS_OK) return fail("open", st);
    }
    dmp_ring_info info;
    info.struct_size = sizeof info;
    if ((st = dmp_ring_get_info(ring, &info)) != DMP_STATUS_OK) return fail("info", st);

    dmp_producer *p = NULL;
    st = dmp_producer_open(ring, NULL, &p);
    if (st != DMP_STATUS_OK) return fail("producer open", st);
    uint64_t sent = 0;
    if (batch == 0) {
        uint8_t *event = (uint8_t *)malloc(info.slot_size);
        if (event == NULL) return fail("malloc", DMP_STATUS_IO);
        for (; sent < count; sent++) {
            int64_t seq = -1;
            fill_payload(id | sent, event, info.slot_size);
            st = dmp_publish_one(p, event, info.slot_size, TIMEOUT_NS, &seq);
            if (st != DMP_STATUS_OK) return fail("publish_one", st);
            if (create && !multi && seq != (int64_t)sent) {
                fprintf(stderr, "ring_producer: event %llu got sequence %lld\n",
                        (unsigned long long)sent, (long long)seq);
                return 1;
            }
        }
        free(event);
    }
    while (sent < count) {
        uint64_t n = batch < count - sent ? batch : count - sent;
        int64_t first = 0;
        gap();
        st = dmp_claim(p, n, TIMEOUT_NS, &first);
        if (st != DMP_STATUS_OK) return fail("claim", st);
        for (uint64_t k = 0; k < n; k++) {
            uint8_t *slot = (uint8_t *)dmp_producer_slot(p, first + (int64_t)k);
            if (slot == NULL) return fail("slot", DMP_STATUS_SEQUENCE_OUT_OF_RANGE);
            fill_payload(id | (sent + k), slot, info.slot_size);
        }
        st = dmp_publish(p, first, first + (int64_t)n - 1);
        if (st != DMP_STATUS_OK) return fail("publish", st);
        sent += n;
    }
    printf("produced %llu events\n", (unsigned long long)sent);
    if (dmp_producer_close(p) != DMP_STATUS_OK) return 1;
    if (dmp_ring_close(ring) != DMP_STATUS_OK) return 1;
    return 0;
}
