/* producer: publishes numbered, verifiable events to a ring in batches.
 *
 * usage: producer RING [--count N] [--batch B] [--wait spin|yield|sleep|block]
 *                      [--create [--capacity SLOTS] [--slot-size BYTES]]
 *
 * Without --create the ring must exist (the program waits up to 10 s for it
 * to appear); with --create it is created unless it exists. Events are
 * numbered on from the ring's cursor and carry the pattern of payload.h.
 * --count 0 only creates or opens the ring.
 */
#include "disruptor_mp.h"
#include "options.h"
#include "payload.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define PROGRAM "producer"
#define TIMEOUT_NS (10ull * 1000 * 1000 * 1000)

int main(int argc, char **argv) {
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: " PROGRAM " RING [--count N] [--batch B] [--wait spin|yield|sleep|block]\n"
                        "                [--create [--capacity SLOTS] [--slot-size BYTES]]\n");
        return 2;
    }
    const char *name = argv[1];
    uint64_t count = 1000000, batch = 64;
    bool create = false;
    dmp_ring_options ro;
    dmp_ring_options_init(&ro);
    dmp_producer_options po;
    dmp_producer_options_init(&po);
    for (int i = 2; i < argc; i++) {
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--count") == 0) {
            count = example_number(PROGRAM, argv[i], next), i++;
        } else if (strcmp(argv[i], "--batch") == 0) {
            batch = example_number(PROGRAM, argv[i], next), i++;
        } else if (strcmp(argv[i], "--capacity") == 0) {
            ro.capacity = example_number(PROGRAM, argv[i], next), i++;
        } else if (strcmp(argv[i], "--slot-size") == 0) {
            ro.slot_size = (uint32_t)example_number(PROGRAM, argv[i], next), i++;
        } else if (strcmp(argv[i], "--wait") == 0) {
            po.wait_strategy = example_wait(PROGRAM, next), i++;
        } else if (strcmp(argv[i], "--create") == 0) {
            create = true;
        } else {
            fprintf(stderr, PROGRAM ": unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (batch == 0) batch = 1;

    /* Open (or create) the ring. */
    dmp_ring *ring = NULL;
    int32_t st;
    if (create) {
        bool created = false;
        st = dmp_ring_open_or_create(name, &ro, &ring, &created);
        if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "create", st);
        printf("%s ring %s\n", created ? "created" : "opened", name);
    } else {
        ro.timeout_ns = TIMEOUT_NS; /* wait for the ring to appear */
        st = dmp_ring_open(name, &ro, &ring);
        if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "open", st);
        printf("opened ring %s\n", name);
    }
    fflush(stdout);
    dmp_ring_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    st = dmp_ring_get_info(ring, &info);
    if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "info", st);
    if (batch > info.capacity) batch = info.capacity;

    /* Attach as the ring's producer. */
    dmp_producer *producer = NULL;
    st = dmp_producer_open(ring, &po, &producer);
    if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "producer", st);

    /* Claim a batch, fill every slot, publish the batch. */
    uint64_t number = (uint64_t)(info.cursor + 1);
    uint64_t sent = 0;
    while (sent < count) {
        uint64_t n = count - sent < batch ? count - sent : batch;
        int64_t first = 0;
        st = dmp_claim(producer, n, TIMEOUT_NS, &first);
        if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "claim", st);
        for (uint64_t k = 0; k < n; k++) {
            uint8_t *slot = (uint8_t *)dmp_producer_slot(producer, first + (int64_t)k);
            if (slot == NULL) return example_fail(PROGRAM, "slot", DMP_STATUS_SEQUENCE_OUT_OF_RANGE);
            payload_fill(number + sent + k, slot, info.slot_size);
        }
        st = dmp_publish(producer, first, first + (int64_t)n - 1);
        if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "publish", st);
        sent += n;
    }
    printf("produced %llu events\n", (unsigned long long)sent);

    st = dmp_producer_close(producer);
    if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "close producer", st);
    st = dmp_ring_close(ring);
    if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "close ring", st);
    return 0;
}
