// consumer: registers a consumer on a ring and verifies COUNT events.
//
// usage: consumer RING --name NAME [--count N] [--after OTHER]...
//                      [--wait spin|yield|sleep|block] [--timeout-ms MS]
//
// Waits up to 10 s for the ring, registers NAME (after each --after
// consumer: a pipeline stage), prints "ready NAME", then reads whole
// batches, checking every event (event.hpp) and that the numbers follow
// each other, and commits each batch.
#include "args.hpp"
#include "event.hpp"

#include <disruptor_mp.hpp>

#include <chrono>
#include <cstdio>
#include <exception>

int main(int argc, char **argv) {
    try {
        Args args(argc, argv);
        const std::string ring_name = args.positional("RING");
        const std::string name = args.text("--name", "");
        const uint64_t count = args.number("--count", 1000000);
        const std::chrono::milliseconds timeout(args.number("--timeout-ms", 10000));
        dmp::ConsumerOptions options;
        options.wait(args.wait("yield"));
        for (const std::string &after : args.values("--after")) {
            options.after(after);
        }
        args.done();
        if (name.empty()) {
            throw std::invalid_argument("--name NAME is required");
        }

        dmp::Ring ring = dmp::Ring::open(ring_name, dmp::RingOptions().open_timeout(timeout));
        dmp::Consumer<Event> consumer = ring.consumer<Event>(name, options);
        std::printf("ready %s\n", name.c_str());
        std::fflush(stdout);

        uint64_t got = 0, batches = 0, expected = 0;
        bool started = false;
        while (got < count) {
            // Every available event at once (but no more than we still want).
            dmp::Batch<Event> batch = consumer.wait(timeout, count - got);
            for (auto it = batch.begin(); it != batch.end(); ++it) {
                const Event &e = *it;
                if (!intact(e) || (started && e.number != expected)) {
                    std::fprintf(stderr, "consumer: wrong event %llu at sequence %lld (expected %llu)\n",
                                 static_cast<unsigned long long>(e.number), static_cast<long long>(it.sequence()),
                                 static_cast<unsigned long long>(expected));
                    return 1;
                }
                started = true;
                expected = e.number + 1;
            }
            batch.commit();
            got += batch.size();
            batches++;
        }
        std::printf("consumed %llu events in %llu batches, last event %lld\n", static_cast<unsigned long long>(got),
                    static_cast<unsigned long long>(batches), started ? static_cast<long long>(expected) - 1 : -1LL);
        consumer.close();
        return 0;
    } catch (const dmp::Error &e) {
        std::fprintf(stderr, "consumer: %s (status %d)\n", e.what(), e.status());
    } catch (const std::exception &e) {
        std::fprintf(stderr, "consumer: %s\n", e.what());
    }
    return 1;
}
