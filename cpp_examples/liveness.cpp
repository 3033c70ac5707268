// liveness: what keeps a ring working while processes come and go.
//
// usage: liveness RING optional NAME [--max-block-ms MS] [--until SEQ]
//        liveness RING required NAME --count N [--die-after K]
//        liveness RING produce --count N [--ready NAME]... [--ready-count C]
//                              [--ready-timeout-ms MS] [--dead-ms MS]
//        (every role: [--timeout-ms MS], default 10000)
//
// optional: an optional consumer (a dashboard), which the producer evicts
//   rather than wait for it longer than --max-block-ms. With --until it
//   plays a consumer too slow for the producer: it stops until it has been
//   evicted and the cursor reached SEQ, then reads and learns it
//   (dmp::Evicted, with the events it lost), rejoins at the current
//   position and leaves. It prints what its name lost when it joined.
// required: a required consumer (an audit log), which the producer waits
//   for. It commits at most 16 events at a time and checks that every event
//   is intact and the one of its sequence, until it has read event N-1.
//   With --die-after K it kills itself (SIGKILL) once it has committed K
//   events, in the middle of a batch: started again under the same name it
//   resumes from its commit (the uncommitted batch comes again; nothing is
//   lost, lost on join 0).
// produce: a producer that waits for its consumers before the first
//   publish (the readiness gate: at least --ready-count consumers, and every
//   --ready NAME), so consumers started after it miss nothing; a required
//   consumer dead for --dead-ms fails it naming the consumer.
#include "args.hpp"
#include "event.hpp"

#include <disruptor_mp.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <thread>

namespace {

using std::chrono::milliseconds;

void joined(const dmp::Consumer<Event> &c) {
    std::printf("ready %s\n", c.name().c_str());
    std::printf("joined at sequence %lld (lost on join %llu)\n", static_cast<long long>(c.next_sequence()),
                static_cast<unsigned long long>(c.lost_on_join()));
    std::fflush(stdout);
}

// Waits (bounded) until the snapshot shows `name` evicted and the cursor at `until`.
void stall_until_evicted(const dmp::Ring &ring, const std::string &name, int64_t until, milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const dmp::Snapshot s = ring.snapshot();
        const dmp_consumer_status *me = s.consumer(name);
        if (me != nullptr && me->state == 4 /* evicted */ && s.stats.cursor >= until) {
            return;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            throw std::runtime_error("not evicted, or the cursor short of " + std::to_string(until) + ", in time");
        }
        std::this_thread::sleep_for(milliseconds(1));
    }
}

int optional_role(const dmp::Ring &ring, const std::string &name, Args &args, milliseconds timeout) {
    const milliseconds max_block(args.number("--max-block-ms", 10));
    const int64_t until = static_cast<int64_t>(args.number("--until", 0)) - 1;
    const bool stall = until >= 0;
    args.done();
    dmp::Consumer<Event> c = ring.consumer<Event>(name, dmp::ConsumerOptions().optional(max_block));
    joined(c);
    if (!stall) {
        return 0;
    }
    // Stuck (it reads nothing) until the producer has evicted it and gone on.
    stall_until_evicted(ring, name, until, timeout);
    try {
        // wait() or, if events look available, commit() learns it.
        c.wait(timeout).commit();
        std::fprintf(stderr, "liveness: a commit after the eviction succeeded\n");
        return 1;
    } catch (const dmp::Evicted &e) {
        // A batch read since the last commit is void: its slots may have been overwritten.
        std::printf("evicted after sequence %lld, lost %llu\n", static_cast<long long>(e.committed()),
                    static_cast<unsigned long long>(e.lost()));
    }
    const uint64_t lost = c.rejoin();
    std::printf("rejoined at sequence %lld, lost %llu\n", static_cast<long long>(c.next_sequence()),
                static_cast<unsigned long long>(lost));
    return 0;
}

int required_role(const dmp::Ring &ring, const std::string &name, Args &args, milliseconds timeout) {
    const int64_t last = static_cast<int64_t>(args.number("--count", 0)) - 1;
    const uint64_t die_after = args.number("--die-after", 0);
    args.done();
    dmp::Consumer<Event> c = ring.consumer<Event>(name);
    joined(c);
    uint64_t got = 0;
    const int64_t first = c.next_sequence();
    while (c.next_sequence() <= last) {
        dmp::Batch<Event> batch = c.wait(timeout, static_cast<uint64_t>(std::min<int64_t>(16, last - c.next_sequence() + 1)));
        for (auto it = batch.begin(); it != batch.end(); ++it) {
            if (!intact(*it) || it->number != static_cast<uint64_t>(it.sequence())) {
                std::fprintf(stderr, "liveness: wrong event %llu at sequence %lld\n",
                             static_cast<unsigned long long>(it->number), static_cast<long long>(it.sequence()));
                return 1;
            }
        }
        if (die_after > 0 && got >= die_after) {
            std::printf("killed with sequences [%lld, %lld] read, not committed\n", static_cast<long long>(batch.first()),
                        static_cast<long long>(batch.last()));
            std::fflush(stdout);
            std::raise(SIGKILL);
        }
        batch.commit();
        got += batch.size();
    }
    std::printf("consumed %llu events, sequences %lld to %lld\n", static_cast<unsigned long long>(got),
                static_cast<long long>(first), static_cast<long long>(last));
    return 0;
}

int produce_role(const dmp::Ring &ring, Args &args, milliseconds timeout) {
    const uint64_t count = args.number("--count", 0);
    const std::vector<std::string> names = args.values("--ready");
    const uint32_t ready = static_cast<uint32_t>(args.number("--ready-count", names.size()));
    const milliseconds ready_timeout(args.number("--ready-timeout-ms", 10000));
    const milliseconds dead(args.number("--dead-ms", 5000));
    args.done();
    dmp::ProducerOptions options;
    options.wait_for_consumers(ready, names, ready_timeout).consumer_dead_timeout(dead);
    std::printf("waiting for %u consumers\n", ready);
    std::fflush(stdout);
    dmp::Producer<Event> p = ring.producer<Event>(options);
    std::printf("consumers ready\n");
    std::fflush(stdout);
    const uint64_t number = static_cast<uint64_t>(ring.cursor() + 1);
    for (uint64_t i = 0; i < count; i++) {
        (void)p.send(make_event(number + i), timeout);
    }
    std::printf("produced %llu events\n", static_cast<unsigned long long>(count));
    return 0;
}

} // namespace

int main(int argc, char **argv) {
    try {
        Args args(argc, argv);
        const std::string ring_name = args.positional("RING");
        const std::string role = args.positional("ROLE (optional, required or produce)");
        const milliseconds timeout(args.number("--timeout-ms", 10000));
        const dmp::Ring ring = dmp::Ring::open(ring_name, dmp::RingOptions().open_timeout(timeout));
        if (role == "produce") {
            return produce_role(ring, args, timeout);
        }
        const std::string name = args.positional("NAME");
        if (role == "optional") {
            return optional_role(ring, name, args, timeout);
        }
        if (role == "required") {
            return required_role(ring, name, args, timeout);
        }
        throw std::invalid_argument("unknown role " + role + " (optional, required or produce)");
    } catch (const dmp::Error &e) {
        std::fprintf(stderr, "liveness: %s (status %d)\n", e.what(), e.status());
    } catch (const std::exception &e) {
        std::fprintf(stderr, "liveness: %s\n", e.what());
    }
    return 1;
}
