/* Prints a snapshot of a ring, read from outside (this process takes no
 * part in the ring): ring-wide figures, every consumer and producer, and
 * every non-zero counter with its label, one per line.
 * usage: ring_stat RING */
#include "disruptor_mp.h"
#include <stdio.h>

static int fail(const char *what, int32_t st) {
    fprintf(stderr, "ring_stat: %s: %s: %s\n", what, dmp_status_str(st), dmp_last_error_message());
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: ring_stat RING\n");
        return 2;
    }
    dmp_ring *ring = NULL;
    int32_t st = dmp_ring_open(argv[1], NULL, &ring);
    if (st != DMP_STATUS_OK) return fail("open", st);
    dmp_snapshot *snap = NULL;
    if ((st = dmp_snapshot_take(ring, &snap)) != DMP_STATUS_OK) return fail("snapshot", st);
    dmp_ring_stats stats;
    stats.struct_size = sizeof stats;
    if ((st = dmp_snapshot_stats(snap, &stats)) != DMP_STATUS_OK) return fail("stats", st);
    printf("published %llu\n", (unsigned long long)stats.published);
    printf("cursor %lld\n", (long long)stats.cursor);
    printf("attaches %llu\n", (unsigned long long)stats.attaches);
    printf("detaches %llu\n", (unsigned long long)stats.detaches);
    printf("abandoned %llu\n", (unsigned long long)stats.abandoned);
    for (uint32_t i = 0; i < stats.consumer_count; i++) {
        dmp_consumer_status c;
        c.struct_size = sizeof c;
        if ((st = dmp_snapshot_consumer(snap, i, &c)) != DMP_STATUS_OK) return fail("consumer", st);
        printf("consumer %s sequence %lld events %llu batches %llu alive %u\n", c.name,
               (long long)c.sequence, (unsigned long long)c.events,
               (unsigned long long)c.batches, c.alive);
    }
    for (uint32_t i = 0; i < stats.producer_count; i++) {
        dmp_producer_status p;
        p.struct_size = sizeof p;
        if ((st = dmp_snapshot_producer(snap, i, &p)) != DMP_STATUS_OK) return fail("producer", st);
        printf("producer %u events %llu batches %llu alive %u\n", p.index,
               (unsigned long long)p.events, (unsigned long long)p.batches, p.alive);
    }
    for (uint32_t i = 0; i < stats.counter_count; i++) {
        dmp_counter c;
        c.struct_size = sizeof c;
        if ((st = dmp_snapshot_counter(snap, i, &c)) != DMP_STATUS_OK) return fail("counter", st);
        if (c.value != 0 && c.owner_kind != DMP_OWNER_RING) {
            printf("counter %u/%u %s = %llu\n", c.owner_kind, c.owner_index, c.label,
                   (unsigned long long)c.value);
        }
    }
    /* Out of range and after free: errors, not crashes. */
    dmp_consumer_status none;
    none.struct_size = sizeof none;
    if (dmp_snapshot_consumer(snap, stats.consumer_count, &none) != DMP_STATUS_INVALID_ARGUMENT) return 1;
    if (dmp_snapshot_free(snap) != DMP_STATUS_OK) return 1;
    if (dmp_snapshot_stats(snap, &stats) != DMP_STATUS_INVALID_HANDLE) return 1;
    if (dmp_snapshot_free(snap) != DMP_STATUS_INVALID_HANDLE) return 1;
    if (dmp_ring_close(ring) != DMP_STATUS_OK) return 1;
    printf("ok\n");
    return 0;
}
