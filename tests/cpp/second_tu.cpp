// A second translation unit including disruptor_mp.hpp and instantiating
// the same templates as wrapper_test.cpp: the program links only if every
// function the header defines is inline.
#include "disruptor_mp.hpp"

#include <string>

int second_tu_checks(const std::string &ring_name) {
    dmp::Ring ring = dmp::Ring::create(ring_name, dmp::RingOptions().capacity(4).slot_size(8));
    dmp::Consumer<uint64_t> c = ring.consumer<uint64_t>("second");
    dmp::Producer<uint64_t> p = ring.producer<uint64_t>();
    p.send(42);
    dmp::Batch<uint64_t> b = c.wait(std::chrono::seconds(1));
    const int result = (b.size() == 1 && *b.begin() == 42) ? 0 : 1;
    b.commit();
    // c and p are still open: a plain unlink would refuse the live ring.
    dmp::Ring::remove(ring_name, /*force=*/true);
    return result;
}
