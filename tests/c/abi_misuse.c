/* The C ABI's answers to misuse: null pointers everywhere, closed handles
 * (use after close, double close), bad option structs, unknown enum
 * values, claims larger than the ring, publishing out of order,
 * out-of-range sequences, a second claim while one is outstanding.
 * Each case must return its own status code and a message, never crash.
 * usage: abi_misuse SHM_NAME          prints "N passed, M failed" */
#include "disruptor_mp.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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

#ifdef __cplusplus
#define STATIC_ASSERT static_assert
#else
#define STATIC_ASSERT _Static_assert
#endif

/* The layout the header promises, mirrored from the Rust definitions. */
STATIC_ASSERT(sizeof(dmp_ring_options) == 72, "dmp_ring_options layout");
STATIC_ASSERT(offsetof(dmp_ring_options, capacity) == 8, "capacity offset");
STATIC_ASSERT(offsetof(dmp_ring_options, timeout_ns) == 48, "timeout_ns offset");
STATIC_ASSERT(offsetof(dmp_ring_options, max_producers) == 56, "max_producers offset");
STATIC_ASSERT(offsetof(dmp_ring_options, unblock_timeout_ns) == 64, "unblock offset");
STATIC_ASSERT(sizeof(dmp_producer_options) == 88, "dmp_producer_options layout");
STATIC_ASSERT(offsetof(dmp_producer_options, on_stall) == 72, "on_stall offset");
STATIC_ASSERT(sizeof(dmp_consumer_options) == 48, "dmp_consumer_options layout");
STATIC_ASSERT(offsetof(dmp_consumer_options, max_block_ns) == 40, "max_block_ns offset");
STATIC_ASSERT(sizeof(dmp_ring_info) == 80, "dmp_ring_info layout");
STATIC_ASSERT(offsetof(dmp_ring_info, cursor) == 40, "cursor offset");
STATIC_ASSERT(offsetof(dmp_ring_info, abandoned) == 72, "abandoned offset");

