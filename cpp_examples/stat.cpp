// stat: prints a ring's layout and cursor without disturbing it.
//
// usage: stat RING [--file] [--interval-ms MS --samples N]
//
// Opens the ring (no producer, no consumer: nothing is held back) and
// prints what dmp_ring_get_info reports; with --samples N, then the cursor
// N more times, MS milliseconds apart, with the publish rate.
#include "args.hpp"

#include <disruptor_mp.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <thread>

namespace {

void print_info(const std::string &name, const dmp_ring_info &info) {
    std::printf("ring            %s\n", name.c_str());
    std::printf("library         %s\n", dmp::version());
    std::printf("layout          %s\n", info.layout == DMP_LAYOUT_PACKED ? "packed" : "stamped");
    std::printf("capacity        %llu slots\n", static_cast<unsigned long long>(info.capacity));
    std::printf("slot size       %u bytes\n", info.slot_size);
    std::printf("producer mode   %s\n", info.producer_mode == DMP_PRODUCER_MULTI ? "multi" : "single");
    std::printf("max consumers   %u\n", info.max_consumers);
    std::printf("wake-ups        %s\n", info.wakeups ? "on" : "off");
    std::printf("type id         %#llx\n", static_cast<unsigned long long>(info.type_id));
    std::printf("cursor          %lld\n", static_cast<long long>(info.cursor));
    // Counters (published, claimed, back-pressure waits, per-consumer
    // consumed / batches / lag, ...) live in the segment; print them here,
    // one "name value" line each, once the C ABI exports them.
}

} // namespace

int main(int argc, char **argv) {
    try {
        Args args(argc, argv);
        const std::string name = args.positional("RING");
        const bool file = args.flag("--file");
        const std::chrono::milliseconds interval(args.number("--interval-ms", 1000));
        const uint64_t samples = args.number("--samples", 0);
        args.done();

        const dmp::Ring ring = dmp::Ring::open(name, dmp::RingOptions().file(file));
        dmp_ring_info info = ring.info();
        print_info(name, info);
        for (uint64_t i = 0; i < samples; i++) {
            const int64_t before = info.cursor;
            std::this_thread::sleep_for(interval);
            info = ring.info();
            const double rate = interval.count() > 0 ? double(info.cursor - before) * 1000.0 / double(interval.count()) : 0.0;
            std::printf("cursor          %lld (%.0f events/s)\n", static_cast<long long>(info.cursor), rate);
            std::fflush(stdout);
        }
        return 0;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "stat: %s\n", e.what());
    }
    return 1;
}
