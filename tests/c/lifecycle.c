/* A ring's lifecycle from C, with real processes (fork): reclaiming a
 * stale ring on open-or-create, dmp_ring_unlink refusing a ring with live
 * participants (this process's own consumer, a child's) and
 * dmp_ring_remove forcing it, joining at the oldest event with
 * lost_on_join exact, retiring a consumer whose process died (refused
 * while its holder lives, counted in the snapshot), unknown flag bits.
 * usage: lifecycle SHM_NAME          prints "N passed, M failed"
 * SHM_NAME must be a stale ring (used once, every participant gone). */
#define _GNU_SOURCE
#include "disruptor_mp.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int passed, failed;

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (cond) {                                                            \
            passed++;                                                          \
        } else {                                                               \
            failed++;                                                          \
            fprintf(stderr, "FAILED line %d: %s (last error: %s)\n", __LINE__, \
                    #cond, dmp_last_error_message());                          \
        }                                                                      \
    } while (0)

#define EXPECT(call, status) CHECK((call) == (status))

_Static_assert(offsetof(dmp_ring_options, open_flags) == 60, "open_flags took reserved's place");
_Static_assert(offsetof(dmp_consumer_options, join_flags) == 36, "join_flags took reserved's place");

static const uint64_t T = 10000000000ull; /* 10 s, every wait bounded */

static int contains(const char *haystack, const char *needle) { return strstr(haystack, needle) != NULL; }

/* A child process that registers consumer `name` and dies without
 * closing it (its lease goes with it, its entry stays, gating). */
