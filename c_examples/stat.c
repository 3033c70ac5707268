/* stat: prints a ring's layout and cursor without disturbing it.
 *
 * usage: stat RING [--file] [--interval-ms MS --samples N]
 *
 * Opens the ring (no producer, no consumer: nothing is held back) and
 * prints what dmp_ring_get_info reports. With --samples N it then prints
 * the cursor N more times, MS milliseconds apart (default 1000), with the
 * publish rate in between.
 */
#define _POSIX_C_SOURCE 200809L
#include "disruptor_mp.h"
#include "options.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define PROGRAM "stat"

static int32_t get_info(dmp_ring *ring, dmp_ring_info *info) {
    memset(info, 0, sizeof *info);
    info->struct_size = sizeof *info;
    return dmp_ring_get_info(ring, info);
}

static void print_info(const char *name, const dmp_ring_info *info) {
    printf("ring            %s\n", name);
    printf("library         %s\n", dmp_version());
    printf("layout          %s\n", info->layout == DMP_LAYOUT_PACKED ? "packed" : "stamped");
    printf("capacity        %llu slots\n", (unsigned long long)info->capacity);
    printf("slot size       %u bytes\n", info->slot_size);
    printf("producer mode   %s\n", info->producer_mode == DMP_PRODUCER_MULTI ? "multi" : "single");
    printf("max consumers   %u\n", info->max_consumers);
    printf("wake-ups        %s\n", info->wakeups ? "on" : "off");
    printf("type id         %#llx\n", (unsigned long long)info->type_id);
    printf("cursor          %lld\n", (long long)info->cursor);
    /* Counters (published, claimed, back-pressure waits, per-consumer
     * consumed / batches / lag, ...) live in the segment; print them here,
     * one "name value" line each, once the C ABI exports them. */
}

int main(int argc, char **argv) {
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: " PROGRAM " RING [--file] [--interval-ms MS --samples N]\n");
        return 2;
    }
    const char *name = argv[1];
    uint64_t interval_ms = 1000, samples = 0;
    dmp_ring_options ro;
    dmp_ring_options_init(&ro);
    for (int i = 2; i < argc; i++) {
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--file") == 0) {
            ro.backing = DMP_BACKING_FILE;
        } else if (strcmp(argv[i], "--interval-ms") == 0) {
            interval_ms = example_number(PROGRAM, argv[i], next), i++;
        } else if (strcmp(argv[i], "--samples") == 0) {
            samples = example_number(PROGRAM, argv[i], next), i++;
        } else {
            fprintf(stderr, PROGRAM ": unknown option %s\n", argv[i]);
            return 2;
        }
    }

    dmp_ring *ring = NULL;
    int32_t st = dmp_ring_open(name, &ro, &ring);
    if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "open", st);
    dmp_ring_info info;
    st = get_info(ring, &info);
    if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "info", st);
    print_info(name, &info);

    int64_t last = info.cursor;
    struct timespec pause = {.tv_sec = (time_t)(interval_ms / 1000), .tv_nsec = (long)(interval_ms % 1000) * 1000000L};
    for (uint64_t i = 0; i < samples; i++) {
        nanosleep(&pause, NULL);
        st = get_info(ring, &info);
        if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "info", st);
        double rate = interval_ms ? (double)(info.cursor - last) * 1000.0 / (double)interval_ms : 0.0;
        printf("cursor          %lld (%.0f events/s)\n", (long long)info.cursor, rate);
        fflush(stdout);
        last = info.cursor;
    }
    st = dmp_ring_close(ring);
    if (st != DMP_STATUS_OK) return example_fail(PROGRAM, "close", st);
    return 0;
}
