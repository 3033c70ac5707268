// Every feature of disruptor_mp.hpp beyond the basics of wrapper_test.cpp,
// against the real library: options builders (c_options() mutable),
// spans, unclaim, abandoned sequences, snapshots, adopting and releasing C
// handles, eviction (dmp::Evicted with the lost count), rejoin and
// lost_on_join, on_stall (and an exception it throws), the readiness gate,
// a dead required consumer (a forked child that dies holding its entry)
// retired; stale reclaim, join at the oldest event, removing a live ring.
// usage: features_test SHM_NAME_PREFIX       prints "N passed, M failed"
#include "disruptor_mp.hpp"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <type_traits>
#include <unistd.h>
#include <vector>

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

template <class F>
std::string expect_error(F f, int32_t status) {
    try {
        f();
    } catch (const dmp::Error &e) {
        CHECK(e.status() == status);
        if (e.status() != status) std::fprintf(stderr, "  got status %d: %s\n", e.status(), e.what());
        return e.what();
    }
    CHECK(!"no dmp::Error thrown");
    return "";
}

bool has(const std::string &text, const std::string &part) {
    if (text.find(part) != std::string::npos) return true;
    std::fprintf(stderr, "  %s\n  does not contain %s\n", text.c_str(), part.c_str());
    return false;
}

using namespace std::chrono_literals;

struct Ev {
    uint64_t n;
    uint64_t check;
};
Ev ev(uint64_t n) { return Ev{n, ~n}; }

static_assert(std::is_base_of_v<dmp::Error, dmp::Evicted>);
static_assert(std::is_same_v<decltype(std::declval<dmp::ProducerOptions &>().c_options()), dmp_producer_options &>);
static_assert(std::is_same_v<decltype(std::declval<dmp::ConsumerOptions &>().c_options()), dmp_consumer_options &>);
static_assert(std::is_same_v<decltype(std::declval<dmp::RingOptions &>().c_options()), dmp_ring_options &>);
static_assert(std::is_copy_constructible_v<dmp::Snapshot>);
static_assert(std::is_same_v<decltype(*std::declval<dmp::Span<const Ev>::iterator>()), const Ev &>);

void options() {
    CHECK(dmp::version_number() == DMP_VERSION_NUMBER);
    dmp::ProducerOptions po;
    po.wait(dmp::Wait::sleep).sleep(5us).consumer_dead_timeout(2s).progress_timeout(500ms, 1s).wait_for_consumers(
        2, {"a", "b"}, 3s);
    po.c_options().reserved = 0;
    CHECK(po.c_options().wait_strategy == DMP_WAIT_SLEEP && po.c_options().sleep_ns == 5000);
    CHECK(po.c_options().consumer_dead_timeout_ns == 2000000000ull && po.c_options().progress_timeout_ns == 500000000ull);
    CHECK(po.c_options().stall_grace_ns == 1000000000ull && po.c_options().ready_consumers == 2);
    CHECK(po.c_options().ready_timeout_ns == 3000000000ull && po.ready_names().size() == 2);
    dmp::ConsumerOptions co;
    co.optional(7ms).after("x");
    CHECK(co.c_options().optional == 1 && co.c_options().max_block_ns == 7000000);
    std::vector<const char *> names;
    dmp_consumer_options c = co.c_options(names);
    CHECK(c.dependency_count == 1 && std::string(c.dependencies[0]) == "x");
    co.required();
    CHECK(co.c_options().optional == 0);
    dmp::RingOptions ro;
    ro.multi_producer(4).unblock_timeout(10ms).producer_mode(dmp::ProducerMode::multi);
    CHECK(ro.c_options().producer_mode == DMP_PRODUCER_MULTI && ro.c_options().max_producers == 4);
    CHECK(ro.c_options().unblock_timeout_ns == 10000000);
}

