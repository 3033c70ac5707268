/* epoll: a consumer that waits inside an epoll loop on its wake-up fd.
 *
 * usage: epoll RING --name NAME [--count N] [--timeout-ms MS]
 *
 * Waits up to 10 s for the ring to appear, registers NAME, adds the
 * consumer's wake-up fd (dmp_consumer_wait_fd) to an epoll set, prints
 * "ready NAME", then loops: dmp_consumer_arm says DMP_STATUS_OK when events
 * are there (read the batch, check every event, commit) or
 * DMP_STATUS_WOULD_BLOCK when it armed the fd (epoll_wait for it). A real
 * service adds its sockets to the same epoll set. Each epoll_wait is
 * bounded (50 ms) and followed by a new arm, which covers a producer that
 * died between taking the arming and sending the wake-up. Prints the
 * number of wake-ups (readable fd) and of empty wake-ups (readable, yet
 * nothing available). Exits non-zero on any error or when no event arrives
 * for --timeout-ms (default 10000).
 */
#include "disruptor_mp.h"
#include "options.h"
#include "payload.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define PROGRAM "epoll"
#define SLICE_MS 50

int main(int argc, char **argv) {
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: " PROGRAM " RING --name NAME [--count N] [--timeout-ms MS]\n");
        return 2;
    }
    const char *ring_name = argv[1];
    const char *name = NULL;
    uint64_t count = 1000000, timeout_ms = 10000;
    for (int i = 2; i < argc; i++) {
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--name") == 0 && next != NULL) {
            name = next, i++;
        } else if (strcmp(argv[i], "--count") == 0) {
            count = example_number(PROGRAM, argv[i], next), i++;
        } else if (strcmp(argv[i], "--timeout-ms") == 0) {
            timeout_ms = example_number(PROGRAM, argv[i], next), i++;
        } else {
            fprintf(stderr, PROGRAM ": unknown or incomplete option %s\n", argv[i]);
            return 2;
        }
    }
    if (name == NULL) {
        fprintf(stderr, PROGRAM ": --name NAME is required\n");
        return 2;
    }

    dmp_ring_options ro;
    dmp_ring_options_init(&ro);
    ro.timeout_ns = timeout_ms * 1000 * 1000;
    dmp_ring *ring = NULL;
    int32_t st = dmp_ring_open(ring_name, &ro, &ring);
    if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "open", st);
    dmp_ring_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    st = dmp_ring_get_info(ring, &info);
    if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "info", st);
    dmp_consumer_options co;
    dmp_consumer_options_init(&co);
    dmp_consumer *consumer = NULL;
    st = dmp_consumer_open(ring, name, &co, &consumer);
    if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "register", st);

    /* The wake-up fd belongs to the consumer: add it, never close it. */
    int wake_fd = -1;
    st = dmp_consumer_wait_fd(consumer, &wake_fd);
    if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "wait fd", st);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        perror(PROGRAM ": epoll_create1");
        return 1;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data = {.fd = wake_fd}};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, wake_fd, &ev) != 0) {
        perror(PROGRAM ": epoll_ctl");
        return 1;
    }
    printf("ready %s\n", name);
    fflush(stdout);

    uint64_t got = 0, expected = 0, batches = 0, wakeups = 0, empty = 0, idle_ms = 0;
    bool started = false, woken = false;
    while (got < count) {
        st = dmp_consumer_arm(consumer);
        if (st == DMP_STATUS_WOULD_BLOCK) {
            /* Armed: nothing to read until the fd is readable. */
            if (woken) empty++;
            struct epoll_event out;
            int n = epoll_wait(ep, &out, 1, SLICE_MS);
            if (n < 0) {
                perror(PROGRAM ": epoll_wait");
                return 1;
            }
            woken = n > 0;
            if (woken) {
                wakeups++;
                idle_ms = 0;
            } else if ((idle_ms += SLICE_MS) >= timeout_ms) {
                fprintf(stderr, PROGRAM ": no event for %llu ms\n", (unsigned long long)timeout_ms);
                return 1;
            }
            continue;
        }
        if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "arm", st);
        woken = false;
        int64_t next = 0, available = 0;
        st = dmp_consumer_next(consumer, &next);
        if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "next", st);
        st = dmp_wait_for(consumer, next, 0, &available);
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
        st = dmp_commit(consumer, available);
        if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "commit", st);
        got += (uint64_t)(available - next + 1);
        batches++;
    }
    printf("consumed %llu events in %llu batches, %llu wake-ups, %llu empty, last event %lld\n",
           (unsigned long long)got, (unsigned long long)batches, (unsigned long long)wakeups,
           (unsigned long long)empty, started ? (long long)expected - 1 : -1LL);

    close(ep);
    st = dmp_consumer_close(consumer);
    if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "close consumer", st);
    st = dmp_ring_close(ring);
    if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "close ring", st);
    return 0;
}
