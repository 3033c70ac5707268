// disruptor_mp.hpp against the real library: RAII and moves, typed slot
// checks, errors with status and message, the non-throwing forms, ranges
// over claims and batches. Linked with tests/cpp/second_tu.cpp, which
// includes the header too (a missing `inline` fails the link).
// usage: wrapper_test SHM_NAME_PREFIX       prints "N passed, M failed"
#include "disruptor_mp.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

int second_tu_checks(const std::string &ring_name);

namespace {

int passed = 0, failed = 0;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (cond) {                                                                  \
            passed++;                                                                \
        } else {                                                                     \
            failed++;                                                                \
            std::fprintf(stderr, "FAILED line %d: %s\n", __LINE__, #cond);           \
        }                                                                            \
    } while (0)

// Runs `f`, which must throw dmp::Error with `status`; returns its message.
template <class F>
std::string expect_error(F f, int32_t status) {
    try {
        f();
    } catch (const dmp::Error &e) {
        CHECK(e.status() == status);
        if (e.status() != status) {
            std::fprintf(stderr, "  got status %d: %s\n", e.status(), e.what());
        }
        return e.what();
    }
    CHECK(!"no dmp::Error thrown");
    return "";
}

struct Tick {
    uint64_t seq;
    double price;
};

struct Wide {
    uint8_t bytes[32];
};

struct alignas(16) Aligned16 {
    uint64_t a, b;
};

// Handles are move-only.
static_assert(!std::is_copy_constructible_v<dmp::Ring>);
static_assert(!std::is_copy_assignable_v<dmp::Producer<Tick>>);
static_assert(std::is_nothrow_move_constructible_v<dmp::Ring>);
static_assert(std::is_move_constructible_v<dmp::Consumer<Tick>>);
// A ring does not silently turn into a producer.
static_assert(!std::is_convertible_v<const dmp::Ring &, dmp::Producer<Tick>>);
// Claims and batches are random-access ranges.
static_assert(std::is_same_v<std::iterator_traits<dmp::Claim<Tick>::iterator>::iterator_category,
                             std::random_access_iterator_tag>);
static_assert(std::is_same_v<decltype(*std::declval<dmp::Batch<Tick>::iterator>()), const Tick &>);

void basics(const std::string &name) {
    dmp::Ring ring = dmp::Ring::create(name, dmp::RingOptions().capacity(8).slot_size(sizeof(Tick)));
    CHECK(ring.capacity() == 8 && ring.slot_size() == sizeof(Tick) && ring.cursor() == -1);

    dmp::Consumer<Tick> consumer = ring.consumer<Tick>("cxx");
    dmp::Producer<Tick> producer = ring.producer<Tick>();
    CHECK(producer.capacity() == 8);

    // Nothing published yet: the non-throwing forms say so, the throwing ones throw.
    CHECK(!consumer.poll().has_value());
    std::string msg = expect_error([&] { (void)consumer.wait(std::chrono::milliseconds(5)); }, DMP_STATUS_TIMEOUT);
    CHECK(msg.find("dmp_wait_for") != std::string::npos);

    // Claim and fill through a range-for, publish.
    dmp::Claim<Tick> claim = producer.claim(5);
    CHECK(claim.size() == 5 && claim.first() == 0 && claim.last() == 4);
    uint64_t k = 0;
    for (Tick &t : claim) {
        t = Tick{k, 100.0 + double(k)};
        k++;
    }
    CHECK(claim.end() - claim.begin() == 5);
    CHECK(claim[4].seq == 4 && claim.at_sequence(2).seq == 2);
    claim.publish();
    CHECK(ring.cursor() == 4);

    // Read the batch with algorithms.
    dmp::Batch<Tick> batch = consumer.wait(std::chrono::seconds(1));
    CHECK(batch.first() == 0 && batch.last() == 4 && batch.size() == 5);
    auto it = std::find_if(batch.begin(), batch.end(), [](const Tick &t) { return t.price > 102.5; });
    CHECK(it != batch.end() && it->seq == 3 && it.sequence() == 3);
    CHECK(std::distance(batch.begin(), batch.end()) == 5 && batch.begin()[1].seq == 1);
    double total = 0;
    for (const Tick &t : batch) total += t.price;
    CHECK(total == 510.0);
    batch.commit();
    CHECK(consumer.next_sequence() == 5);

    // Fill the ring: then try_claim says no and claim times out with is_timeout().
    std::optional<dmp::Claim<Tick>> all = producer.try_claim(8);
    CHECK(all.has_value() && all->first() == 5 && all->size() == 8);
    uint64_t n = 0;
    for (Tick &t : *all) t = Tick{n++, 1.0};
    all->publish();
    CHECK(!producer.try_claim(1).has_value());
    try {
        (void)producer.claim(1, std::chrono::milliseconds(5));
        CHECK(!"claim of a full ring returned");
    } catch (const dmp::Error &e) {
        CHECK(e.is_timeout() && std::string(e.status_str()) == dmp_status_str(DMP_STATUS_TIMEOUT));
    }
    // max_events limits a batch; committing it frees exactly that room.
    dmp::Batch<Tick> two = consumer.wait(dmp::infinite, 2);
    CHECK(two.size() == 2 && two.first() == 5 && two[1].seq == 1);
    two.commit();
    CHECK(!producer.try_claim(3).has_value());
    std::optional<dmp::Claim<Tick>> room = producer.try_claim(2);
    CHECK(room.has_value() && room->first() == 13);
    if (room) room->publish();
    // wait() may report less than everything published: read until 14.
    int64_t last = 0;
    while (last < 14) {
        dmp::Batch<Tick> rest = consumer.wait(std::chrono::seconds(1));
        last = rest.last();
        rest.commit();
    }
    CHECK(last == 14);

    // send(): one event, and a range in batches of at most the capacity,
    // drained by a consumer thread.
    std::vector<Tick> ticks;
    for (uint64_t i = 0; i < 30; i++) ticks.push_back(Tick{1000 + i, 0.5});
    std::vector<uint64_t> seen;
    std::thread reader([&] {
        while (seen.size() < 31) {
            dmp::Batch<Tick> b = consumer.wait(std::chrono::seconds(5));
            for (const Tick &t : b) seen.push_back(t.seq);
            b.commit();
        }
    });
    producer.send(Tick{999, 0.0});
    producer.send(ticks.begin(), ticks.end(), std::chrono::seconds(5));
    reader.join();
    CHECK(seen.size() == 31 && seen.front() == 999 && seen.back() == 1029);
    CHECK(std::is_sorted(seen.begin(), seen.end()));

    // Moves leave an empty handle that reports INVALID_HANDLE, not a crash.
    dmp::Producer<Tick> moved = std::move(producer);
    CHECK(!producer && moved);
    expect_error([&] { (void)producer.claim(1); }, DMP_STATUS_INVALID_HANDLE);
    moved.close();
    CHECK(!moved);
    moved.close(); // closing twice through the wrapper is a no-op

    // Another producer can now attach; closing the ring first is allowed.
    dmp::Producer<Tick> again = ring.producer<Tick>();
    ring.close();
    CHECK(!ring);
    expect_error([&] { (void)ring.info(); }, DMP_STATUS_INVALID_HANDLE);
    again.send(Tick{7, 7.0}, std::chrono::seconds(1));
    CHECK(consumer.wait(std::chrono::seconds(1)).begin()->seq == 7);
    consumer.commit(consumer.next_sequence());

    // One event per call: send() returns the sequence, receive() copies
    // the event out and commits it; the try_ forms never wait.
    CHECK(!consumer.try_receive().has_value());
    int64_t first = again.send(Tick{100, 1.0});
    for (uint64_t i = 1; i < 8; i++) {
        std::optional<int64_t> s = again.try_send(Tick{100 + i, 1.0});
        CHECK(s.has_value() && *s == first + static_cast<int64_t>(i));
    }
    CHECK(!again.try_send(Tick{999, 0.0}).has_value()); // full: 8 slots
    expect_error([&] { (void)again.send(Tick{999, 0.0}, std::chrono::milliseconds(1)); }, DMP_STATUS_TIMEOUT);
    for (uint64_t i = 0; i < 8; i++) {
        Tick t = consumer.receive(std::chrono::seconds(1));
        CHECK(t.seq == 100 + i && t.price == 1.0);
    }
    CHECK(!consumer.try_receive(std::chrono::milliseconds(1)).has_value());
    expect_error([&] { (void)consumer.receive(std::chrono::milliseconds(1)); }, DMP_STATUS_TIMEOUT);
}

void typed_checks(const std::string &name) {
    dmp::Ring ring = dmp::Ring::create(name, dmp::RingOptions().capacity(4).slot_size(16));
    // Too big for the slot: refused before anything is opened.
    std::string msg = expect_error([&] { (void)ring.producer<Wide>(); }, DMP_STATUS_INVALID_SLOT_SIZE);
    CHECK(msg.find("32") != std::string::npos && msg.find("16") != std::string::npos);
    expect_error([&] { (void)ring.consumer<Wide>("wide"); }, DMP_STATUS_INVALID_SLOT_SIZE);
    // The refused producer did not take the ring.
    dmp::Producer<Aligned16> ok = ring.producer<Aligned16>();
    CHECK(ok);

    const std::string packed_name = name + "-packed";
    dmp::Ring packed = dmp::Ring::create(packed_name, dmp::RingOptions().capacity(4).slot_size(16).layout(dmp::Layout::packed));
    CHECK(packed.info().layout == DMP_LAYOUT_PACKED);
    // Packed slots are 8-byte aligned: a 16-byte aligned type is refused.
    expect_error([&] { (void)packed.producer<Aligned16>(); }, DMP_STATUS_LAYOUT_MISMATCH);
    dmp::Producer<Tick> p = packed.producer<Tick>();
    p.send(Tick{1, 2.0});
    // Its producer p is still open: unlink() refuses, remove(force) goes.
    expect_error([&] { dmp::Ring::unlink(packed_name); }, DMP_STATUS_NAME_IN_USE);
    dmp::Ring::remove(packed_name, /*force=*/true);

    // event_type<T>() sets the slot size and a type id checked at open.
    const std::string typed_name = name + "-typed";
    dmp::Ring typed = dmp::Ring::create(typed_name, dmp::RingOptions().capacity(4).event_type<Tick>(0x7e));
    CHECK(typed.slot_size() == sizeof(Tick) && typed.info().type_id == 0x7e);
    msg = expect_error([&] { (void)dmp::Ring::open(typed_name, dmp::RingOptions().type_id(0x7f)); }, DMP_STATUS_TYPE_MISMATCH);
    CHECK(msg.find("dmp_ring_open") != std::string::npos);
    dmp::Ring::unlink(typed_name);
}

void errors_and_dependencies(const std::string &name) {
    std::string msg = expect_error([&] { (void)dmp::Ring::open(name); }, DMP_STATUS_NOT_FOUND);
    CHECK(msg.find(name) != std::string::npos);
    expect_error([&] { (void)dmp::Ring::create(name, dmp::RingOptions().capacity(3)); }, DMP_STATUS_INVALID_CAPACITY);

    bool created = false;
    dmp::Ring ring = dmp::Ring::open_or_create(name, dmp::RingOptions().capacity(16).slot_size(8), &created);
    CHECK(created);
    dmp::Ring same = dmp::Ring::open_or_create(name, dmp::RingOptions(), &created);
    CHECK(!created);
    expect_error([&] { (void)dmp::Ring::create(name); }, DMP_STATUS_ALREADY_EXISTS);

    dmp::Producer<uint64_t> producer = ring.producer<uint64_t>();
    expect_error([&] { (void)same.producer<uint64_t>(); }, DMP_STATUS_PRODUCER_EXISTS);
    msg = expect_error([&] { (void)ring.consumer<uint64_t>("b", dmp::ConsumerOptions().after("nobody")); },
                       DMP_STATUS_DEPENDENCY_NOT_FOUND);
    CHECK(msg.find("nobody") != std::string::npos);

    // "b" reads only what "a" has committed.
    dmp::Consumer<uint64_t> a = ring.consumer<uint64_t>("a", dmp::ConsumerOptions().wait(dmp::Wait::busy_spin));
    dmp::Consumer<uint64_t> b = same.consumer<uint64_t>("b", dmp::ConsumerOptions().after("a"));
    for (uint64_t i = 0; i < 6; i++) producer.send(i * i);
    CHECK(!b.poll().has_value());
    a.wait(dmp::infinite, 4).commit();
    std::optional<dmp::Batch<uint64_t>> got = b.poll(std::chrono::seconds(1));
    CHECK(got && got->last() == 3 && (*got)[3] == 9);
    expect_error([&] { b.commit(5); }, DMP_STATUS_SEQUENCE_OUT_OF_RANGE);
    expect_error([&] { (void)producer.slot(0); }, DMP_STATUS_SEQUENCE_OUT_OF_RANGE);
    expect_error([&] { (void)a.wait(dmp::infinite, 0); }, DMP_STATUS_INVALID_ARGUMENT);
    // This process's own producer and consumers are live participants.
    msg = expect_error([&] { dmp::Ring::unlink(name); }, DMP_STATUS_NAME_IN_USE);
    CHECK(msg.find("consumer 'a'") != std::string::npos && msg.find("force") != std::string::npos);
    producer.close();
    a.close();
    b.close();
    dmp::Ring::unlink(name);
    expect_error([&] { dmp::Ring::unlink(name); }, DMP_STATUS_NOT_FOUND);
}

} // namespace

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: wrapper_test SHM_NAME_PREFIX\n");
        return 2;
    }
    const std::string prefix = argv[1];
    CHECK(std::string(dmp::version()) == DMP_VERSION_STRING);
    try {
        basics(prefix + "-basics");
        dmp::Ring::unlink(prefix + "-basics");
        typed_checks(prefix + "-typed");
        dmp::Ring::unlink(prefix + "-typed");
        errors_and_dependencies(prefix + "-errors");
        CHECK(second_tu_checks(prefix + "-second") == 0);
    } catch (const std::exception &e) {
        failed++;
        std::fprintf(stderr, "FAILED: unexpected exception: %s\n", e.what());
    }
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