void spans_unclaim_snapshot(const std::string &name) {
    dmp::Ring ring = dmp::Ring::create(name, dmp::RingOptions().capacity(8).slot_size(sizeof(Ev)));
    CHECK(ring.name() == name);
    dmp::Consumer<Ev> c = ring.consumer<Ev>("reader");
    dmp::Producer<Ev> p = ring.producer<Ev>();
    // A claim given back is claimed again; a partial publish then unclaim.
    dmp::Claim<Ev> back = p.claim(3);
    back.unclaim();
    dmp::Claim<Ev> first = p.claim(6);
    CHECK(first.first() == 0);
    dmp::Span<Ev> s = first.span();
    CHECK(s.size() == 6 && s.runs()[1].empty() && s.runs()[0].stride() >= sizeof(Ev));
    for (std::size_t i = 0; i < s.size(); i++) s[i] = ev(i);
    p.publish(0, 3);
    p.unclaim(4);
    CHECK(c.wait(1s).last() == 3);
    c.commit(3);
    // Sequences 4..10 wrap around the end of the 8-slot ring: two runs.
    dmp::Claim<Ev> wrap = p.claim(7);
    CHECK(wrap.first() == 4);
    dmp::Span<Ev> w = p.span(wrap.first(), wrap.last());
    CHECK(w.runs()[0].size() == 4 && w.runs()[1].size() == 3 && w.first_sequence() == 4 && w.last_sequence() == 10);
    uint64_t k = 4;
    for (Ev &e : w) e = ev(k++);
    CHECK(w.at_sequence(9).n == 9 && &w.runs()[1][0] == &w[4]);
    wrap.publish();
    dmp::Batch<Ev> b = c.wait(1s);
    CHECK(b.first() == 4 && b.last() == 10);
    std::optional<dmp::Span<const Ev>> r = b.span();
    CHECK(r.has_value() && r->size() == 7);
    uint64_t sum = 0;
    if (r) {
        for (const Ev &e : *r) sum += (e.check == ~e.n) ? e.n : 1000;
        for (const dmp::Run<const Ev> &run : r->runs())
            for (const Ev &e : run) sum += e.n;
    }
    CHECK(sum == 2 * (4 + 5 + 6 + 7 + 8 + 9 + 10));
    CHECK(c.span(5, 6).has_value() && c.span(5, 6)->at_sequence(6).n == 6);
    CHECK(b.event(7) != nullptr && b.event(7)->n == 7 && c.event(8)->n == 8);
    b.commit();
    // A snapshot is a plain value.
    dmp::Snapshot snap = ring.snapshot();
    dmp::Snapshot copy = snap;
    CHECK(copy.stats.published == 11 && copy.stats.cursor == 10 && copy.stats.consumer_count == 1);
    const dmp_consumer_status *reader = copy.consumer("reader");
    CHECK(reader != nullptr && reader->sequence == 10 && reader->alive == 1 && reader->optional == 0);
    CHECK(copy.consumer("nobody") == nullptr && !copy.counters.empty() && copy.producers.size() == 1);
    CHECK(copy.producers.size() == 1 && copy.producers[0].state == 2 && copy.producers[0].alive == 1);
}

void abandoned(const std::string &name) {
    dmp::Ring ring = dmp::Ring::create(name, dmp::RingOptions().capacity(8).slot_size(sizeof(Ev)).multi_producer());
    dmp::Consumer<Ev> c = ring.consumer<Ev>("reader");
    dmp::Producer<Ev> p = ring.producer<Ev>();
    p.claim(2).unclaim(); // a multi-producer ring abandons what is given back
    p.send(ev(42));
    dmp::Batch<Ev> b = c.wait(1s);
    CHECK(b.first() == 0 && b.last() == 2);
    CHECK(b.event(0) == nullptr && b.event(1) == nullptr && b.event(2)->n == 42);
    CHECK(!b.span().has_value() && c.span(2, 2).has_value());
    CHECK(ring.info().abandoned == 2);
    p.claim(1).unclaim();
    p.send(ev(43));
    b.commit();
    CHECK(c.receive(1s).n == 43); // receive() skips the abandoned sequence
}

