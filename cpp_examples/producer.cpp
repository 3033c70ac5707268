// producer: publishes numbered, verifiable events (event.hpp) in batches.
//
// usage: producer RING [--count N] [--batch B] [--wait spin|yield|sleep|block]
//                      [--create [--capacity SLOTS]]
//
// Without --create the ring must exist (waits up to 10 s for it); with
// --create it is created with 64-byte slots unless it exists. Events are
// numbered on from the ring's cursor. --count 0 only creates or opens.
#include "args.hpp"
#include "event.hpp"

#include <disruptor_mp.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>

using namespace std::chrono_literals;

int main(int argc, char **argv) {
    try {
        Args args(argc, argv);
        const std::string name = args.positional("RING");
        const uint64_t count = args.number("--count", 1000000);
        uint64_t batch = std::max<uint64_t>(1, args.number("--batch", 64));
        const bool create = args.flag("--create");
        dmp::RingOptions options;
        options.capacity(args.number("--capacity", 0)).slot_size(sizeof(Event));
        const dmp::Wait wait = args.wait("yield");
        args.done();

        bool created = false;
        dmp::Ring ring = create ? dmp::Ring::open_or_create(name, options, &created)
                                : dmp::Ring::open(name, options.open_timeout(10s));
        std::printf("%s ring %s\n", created ? "created" : "opened", name.c_str());
        std::fflush(stdout);
        const dmp_ring_info info = ring.info();
        if (info.slot_size != sizeof(Event)) {
            // Other languages check every byte of the slot: fill all of it.
            std::fprintf(stderr, "producer: the ring's slots hold %u bytes, this program writes %zu\n",
                         info.slot_size, sizeof(Event));
            return 1;
        }
        batch = std::min<uint64_t>(batch, info.capacity);

        dmp::Producer<Event> producer = ring.producer<Event>(dmp::ProducerOptions().wait(wait));
        uint64_t number = static_cast<uint64_t>(info.cursor + 1);
        uint64_t sent = 0;
        while (sent < count) {
            dmp::Claim<Event> claim = producer.claim(std::min(batch, count - sent), 10s);
            for (Event &e : claim) {
                e = make_event(number + sent++);
            }
            claim.publish();
        }
        std::printf("produced %llu events\n", static_cast<unsigned long long>(sent));
        producer.close();
        ring.close();
        return 0;
    } catch (const dmp::Error &e) {
        std::fprintf(stderr, "producer: %s (status %d)\n", e.what(), e.status());
    } catch (const std::exception &e) {
        std::fprintf(stderr, "producer: %s\n", e.what());
    }
    return 1;
}