static void consumer_that_dies(const char *ring_name, const char *name) {
    pid_t pid = fork();
    if (pid == 0) {
        dmp_ring *r = NULL;
        dmp_consumer *c = NULL;
        if (dmp_ring_open(ring_name, NULL, &r) != DMP_STATUS_OK) _exit(2);
        if (dmp_consumer_open(r, name, NULL, &c) != DMP_STATUS_OK) _exit(3);
        _exit(0);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: lifecycle SHM_NAME\n");
        return 2;
    }
    const char *name = argv[1];
    dmp_ring_options o;
    dmp_ring_options_init(&o);
    o.capacity = 16;
    o.slot_size = 8;

    /* Unknown open flags are refused; the stale ring is reclaimed. */
    o.open_flags = 0x80;
    dmp_ring *ring = NULL;
    bool created = false;
    EXPECT(dmp_ring_open_or_create(name, &o, &ring, &created), DMP_STATUS_INVALID_ARGUMENT);
    CHECK(contains(dmp_last_error_message(), "open_flags"));
    o.open_flags = 0;
    EXPECT(dmp_ring_open_or_create(name, &o, &ring, &created), DMP_STATUS_OK);
    CHECK(!created); /* without the flag: the stale ring is opened */
    EXPECT(dmp_ring_close(ring), DMP_STATUS_OK);
    o.open_flags = DMP_OPEN_RECLAIM_STALE;
    EXPECT(dmp_ring_open_or_create(name, &o, &ring, &created), DMP_STATUS_OK);
    CHECK(created);
    dmp_ring_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    EXPECT(dmp_ring_get_info(ring, &info), DMP_STATUS_OK);
    CHECK(info.cursor == -1 && info.capacity == 16);
    /* A fresh ring is unused, not stale: reclaiming again keeps it. */
    dmp_ring *same = NULL;
    EXPECT(dmp_ring_open_or_create(name, &o, &same, &created), DMP_STATUS_OK);
    CHECK(!created);
    EXPECT(dmp_ring_close(same), DMP_STATUS_OK);
    /* Read-only open: an observer. */
    dmp_ring_options ro;
    dmp_ring_options_init(&ro);
    ro.open_flags = DMP_OPEN_READ_ONLY;
    EXPECT(dmp_ring_open(name, &ro, &same), DMP_STATUS_OK);
    dmp_producer *refused = NULL;
    EXPECT(dmp_producer_open(same, NULL, &refused), DMP_STATUS_PERMISSION_DENIED);
    EXPECT(dmp_ring_close(same), DMP_STATUS_OK);

    /* "a" gates; five events, then the producer leaves. */
    dmp_consumer *a = NULL;
    EXPECT(dmp_consumer_open(ring, "a", NULL, &a), DMP_STATUS_OK);
    dmp_producer *p = NULL;
    EXPECT(dmp_producer_open(ring, NULL, &p), DMP_STATUS_OK);
    for (uint64_t i = 0; i < 5; i++) {
        EXPECT(dmp_publish_one(p, &i, sizeof i, T, NULL), DMP_STATUS_OK);
    }
    EXPECT(dmp_producer_close(p), DMP_STATUS_OK);

    /* Joining at the oldest event: behind "a", every event. */
    dmp_consumer_options co;
    dmp_consumer_options_init(&co);
    co.join_flags = 0x4;
    dmp_consumer *late = NULL;
    EXPECT(dmp_consumer_open(ring, "late", &co, &late), DMP_STATUS_INVALID_ARGUMENT);
    CHECK(contains(dmp_last_error_message(), "join_flags"));
    co.join_flags = DMP_JOIN_OLDEST;
    EXPECT(dmp_consumer_open(ring, "late", &co, &late), DMP_STATUS_OK);
    int64_t next = -2;
    uint64_t lost = 99;
    EXPECT(dmp_consumer_next(late, &next), DMP_STATUS_OK);
    EXPECT(dmp_consumer_lost_on_join(late, &lost), DMP_STATUS_OK);
    CHECK(next == 0 && lost == 0);
    uint64_t got = 99;
    int64_t seq = -2;
    EXPECT(dmp_consume_one(late, &got, sizeof got, T, &seq), DMP_STATUS_OK);
    CHECK(seq == 0 && got == 0);
    /* "a" reads three; a new name joining at the oldest starts after. */
    int64_t avail = -1;
    EXPECT(dmp_wait_for(a, 0, T, &avail), DMP_STATUS_OK);
    EXPECT(dmp_commit(a, 2), DMP_STATUS_OK);
    EXPECT(dmp_consumer_close(late), DMP_STATUS_OK);
    dmp_consumer *later = NULL;
    EXPECT(dmp_consumer_open(ring, "later", &co, &later), DMP_STATUS_OK);
    EXPECT(dmp_consumer_next(later, &next), DMP_STATUS_OK);
    EXPECT(dmp_consumer_lost_on_join(later, &lost), DMP_STATUS_OK);
    CHECK(next == 3 && lost == 3);
    EXPECT(dmp_consume_one(later, &got, sizeof got, T, &seq), DMP_STATUS_OK);
    CHECK(seq == 3 && got == 3);
    EXPECT(dmp_consumer_close(later), DMP_STATUS_OK);

    /* Retiring: a consumer whose process died, not one that lives. */
    consumer_that_dies(name, "ghost");
    EXPECT(dmp_consumer_retire(ring, "a"), DMP_STATUS_NAME_IN_USE);
    char pid[32];
    snprintf(pid, sizeof pid, "pid %d", (int)getpid());
    CHECK(contains(dmp_last_error_message(), pid) && contains(dmp_last_error_message(), "\"a\""));
    EXPECT(dmp_consumer_retire(ring, "ghost"), DMP_STATUS_OK);
    EXPECT(dmp_consumer_retire(ring, "ghost"), DMP_STATUS_INVALID_ARGUMENT);
    CHECK(contains(dmp_last_error_message(), "no consumer named"));
    EXPECT(dmp_consumer_retire(ring, NULL), DMP_STATUS_NULL_POINTER);
    dmp_snapshot *snap = NULL;
    EXPECT(dmp_snapshot_take(ring, &snap), DMP_STATUS_OK);
    dmp_ring_stats stats;
    memset(&stats, 0, sizeof stats);
    stats.struct_size = sizeof stats;
    EXPECT(dmp_snapshot_stats(snap, &stats), DMP_STATUS_OK);
    CHECK(stats.retired == 1);
    EXPECT(dmp_snapshot_free(snap), DMP_STATUS_OK);

    /* Removing: refused while this process's consumer "a" is open. */
    EXPECT(dmp_ring_unlink(name, DMP_BACKING_SHM), DMP_STATUS_NAME_IN_USE);
    CHECK(contains(dmp_last_error_message(), name) && contains(dmp_last_error_message(), "consumer 'a'") &&
          contains(dmp_last_error_message(), pid) && contains(dmp_last_error_message(), "DMP_REMOVE_FORCE"));
    EXPECT(dmp_ring_remove(name, DMP_BACKING_SHM, 0), DMP_STATUS_NAME_IN_USE);
    EXPECT(dmp_ring_remove(name, DMP_BACKING_SHM, 0x10), DMP_STATUS_INVALID_ARGUMENT);
    EXPECT(dmp_ring_remove(name, DMP_BACKING_SHM, DMP_REMOVE_FORCE), DMP_STATUS_OK);
    EXPECT(dmp_ring_remove(name, DMP_BACKING_SHM, 0), DMP_STATUS_NOT_FOUND);
    /* The removed ring goes on working for those who had it. */
    EXPECT(dmp_wait_for(a, 3, T, &avail), DMP_STATUS_OK);
    CHECK(avail == 4);
    EXPECT(dmp_consumer_close(a), DMP_STATUS_OK);
    EXPECT(dmp_ring_close(ring), DMP_STATUS_OK);

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
