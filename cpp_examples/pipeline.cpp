// pipeline: a producer and a two-stage pipeline of consumers in one process.
//
// usage: pipeline RING [--count N] [--batch B]
//
// Creates ring RING (1024 slots of 64 bytes), registers consumer "parse"
// and consumer "journal" after it: the library hands "journal" an event only
// once "parse" has committed it. Each stage runs in a thread, the producer
// in the main thread; both stages verify every event, and "journal" checks
// that "parse" had finished every event it is given. The ring is removed at
// the end.
#include "args.hpp"
#include "event.hpp"

#include <disruptor_mp.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace {

// How far "parse" has finished; stored before it commits, so it is never
// behind what the library lets "journal" read.
std::atomic<int64_t> parse_done{-1};

struct Stage {
    Stage(dmp::Consumer<Event> c, bool journal) : consumer(std::move(c)), is_journal(journal) {}

    dmp::Consumer<Event> consumer;
    bool is_journal;
    uint64_t sum = 0;
    std::string error;

    void run(uint64_t count) {
        try {
            uint64_t got = 0;
            while (got < count) {
                dmp::Batch<Event> batch = consumer.wait(10s);
                if (is_journal && parse_done.load(std::memory_order_acquire) < batch.last()) {
                    error = "given sequence " + std::to_string(batch.last()) + " before parse finished it";
                    return;
                }
                for (const Event &e : batch) {
                    if (!intact(e) || e.number != got) {
                        error = "wrong event " + std::to_string(e.number) + ", expected " + std::to_string(got);
                        return;
                    }
                    sum += e.number;
                    got++;
                }
                if (!is_journal) {
                    parse_done.store(batch.last(), std::memory_order_release);
                }
                batch.commit();
            }
        } catch (const std::exception &e) {
            error = e.what();
        }
    }
};

} // namespace

int main(int argc, char **argv) {
    std::string name;
    try {
        Args args(argc, argv);
        name = args.positional("RING");
        const uint64_t count = args.number("--count", 1000000);
        const uint64_t batch = std::clamp<uint64_t>(args.number("--batch", 32), 1, 1024);
        args.done();

        dmp::Ring ring = dmp::Ring::create(name, dmp::RingOptions().capacity(1024).slot_size(sizeof(Event)));
        // Stages register before the producer starts, so they see every event.
        Stage parse(ring.consumer<Event>("parse"), false);
        Stage journal(ring.consumer<Event>("journal", dmp::ConsumerOptions().after("parse")), true);
        dmp::Producer<Event> producer = ring.producer<Event>();

        std::thread parse_thread([&] { parse.run(count); });
        std::thread journal_thread([&] { journal.run(count); });
        std::string producer_error;
        try {
            // The iterator range form: claims, fills and publishes in batches.
            std::vector<Event> events;
            for (uint64_t sent = 0; sent < count;) {
                events.clear();
                for (; events.size() < batch && sent < count; sent++) {
                    events.push_back(make_event(sent));
                }
                producer.send(events.begin(), events.end(), 10s);
            }
        } catch (const std::exception &e) {
            producer_error = e.what(); // the stages give up after their timeout
        }
        parse_thread.join();
        journal_thread.join();
        // The stages' consumers and the producer are still open here, so a
        // plain unlink() would refuse the live ring: remove it with force.
        dmp::Ring::remove(name, /*force=*/true);

        const uint64_t want = count == 0 ? 0 : count * (count - 1) / 2;
        for (const std::string *err : {&producer_error, &parse.error, &journal.error}) {
            if (!err->empty()) {
                std::fprintf(stderr, "pipeline: %s\n", err->c_str());
                return 1;
            }
        }
        if (parse.sum != want || journal.sum != want) {
            std::fprintf(stderr, "pipeline: sums %llu and %llu, expected %llu\n",
                         static_cast<unsigned long long>(parse.sum), static_cast<unsigned long long>(journal.sum),
                         static_cast<unsigned long long>(want));
            return 1;
        }
        std::printf("pipeline: %llu events through parse then journal, sums agree (%llu)\n",
                    static_cast<unsigned long long>(count), static_cast<unsigned long long>(want));
        return 0;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "pipeline: %s\n", e.what());
        if (!name.empty()) {
            try {
                dmp::Ring::remove(name, /*force=*/true);
            } catch (const dmp::Error &) {
                // not created, or already removed
            }
        }
    }
    return 1;
}