static int message_mentions(const char *needle) {
    return strstr(dmp_last_error_message(), needle) != NULL;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: abi_misuse SHM_NAME\n");
        return 2;
    }
    const char *name = argv[1];

    /* Versions agree with the header this program was compiled against. */
    CHECK(dmp_version_number() == DMP_VERSION_NUMBER);
    CHECK(strcmp(dmp_version(), DMP_VERSION_STRING) == 0);
    CHECK(strcmp(dmp_status_str(DMP_STATUS_TIMEOUT), "timed out") == 0);
    CHECK(strcmp(dmp_status_str(12345), "unknown status code") == 0);

    dmp_ring_options ro;
    dmp_ring_options_init(&ro);
    /* Layout fields are left 0: defaults at create, unchecked at open. */
    CHECK(ro.struct_size == sizeof ro && ro.capacity == 0 && ro.slot_size == 0 && ro.mode == 0);
    dmp_ring_options_init(NULL); /* no crash */

    dmp_ring *ring = NULL;
    /* Null pointers. */
    EXPECT(dmp_ring_create(NULL, &ro, &ring), DMP_STATUS_NULL_POINTER);
    CHECK(message_mentions("name"));
    EXPECT(dmp_ring_create(name, &ro, NULL), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_ring_open(NULL, NULL, &ring), DMP_STATUS_NULL_POINTER);
    CHECK(ring == NULL);

    /* Bad parameters, each with its own code; nothing is created. */
    ro.capacity = 3;
    EXPECT(dmp_ring_create(name, &ro, &ring), DMP_STATUS_INVALID_CAPACITY);
    CHECK(message_mentions("power of two"));
    ro.capacity = 1ull << 62;
    EXPECT(dmp_ring_create(name, &ro, &ring), DMP_STATUS_INVALID_CAPACITY);
    ro.capacity = 64;
    ro.slot_size = 1u << 30;
    EXPECT(dmp_ring_create(name, &ro, &ring), DMP_STATUS_INVALID_SLOT_SIZE);
    ro.slot_size = 16;
    EXPECT(dmp_ring_create("with/slash", &ro, &ring), DMP_STATUS_INVALID_NAME);
    EXPECT(dmp_ring_create("", &ro, &ring), DMP_STATUS_INVALID_NAME);
    ro.backing = 7;
    EXPECT(dmp_ring_create(name, &ro, &ring), DMP_STATUS_INVALID_ARGUMENT);
    ro.backing = DMP_BACKING_SHM;
    ro.producer_mode = 9;
    EXPECT(dmp_ring_create(name, &ro, &ring), DMP_STATUS_INVALID_ARGUMENT);
    ro.producer_mode = DMP_PRODUCER_DEFAULT;
    ro.layout = 5;
    EXPECT(dmp_ring_create(name, &ro, &ring), DMP_STATUS_INVALID_ARGUMENT);
    ro.layout = DMP_LAYOUT_DEFAULT;
    ro.struct_size = 0;
    EXPECT(dmp_ring_create(name, &ro, &ring), DMP_STATUS_INVALID_ARGUMENT);
    CHECK(message_mentions("struct_size"));
    ro.struct_size = 1u << 30; /* an uninitialised struct: refused, not read */
    EXPECT(dmp_ring_create(name, &ro, &ring), DMP_STATUS_INVALID_ARGUMENT);
    ro.struct_size = 13;
    EXPECT(dmp_ring_create(name, &ro, &ring), DMP_STATUS_INVALID_ARGUMENT);
    ro.struct_size = sizeof ro;
    EXPECT(dmp_ring_open(name, NULL, &ring), DMP_STATUS_NOT_FOUND);
    CHECK(message_mentions(name));

    /* A newer caller's larger struct: a zero tail is fine, non-zero is not. */
    struct {
        dmp_ring_options o;
        uint64_t future;
    } big;
    memset(&big, 0, sizeof big);
    dmp_ring_options_init(&big.o);
    big.o.struct_size = sizeof big;
    big.o.capacity = 64;
    big.o.slot_size = 16;
    big.future = 1;
    EXPECT(dmp_ring_create(name, &big.o, &ring), DMP_STATUS_INVALID_ARGUMENT);
    big.future = 0;
    EXPECT(dmp_ring_create(name, &big.o, &ring), DMP_STATUS_OK);
    CHECK(ring != NULL);
    dmp_ring *again = NULL;
    EXPECT(dmp_ring_create(name, &ro, &again), DMP_STATUS_ALREADY_EXISTS);
    bool created = true;
    EXPECT(dmp_ring_open_or_create(name, &ro, &again, &created), DMP_STATUS_OK);
    CHECK(!created);
    ro.type_id = 77;
    dmp_ring *typed = NULL;
    EXPECT(dmp_ring_open(name, &ro, &typed), DMP_STATUS_TYPE_MISMATCH);
    ro.type_id = 0;
    ro.capacity = 128;
    EXPECT(dmp_ring_open(name, &ro, &typed), DMP_STATUS_LAYOUT_MISMATCH);
    CHECK(message_mentions("64") && message_mentions("128"));
    ro.capacity = 0;
    ro.layout = DMP_LAYOUT_PACKED;
    EXPECT(dmp_ring_open(name, &ro, &typed), DMP_STATUS_LAYOUT_MISMATCH);
    ro.layout = DMP_LAYOUT_DEFAULT;
    dmp_ring_info info;
    info.struct_size = sizeof info;
    EXPECT(dmp_ring_get_info(again, &info), DMP_STATUS_OK);
    CHECK(info.capacity == 64 && info.slot_size == 16 && info.layout == DMP_LAYOUT_STAMPED);
    CHECK(info.cursor == -1 && info.wakeups == 1);
    EXPECT(dmp_ring_close(again), DMP_STATUS_OK);
    dmp_ring_options plain;
    dmp_ring_options_init(&plain);
    plain.timeout_ns = 1000000;
    EXPECT(dmp_ring_open(name, &plain, &again), DMP_STATUS_OK); /* 64-slot ring, no checks */
    EXPECT(dmp_ring_close(again), DMP_STATUS_OK);

    /* Producer and consumer misuse. */
    dmp_producer_options po;
    dmp_producer_options_init(&po);
    po.wait_strategy = 42;
    dmp_producer *p = NULL;
    EXPECT(dmp_producer_open(ring, &po, &p), DMP_STATUS_INVALID_ARGUMENT);
    EXPECT(dmp_producer_open(NULL, NULL, &p), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_producer_open(ring, NULL, &p), DMP_STATUS_OK);
    dmp_producer *p2 = NULL;
    EXPECT(dmp_producer_open(ring, NULL, &p2), DMP_STATUS_PRODUCER_EXISTS);

    dmp_consumer *c = NULL;
    EXPECT(dmp_consumer_open(ring, NULL, NULL, &c), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_consumer_open(ring, "bad name", NULL, &c), DMP_STATUS_INVALID_NAME);
    dmp_consumer_options co;
    dmp_consumer_options_init(&co);
    co.dependency_count = 1; /* with a NULL array */
    EXPECT(dmp_consumer_open(ring, "c", &co, &c), DMP_STATUS_NULL_POINTER);
    const char *deps[] = {"nobody"};
    co.dependencies = deps;
    EXPECT(dmp_consumer_open(ring, "c", &co, &c), DMP_STATUS_DEPENDENCY_NOT_FOUND);
    CHECK(message_mentions("nobody"));
    EXPECT(dmp_consumer_open(ring, "c", NULL, &c), DMP_STATUS_OK);
    dmp_consumer *dup = NULL;
    EXPECT(dmp_consumer_open(ring, "c", NULL, &dup), DMP_STATUS_NAME_IN_USE);

    int64_t first = -7, avail = -7;
    EXPECT(dmp_claim(p, 0, 0, &first), DMP_STATUS_BATCH_TOO_LARGE);
    EXPECT(dmp_claim(p, 65, 0, &first), DMP_STATUS_BATCH_TOO_LARGE);
    EXPECT(dmp_claim(p, 1, 0, NULL), DMP_STATUS_NULL_POINTER);
    CHECK(first == -7); /* outputs are written only on success */
    EXPECT(dmp_publish(p, 0, 0), DMP_STATUS_SEQUENCE_OUT_OF_RANGE);
    CHECK(dmp_producer_slot(p, 0) == NULL);
    EXPECT(dmp_try_claim(p, 2, &first), DMP_STATUS_OK);
    CHECK(first == 0);
    CHECK(dmp_producer_slot(p, 1) != NULL);
    CHECK(dmp_producer_slot(p, 2) == NULL);
    EXPECT(dmp_publish(p, 1, 1), DMP_STATUS_SEQUENCE_OUT_OF_RANGE);
    EXPECT(dmp_publish(p, 0, 1), DMP_STATUS_OK);
    EXPECT(dmp_commit(c, 5), DMP_STATUS_SEQUENCE_OUT_OF_RANGE);
    CHECK(dmp_consumer_slot(c, 0) == NULL);
    EXPECT(dmp_wait_for(c, 0, 1000000, &avail), DMP_STATUS_OK);
    CHECK(avail == 1);
    CHECK(dmp_consumer_slot(c, 1) != NULL);
    EXPECT(dmp_commit(c, 2), DMP_STATUS_SEQUENCE_OUT_OF_RANGE);
    EXPECT(dmp_commit(c, 1), DMP_STATUS_OK);
    EXPECT(dmp_wait_for(c, 2, 0, &avail), DMP_STATUS_WOULD_BLOCK);
    EXPECT(dmp_wait_for(c, 2, 1000000, &avail), DMP_STATUS_TIMEOUT);
    CHECK(avail == 1);

    /* Claims larger than the ring, and publishing out of order. */
    EXPECT(dmp_try_claim(p, 65, &first), DMP_STATUS_BATCH_TOO_LARGE);
    EXPECT(dmp_try_claim(p, 0, &first), DMP_STATUS_BATCH_TOO_LARGE);
    EXPECT(dmp_claim(p, UINT64_MAX, 0, &first), DMP_STATUS_BATCH_TOO_LARGE);
    EXPECT(dmp_claim(p, 1ull << 63, DMP_TIMEOUT_INFINITE, &first), DMP_STATUS_BATCH_TOO_LARGE);
    EXPECT(dmp_publish(p, 0, 1), DMP_STATUS_SEQUENCE_OUT_OF_RANGE); /* published already */
    EXPECT(dmp_try_claim(p, 3, &first), DMP_STATUS_OK);              /* 2..4 */
    CHECK(first == 2);
    EXPECT(dmp_publish(p, 3, 4), DMP_STATUS_SEQUENCE_OUT_OF_RANGE); /* skips 2 */
    EXPECT(dmp_publish(p, 2, 5), DMP_STATUS_SEQUENCE_OUT_OF_RANGE); /* past the claim */
    EXPECT(dmp_publish(p, 3, 2), DMP_STATUS_SEQUENCE_OUT_OF_RANGE); /* hi < lo */
    EXPECT(dmp_publish(p, INT64_MIN, INT64_MAX), DMP_STATUS_SEQUENCE_OUT_OF_RANGE);
    dmp_span span;
    memset(&span, 0, sizeof span);
    span.struct_size = sizeof span;
    EXPECT(dmp_producer_span(p, 2, 2 + 64, &span), DMP_STATUS_SEQUENCE_OUT_OF_RANGE);
    EXPECT(dmp_producer_span(p, 1, 2, &span), DMP_STATUS_SEQUENCE_OUT_OF_RANGE);
    EXPECT(dmp_producer_span(p, INT64_MIN, INT64_MAX, &span), DMP_STATUS_SEQUENCE_OUT_OF_RANGE);
    CHECK(span.first == NULL); /* outputs are written only on success */
    EXPECT(dmp_producer_span(p, 2, 4, &span), DMP_STATUS_OK);
    CHECK(span.first != NULL && span.first_count + span.second_count == 3);
    CHECK(dmp_producer_slot(p, INT64_MAX) == NULL && dmp_producer_slot(p, INT64_MIN) == NULL);
    EXPECT(dmp_publish(p, 2, 2), DMP_STATUS_OK);
    EXPECT(dmp_publish(p, 2, 2), DMP_STATUS_SEQUENCE_OUT_OF_RANGE); /* twice */
    EXPECT(dmp_publish(p, 3, 4), DMP_STATUS_OK);

    /* Reading past what is available, committing backwards. */
    EXPECT(dmp_wait_for(c, 2 + 64, 0, &avail), DMP_STATUS_SEQUENCE_OUT_OF_RANGE);
    EXPECT(dmp_wait_for(c, INT64_MAX, DMP_TIMEOUT_INFINITE, &avail), DMP_STATUS_SEQUENCE_OUT_OF_RANGE);
    EXPECT(dmp_wait_for(c, 2, 1000000, &avail), DMP_STATUS_OK);
    CHECK(avail == 4);
    const void *event = NULL;
    EXPECT(dmp_consumer_event(c, 5, &event), DMP_STATUS_SEQUENCE_OUT_OF_RANGE);
    EXPECT(dmp_consumer_event(c, 1, &event), DMP_STATUS_SEQUENCE_OUT_OF_RANGE); /* committed */
    CHECK(event == NULL);
    EXPECT(dmp_consumer_event(c, 4, &event), DMP_STATUS_OK);
    CHECK(event != NULL);
    CHECK(dmp_consumer_slot(c, INT64_MIN) == NULL && dmp_consumer_slot(c, INT64_MAX) == NULL);
    EXPECT(dmp_consumer_span(c, 2, 5, &span), DMP_STATUS_SEQUENCE_OUT_OF_RANGE);
    EXPECT(dmp_consumer_span(c, 4, 2, &span), DMP_STATUS_SEQUENCE_OUT_OF_RANGE);
    EXPECT(dmp_consumer_span(c, 2, 4, &span), DMP_STATUS_OK);
    EXPECT(dmp_commit(c, 3), DMP_STATUS_OK);
    EXPECT(dmp_commit(c, 2), DMP_STATUS_SEQUENCE_OUT_OF_RANGE); /* backwards */
    EXPECT(dmp_commit(c, INT64_MIN), DMP_STATUS_SEQUENCE_OUT_OF_RANGE);
    EXPECT(dmp_commit(c, 4), DMP_STATUS_OK);

    /* NULL for every handle and every required pointer. */
    int64_t next = -7;
    dmp_snapshot *snap = NULL;
    dmp_ring_stats stats;
    memset(&stats, 0, sizeof stats);
    stats.struct_size = sizeof stats;
    dmp_consumer_status cs;
    memset(&cs, 0, sizeof cs);
    cs.struct_size = sizeof cs;
    dmp_producer_status ps;
    memset(&ps, 0, sizeof ps);
    ps.struct_size = sizeof ps;
    dmp_counter counter;
    memset(&counter, 0, sizeof counter);
    counter.struct_size = sizeof counter;
    EXPECT(dmp_claim(NULL, 1, 0, &first), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_try_claim(NULL, 1, &first), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_try_claim(p, 1, NULL), DMP_STATUS_NULL_POINTER);
    CHECK(dmp_producer_slot(NULL, 0) == NULL);
    EXPECT(dmp_publish(NULL, 0, 0), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_unclaim(NULL, 0), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_producer_span(NULL, 0, 0, &span), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_producer_span(p, 5, 5, NULL), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_wait_for(NULL, 0, 0, &avail), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_wait_for(c, 4, 0, NULL), DMP_STATUS_NULL_POINTER);
    CHECK(dmp_consumer_slot(NULL, 0) == NULL);
    EXPECT(dmp_consumer_event(NULL, 0, &event), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_consumer_event(c, 4, NULL), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_consumer_next(NULL, &next), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_consumer_next(c, NULL), DMP_STATUS_NULL_POINTER);
    CHECK(next == -7);
    EXPECT(dmp_commit(NULL, 0), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_consumer_span(NULL, 0, 0, &span), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_consumer_span(c, 4, 4, NULL), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_ring_get_info(NULL, &info), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_ring_get_info(ring, NULL), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_ring_unlink(NULL, DMP_BACKING_SHM), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_ring_open_or_create(NULL, &ro, &again, &created), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_ring_open_or_create(name, &ro, NULL, &created), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_producer_open(ring, NULL, NULL), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_consumer_open(NULL, "x", NULL, &dup), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_consumer_open(ring, "x", NULL, NULL), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_snapshot_take(NULL, &snap), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_snapshot_take(ring, NULL), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_snapshot_stats(NULL, &stats), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_snapshot_consumer(NULL, 0, &cs), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_snapshot_producer(NULL, 0, &ps), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_snapshot_counter(NULL, 0, &counter), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_snapshot_free(NULL), DMP_STATUS_OK);
    dmp_producer_options_init(NULL); /* no crash */
    dmp_consumer_options_init(NULL);
    CHECK(dmp_status_str(INT32_MIN) != NULL && dmp_last_error_message() != NULL);
    EXPECT(dmp_snapshot_take(ring, &snap), DMP_STATUS_OK);
    EXPECT(dmp_snapshot_stats(snap, NULL), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_snapshot_consumer(snap, 0, NULL), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_snapshot_producer(snap, 0, NULL), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_snapshot_counter(snap, 0, NULL), DMP_STATUS_NULL_POINTER);
    EXPECT(dmp_snapshot_stats(snap, &stats), DMP_STATUS_OK);
    /* Entries past the end answer an error, not a read outside. */
    EXPECT(dmp_snapshot_consumer(snap, SIZE_MAX, &cs), DMP_STATUS_INVALID_ARGUMENT);
    EXPECT(dmp_snapshot_producer(snap, stats.producer_count, &ps), DMP_STATUS_INVALID_ARGUMENT);
    EXPECT(dmp_snapshot_counter(snap, stats.counter_count, &counter), DMP_STATUS_INVALID_ARGUMENT);
    /* A freed snapshot: use after free and double free are detected. */
    EXPECT(dmp_snapshot_free(snap), DMP_STATUS_OK);
    EXPECT(dmp_snapshot_free(snap), DMP_STATUS_INVALID_HANDLE);
    EXPECT(dmp_snapshot_stats(snap, &stats), DMP_STATUS_INVALID_HANDLE);
    EXPECT(dmp_snapshot_counter(snap, 0, &counter), DMP_STATUS_INVALID_HANDLE);

    /* Closed handles and double close. */
    EXPECT(dmp_consumer_close(c), DMP_STATUS_OK);
    EXPECT(dmp_consumer_close(c), DMP_STATUS_INVALID_HANDLE);
    EXPECT(dmp_commit(c, 1), DMP_STATUS_INVALID_HANDLE);
    EXPECT(dmp_wait_for(c, 2, 0, &avail), DMP_STATUS_INVALID_HANDLE);
    CHECK(dmp_consumer_slot(c, 1) == NULL);
    EXPECT(dmp_consumer_next(c, &next), DMP_STATUS_INVALID_HANDLE);
    EXPECT(dmp_consumer_event(c, 4, &event), DMP_STATUS_INVALID_HANDLE);
    EXPECT(dmp_consumer_span(c, 4, 4, &span), DMP_STATUS_INVALID_HANDLE);
    EXPECT(dmp_producer_close(p), DMP_STATUS_OK);
    EXPECT(dmp_producer_close(p), DMP_STATUS_INVALID_HANDLE);
    EXPECT(dmp_claim(p, 1, 0, &first), DMP_STATUS_INVALID_HANDLE);
    EXPECT(dmp_publish(p, 5, 5), DMP_STATUS_INVALID_HANDLE);
    EXPECT(dmp_try_claim(p, 1, &first), DMP_STATUS_INVALID_HANDLE);
    EXPECT(dmp_unclaim(p, 5), DMP_STATUS_INVALID_HANDLE);
    EXPECT(dmp_producer_span(p, 5, 5, &span), DMP_STATUS_INVALID_HANDLE);
    CHECK(dmp_producer_slot(p, 5) == NULL);
    EXPECT(dmp_producer_close(NULL), DMP_STATUS_OK);
    EXPECT(dmp_consumer_close(NULL), DMP_STATUS_OK);
    EXPECT(dmp_ring_close(NULL), DMP_STATUS_OK);
    /* A handle of one kind passed as another is not mistaken for it. */
    EXPECT(dmp_commit((dmp_consumer *)ring, 1), DMP_STATUS_INVALID_HANDLE);

    /* The ring outlives its handle for the producer opened from it. */
    EXPECT(dmp_producer_open(ring, NULL, &p), DMP_STATUS_OK);
    EXPECT(dmp_ring_close(ring), DMP_STATUS_OK);
    EXPECT(dmp_ring_close(ring), DMP_STATUS_INVALID_HANDLE);
    EXPECT(dmp_producer_open(ring, NULL, &p2), DMP_STATUS_INVALID_HANDLE);
    EXPECT(dmp_ring_get_info(ring, &info), DMP_STATUS_INVALID_HANDLE);
    EXPECT(dmp_snapshot_take(ring, &snap), DMP_STATUS_INVALID_HANDLE);
    EXPECT(dmp_consumer_open(ring, "late", NULL, &dup), DMP_STATUS_INVALID_HANDLE);
    EXPECT(dmp_claim(p, 1, 0, &first), DMP_STATUS_OK);
    CHECK(first == 5);
    EXPECT(dmp_publish(p, 5, 5), DMP_STATUS_OK);
    EXPECT(dmp_producer_close(p), DMP_STATUS_OK);

    EXPECT(dmp_ring_unlink(name, DMP_BACKING_SHM), DMP_STATUS_OK);
    EXPECT(dmp_ring_unlink(name, DMP_BACKING_SHM), DMP_STATUS_NOT_FOUND);
    EXPECT(dmp_ring_unlink(name, 9), DMP_STATUS_INVALID_ARGUMENT);

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