void adopt_release(const std::string &name) {
    dmp_ring_options o;
    dmp_ring_options_init(&o);
    o.capacity = 4;
    o.slot_size = sizeof(Ev);
    dmp_ring *raw = nullptr;
    CHECK(dmp_ring_create(name.c_str(), &o, &raw) == DMP_STATUS_OK);
    dmp::Ring ring = dmp::Ring::adopt(raw, name);
    CHECK(ring.c_handle() == raw && ring.capacity() == 4);
    dmp_producer *rp = nullptr;
    CHECK(dmp_producer_open(ring.c_handle(), nullptr, &rp) == DMP_STATUS_OK);
    // A type too big for the slots: refused, and the handle stays the caller's.
    struct Big { uint8_t b[64]; };
    std::string msg = expect_error([&] { (void)dmp::Producer<Big>::adopt(rp, ring); }, DMP_STATUS_INVALID_SLOT_SIZE);
    CHECK(has(msg, "dmp::Producer<T>::adopt on ring \"" + name + "\"") && has(msg, "64 bytes") && has(msg, "16 bytes"));
    dmp::Producer<Ev> p = dmp::Producer<Ev>::adopt(rp, ring);
    CHECK(p.c_handle() == rp && p.capacity() == 4);
    dmp_consumer *rc = nullptr;
    CHECK(dmp_consumer_open(ring.c_handle(), "adopted", nullptr, &rc) == DMP_STATUS_OK);
    dmp::Consumer<Ev> c = dmp::Consumer<Ev>::adopt(rc, ring, "adopted");
    p.send(ev(1));
    CHECK(c.receive(1s).n == 1 && c.name() == "adopted");
    // Released handles are the caller's again: close them through C.
    dmp_producer *back = p.release();
    CHECK(back == rp && !p);
    dmp::Producer<Ev> unchecked = dmp::Producer<Ev>::adopt(back);
    CHECK(unchecked.capacity() == 0);
    std::vector<Ev> three = {ev(2), ev(3), ev(4)};
    unchecked.send(three.begin(), three.end(), 1s); // one event per call
    CHECK(c.wait(1s).last() == 3);
    CHECK(dmp_producer_close(unchecked.release()) == DMP_STATUS_OK);
    CHECK(dmp_consumer_close(c.release()) == DMP_STATUS_OK && !c);
    expect_error([&] { (void)c.next_sequence(); }, DMP_STATUS_INVALID_HANDLE);
    dmp_ring *r = ring.release();
    CHECK(r == raw && !ring && dmp_ring_close(r) == DMP_STATUS_OK);
    msg = expect_error([&] { (void)ring.producer<Ev>(); }, DMP_STATUS_INVALID_HANDLE);
    CHECK(has(msg, "dmp::Ring::producer<T>") && has(msg, name));
}

void eviction(const std::string &name) {
    dmp::Ring ring = dmp::Ring::create(name, dmp::RingOptions().capacity(4).slot_size(sizeof(Ev)));
    dmp::Consumer<Ev> opt = ring.consumer<Ev>("dash", dmp::ConsumerOptions().optional());
    dmp::Producer<Ev> p = ring.producer<Ev>();
    for (uint64_t i = 0; i < 4; i++) p.send(ev(i));
    dmp::Batch<Ev> b = opt.wait(1s);
    p.send(ev(4), 10s); // the ring is full: the optional consumer is evicted, not waited for
    try {
        b.commit();
        CHECK(!"commit after the eviction succeeded");
    } catch (const dmp::Evicted &e) {
        CHECK(e.status() == DMP_STATUS_EVICTED && e.committed() == -1 && e.lost() == 5);
        CHECK(has(e.what(), "dmp_commit") && has(e.what(), "dash"));
    }
    CHECK(ring.snapshot().stats.evictions == 1);
    CHECK(opt.rejoin() == 5 && opt.next_sequence() == 5);
    CHECK(opt.rejoin() == 0); // not evicted (any more): nothing changes
    opt.close();
    p.send(ev(5));
    p.send(ev(6));
    dmp::Consumer<Ev> again = ring.consumer<Ev>("dash", dmp::ConsumerOptions().optional());
    CHECK(again.lost_on_join() == 2 && again.next_sequence() == 7);
    dmp::Consumer<Ev> fresh = ring.consumer<Ev>("fresh");
    CHECK(fresh.lost_on_join() == 0);
}

