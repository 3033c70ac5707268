/* pipeline: a producer and a two-stage pipeline of consumers in one process.
 *
 * usage: pipeline RING [--count N] [--batch B]
 *
 * Creates ring RING (1024 slots of 64 bytes), registers consumer "parse"
 * and consumer "journal", which depends on "parse": the library hands
 * "journal" an event only after "parse" has committed it. Each stage runs
 * in its own thread, the producer in the main thread. Both stages verify
 * every event; "journal" also checks that "parse" had finished with every
 * event it is given. The ring is removed at the end.
 *
 * The same pipeline works across processes:
 *   consumer RING --name parse  &   consumer RING --name journal --after parse &
 */
#define _POSIX_C_SOURCE 200809L
#include "disruptor_mp.h"
#include "options.h"
#include "payload.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define PROGRAM "pipeline"
#define TIMEOUT_NS (10ull * 1000 * 1000 * 1000)
#define SLOT_SIZE 64

/* How far "parse" has finished: written before it commits, so it is never
 * behind what the library lets "journal" read. */
static _Atomic int64_t parse_done = -1;

struct stage {
    const char *name;
    dmp_consumer *consumer;
    uint64_t count;
    bool check_parse_first; /* the journal stage */
    uint64_t sum;           /* of the event numbers, compared at the end */
    int failed;
};

static void *run_stage(void *arg) {
    struct stage *s = arg;
    int64_t next = 0;
    int32_t st = dmp_consumer_next(s->consumer, &next);
    uint64_t got = 0;
    while (st == DMP_STATUS_OK && got < s->count) {
        int64_t available = 0;
        st = dmp_wait_for(s->consumer, next, TIMEOUT_NS, &available);
        if (st != DMP_STATUS_OK) break;
        if (s->check_parse_first && atomic_load_explicit(&parse_done, memory_order_acquire) < available) {
            fprintf(stderr, PROGRAM ": %s was given sequence %lld before parse finished it\n", s->name,
                    (long long)available);
            s->failed = 1;
            return NULL;
        }
        for (int64_t seq = next; seq <= available; seq++) {
            const uint8_t *slot = (const uint8_t *)dmp_consumer_slot(s->consumer, seq);
            uint64_t number = 0;
            if (slot == NULL || payload_check(slot, SLOT_SIZE, &number) != 0 || number != got + (uint64_t)(seq - next)) {
                fprintf(stderr, PROGRAM ": %s: wrong event at sequence %lld\n", s->name, (long long)seq);
                s->failed = 1;
                return NULL;
            }
            s->sum += number;
        }
        if (!s->check_parse_first) atomic_store_explicit(&parse_done, available, memory_order_release);
        st = dmp_commit(s->consumer, available);
        got += (uint64_t)(available - next + 1);
        next = available + 1;
    }
    if (st != DMP_STATUS_OK) {
        example_fail(s->name, "stage", st);
        s->failed = 1;
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: " PROGRAM " RING [--count N] [--batch B]\n");
        return 2;
    }
    const char *name = argv[1];
    uint64_t count = 1000000, batch = 32;
    for (int i = 2; i < argc; i++) {
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--count") == 0) {
            count = example_number(PROGRAM, argv[i], next), i++;
        } else if (strcmp(argv[i], "--batch") == 0) {
            batch = example_number(PROGRAM, argv[i], next), i++;
        } else {
            fprintf(stderr, PROGRAM ": unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (batch == 0) batch = 1;
    if (batch > 1024) batch = 1024;

    dmp_ring_options ro;
    dmp_ring_options_init(&ro);
    ro.capacity = 1024;
    ro.slot_size = SLOT_SIZE;
    dmp_ring *ring = NULL;
    int32_t st = dmp_ring_create(name, &ro, &ring);
    if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "create", st);

    int status = 1;
    dmp_consumer *parse = NULL, *journal = NULL;
    dmp_producer *producer = NULL;
    /* Stages register before the producer starts, so they see every event. */
    st = dmp_consumer_open(ring, "parse", NULL, &parse);
    if (st != DMP_STATUS_OK) {
        example_fail(PROGRAM, "register parse", st);
        goto out;
    }
    const char *after_parse[] = {"parse"};
    dmp_consumer_options co;
    dmp_consumer_options_init(&co);
    co.dependencies = after_parse;
    co.dependency_count = 1;
    st = dmp_consumer_open(ring, "journal", &co, &journal);
    if (st != DMP_STATUS_OK) {
        example_fail(PROGRAM, "register journal", st);
        goto out;
    }
    st = dmp_producer_open(ring, NULL, &producer);
    if (st != DMP_STATUS_OK) {
        example_fail(PROGRAM, "producer", st);
        goto out;
    }

    struct stage stages[2] = {
        {.name = "parse", .consumer = parse, .count = count},
        {.name = "journal", .consumer = journal, .count = count, .check_parse_first = true},
    };
    pthread_t threads[2];
    int started = 0;
    for (; started < 2; started++) {
        if (pthread_create(&threads[started], NULL, run_stage, &stages[started]) != 0) {
            fprintf(stderr, PROGRAM ": cannot start a thread\n");
            break;
        }
    }
    uint64_t sent = 0;
    while (started == 2 && sent < count) {
        uint64_t n = count - sent < batch ? count - sent : batch;
        int64_t first = 0;
        st = dmp_claim(producer, n, TIMEOUT_NS, &first);
        if (st != DMP_STATUS_OK) {
            example_fail(PROGRAM, "claim", st);
            break;
        }
        for (uint64_t k = 0; k < n && st == DMP_STATUS_OK; k++) {
            uint8_t *slot = (uint8_t *)dmp_producer_slot(producer, first + (int64_t)k);
            if (slot == NULL) st = DMP_STATUS_SEQUENCE_OUT_OF_RANGE;
            else payload_fill(sent + k, slot, SLOT_SIZE);
        }
        if (st != DMP_STATUS_OK) {
            example_fail(PROGRAM, "slot", st);
            break;
        }
        st = dmp_publish(producer, first, first + (int64_t)n - 1);
        if (st != DMP_STATUS_OK) {
            example_fail(PROGRAM, "publish", st);
            break;
        }
        sent += n;
    }
    /* On a producer failure the stages give up after their timeout. */
    for (int i = 0; i < started; i++) pthread_join(threads[i], NULL);
    uint64_t want = count == 0 ? 0 : count * (count - 1) / 2;
    if (started == 2 && sent == count && !stages[0].failed && !stages[1].failed && stages[0].sum == want &&
        stages[1].sum == want) {
        printf("pipeline: %llu events through parse then journal, sums agree (%llu)\n", (unsigned long long)count,
               (unsigned long long)want);
        status = 0;
    } else {
        fprintf(stderr, PROGRAM ": failed: sent %llu of %llu, sums %llu and %llu, expected %llu\n",
                (unsigned long long)sent, (unsigned long long)count, (unsigned long long)stages[0].sum,
                (unsigned long long)stages[1].sum, (unsigned long long)want);
    }

out:
    if (dmp_producer_close(producer) != DMP_STATUS_OK) status = 1;
    if (dmp_consumer_close(journal) != DMP_STATUS_OK) status = 1;
    if (dmp_consumer_close(parse) != DMP_STATUS_OK) status = 1;
    if (dmp_ring_close(ring) != DMP_STATUS_OK) status = 1;
    if (dmp_ring_unlink(name, DMP_BACKING_SHM) != DMP_STATUS_OK) status = 1;
    return status;
}