void stalls_and_gate(const std::string &name) {
    dmp::Ring ring = dmp::Ring::create(name, dmp::RingOptions().capacity(4).slot_size(sizeof(Ev)));
    // The readiness gate: a missing consumer is named in the timeout.
    std::string msg = expect_error(
        [&] { (void)ring.producer<Ev>(dmp::ProducerOptions().wait_for_consumers(1, {"slow", "nobody"}, 50ms)); },
        DMP_STATUS_TIMEOUT);
    CHECK(has(msg, "dmp_producer_open") && has(msg, "nobody"));
    dmp::Consumer<Ev> slow = ring.consumer<Ev>("slow"); // required, alive, never commits
    std::vector<dmp::StallAlert> alerts;
    std::vector<std::string> names;
    dmp::ProducerOptions po;
    po.wait_for_consumers(1, {"slow"}, 1s).progress_timeout(20ms, 200ms).on_stall([&](const dmp::StallAlert &a) {
        alerts.push_back(a);
        names.emplace_back(a.name);
    });
    {
        dmp::Producer<Ev> p = ring.producer<Ev>(po);
        for (uint64_t i = 0; i < 4; i++) p.send(ev(i));
        msg = expect_error([&] { (void)p.claim(1); }, DMP_STATUS_CONSUMER_STALLED);
        CHECK(has(msg, "dmp_claim") && has(msg, "slow"));
        CHECK(alerts.size() == 1 && names.size() == 1 && names[0] == "slow");
        CHECK(!alerts.empty() && alerts[0].sequence == -1 && alerts[0].pid == static_cast<uint32_t>(getpid()));
        CHECK(!alerts.empty() && alerts[0].stalled >= 20ms);
    }
    CHECK(ring.snapshot().stats.stall_alerts >= 1);
    // An exception thrown by on_stall comes out of claim(), which gives its
    // claim back.
    dmp::ProducerOptions throwing;
    throwing.progress_timeout(20ms, 10s).on_stall([](const dmp::StallAlert &) { throw std::runtime_error("stop"); });
    dmp::Producer<Ev> p = ring.producer<Ev>(throwing);
    bool thrown = false;
    try {
        (void)p.claim(1);
    } catch (const std::runtime_error &e) {
        thrown = std::string(e.what()) == "stop";
    }
    CHECK(thrown);
    slow.commit(slow.wait(1s).last());
    dmp::Claim<Ev> next = p.claim(1, 1s);
    CHECK(next.first() == 4);
    next.publish();
}

void dead_consumer(const std::string &name) {
    dmp::Ring ring = dmp::Ring::create(name, dmp::RingOptions().capacity(4).slot_size(sizeof(Ev)));
    std::fflush(nullptr);
    const pid_t child = fork();
    if (child == 0) {
        // The child registers a required consumer and dies holding it.
        dmp_ring *r = nullptr;
        dmp_consumer *c = nullptr;
        if (dmp_ring_open(name.c_str(), nullptr, &r) != DMP_STATUS_OK) _exit(3);
        if (dmp_consumer_open(r, "ghost", nullptr, &c) != DMP_STATUS_OK) _exit(4);
        _exit(0);
    }
    int status = 0;
    CHECK(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    dmp::Producer<Ev> p = ring.producer<Ev>(dmp::ProducerOptions().consumer_dead_timeout(50ms));
    for (uint64_t i = 0; i < 4; i++) p.send(ev(i));
    std::string msg = expect_error([&] { (void)p.claim(1, 10s); }, DMP_STATUS_CONSUMER_DEAD);
    CHECK(has(msg, "dmp_claim") && has(msg, "\"ghost\"") && has(msg, "dead"));
    // Retired, it holds the producer back no more; counted in the snapshot.
    dmp::Consumer<Ev> mine = ring.consumer<Ev>("mine");
    msg = expect_error([&] { ring.retire_consumer("mine"); }, DMP_STATUS_NAME_IN_USE);
    CHECK(has(msg, "dmp_consumer_retire") && has(msg, "pid " + std::to_string(getpid())));
    mine.close();
    ring.retire_consumer("ghost");
    p.send(ev(4), 10s);
    CHECK(ring.cursor() == 4 && ring.snapshot().stats.retired == 1);
    msg = expect_error([&] { ring.retire_consumer("ghost"); }, DMP_STATUS_INVALID_ARGUMENT);
    CHECK(has(msg, "no consumer named \"ghost\""));
}

// Stale reclaim, join at the oldest event, and removing a live ring.
void lifecycle(const std::string &name) {
    {
        dmp::Ring old = dmp::Ring::create(name, dmp::RingOptions().capacity(8).slot_size(8));
        dmp::Producer<uint64_t> p = old.producer<uint64_t>();
        p.send(7);
    } // every participant left: the ring is stale
    bool created = false;
    dmp::Ring same = dmp::Ring::open_or_create(name, dmp::RingOptions(), &created);
    CHECK(!created && same.cursor() == 0);
    dmp::Ring ring = dmp::Ring::open_or_create(name, dmp::RingOptions().capacity(8).slot_size(8).reclaim_stale(), &created);
    CHECK(created && ring.cursor() == -1);
    CHECK((dmp::RingOptions().reclaim_stale().read_only().c_options().open_flags ==
           (DMP_OPEN_RECLAIM_STALE | DMP_OPEN_READ_ONLY)));
    dmp::Ring observer = dmp::Ring::open(name, dmp::RingOptions().read_only());
    expect_error([&] { (void)observer.producer<uint64_t>(); }, DMP_STATUS_PERMISSION_DENIED);

    dmp::Consumer<uint64_t> a = ring.consumer<uint64_t>("a");
    {
        dmp::Producer<uint64_t> p = ring.producer<uint64_t>();
        for (uint64_t i = 0; i < 5; i++) p.send(i * 10);
    }
    a.wait(10s, 2).commit(); // a committed 1
    dmp::Consumer<uint64_t> late = ring.consumer<uint64_t>("late", dmp::ConsumerOptions().join_at_oldest());
    CHECK(late.next_sequence() == 2 && late.lost_on_join() == 2);
    std::optional<uint64_t> got = late.try_receive(10s);
    CHECK(got && *got == 20);
    dmp::Consumer<uint64_t> now = ring.consumer<uint64_t>("now");
    CHECK(now.next_sequence() == 5 && now.lost_on_join() == 0);

    std::string msg = expect_error([&] { dmp::Ring::unlink(name); }, DMP_STATUS_NAME_IN_USE);
    CHECK(has(msg, "dmp_ring_unlink") && has(msg, "consumer 'late'") && has(msg, "force"));
    dmp::Ring::remove(name, /*force=*/true);
    expect_error([&] { dmp::Ring::remove(name, false); }, DMP_STATUS_NOT_FOUND);
}

// The messages a user meets name the call, the ring, the values and what to do.
void messages(const std::string &name) {
    dmp::Ring ring = dmp::Ring::create(name, dmp::RingOptions().capacity(4).slot_size(8).layout(dmp::Layout::packed));
    std::string msg = expect_error([&] { (void)dmp::Ring::open(name, dmp::RingOptions().layout(dmp::Layout::stamped)); },
                                   DMP_STATUS_LAYOUT_MISMATCH);
    CHECK(has(msg, "dmp_ring_open") && has(msg, name) && has(msg, "it has layout packed, the caller asked for layout stamped"));
    CHECK(has(msg, "ask for layout packed"));
    dmp::Producer<uint64_t> p = ring.producer<uint64_t>();
    msg = expect_error([&] { p.publish(0, 0); }, DMP_STATUS_SEQUENCE_OUT_OF_RANGE);
    CHECK(has(msg, "dmp_publish") && has(msg, name) && has(msg, "nothing is claimed") && has(msg, "claim first"));
    dmp::Claim<uint64_t> c = p.claim(2);
    msg = expect_error([&] { p.publish(1, 1); }, DMP_STATUS_SEQUENCE_OUT_OF_RANGE);
    CHECK(has(msg, "the unpublished claim is [0, 1]") && has(msg, "starts at 0"));
    c.publish();
    msg = expect_error([&] { (void)ring.consumer<Ev>("wide"); }, DMP_STATUS_INVALID_SLOT_SIZE);
    CHECK(has(msg, "dmp::Ring::consumer<T> (dmp_consumer_open) on ring \"" + name + "\"") && has(msg, "slot_size(16)"));
    dmp::Consumer<uint64_t> reader = ring.consumer<uint64_t>("reader");
    msg = expect_error([&] { reader.commit(3); }, DMP_STATUS_SEQUENCE_OUT_OF_RANGE);
    CHECK(has(msg, "dmp_commit") && has(msg, name) && has(msg, "wait for it before committing it"));
}

} // namespace

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: features_test SHM_NAME_PREFIX\n");
        return 2;
    }
    const std::string prefix = argv[1];
    const char *suffixes[] = {"-dead", "-spans", "-abandoned", "-adopt", "-evict", "-stall", "-messages", "-lifecycle"};
    try {
        options();
        dead_consumer(prefix + suffixes[0]); // first: fork before anything else ran
        spans_unclaim_snapshot(prefix + suffixes[1]);
        abandoned(prefix + suffixes[2]);
        adopt_release(prefix + suffixes[3]);
        eviction(prefix + suffixes[4]);
        stalls_and_gate(prefix + suffixes[5]);
        messages(prefix + suffixes[6]);
        lifecycle(prefix + suffixes[7]);
    } catch (const std::exception &e) {
        failed++;
        std::fprintf(stderr, "FAILED: unexpected exception: %s\n", e.what());
    }
    for (const char *s : suffixes) {
        try {
            dmp::Ring::unlink(prefix + s);
        } catch (const dmp::Error &) {
        }
    }
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
