// epoll: a consumer that waits inside an epoll loop on its wake-up fd
// (dmp::Consumer<T>::wait_fd() and arm()).
//
// usage: epoll RING --name NAME [--count N] [--timeout-ms MS]
//
// Waits up to 10 s for the ring to appear, registers NAME, adds the
// consumer's wake-up fd to an epoll set, prints "ready NAME", then loops:
// arm() returns false when events are there (read the batch, check every
// event and that the numbers follow each other, commit) and true when it
// armed the fd (epoll_wait for it). A real service adds its sockets to the
// same epoll set. Each epoll_wait is bounded (50 ms) and followed by a new
// arm, which covers a producer that died between taking the arming and
// sending the wake-up. At the end it prints how many times arm() armed the
// fd, how many wake-ups (readable fd) and empty wake-ups (readable, yet
// nothing available) there were. Exits non-zero on any error or when no
// event arrives for --timeout-ms (default 10000).
#include "args.hpp"
#include "event.hpp"

#include <disruptor_mp.hpp>

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>

namespace {

constexpr int slice_ms = 50;

// An epoll set, closed when it goes out of scope.
class Epoll {
public:
    Epoll() : fd_(epoll_create1(EPOLL_CLOEXEC)) {
        if (fd_ < 0) {
            throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
        }
    }
    Epoll(const Epoll &) = delete;
    Epoll &operator=(const Epoll &) = delete;
    ~Epoll() { (void)::close(fd_); }

    void add(int fd) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        if (epoll_ctl(fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
            throw std::runtime_error(std::string("epoll_ctl: ") + std::strerror(errno));
        }
    }

    // How many fds are readable after waiting at most `ms` (0: none).
    int wait(int ms) {
        epoll_event out[4];
        for (;;) {
            int n = epoll_wait(fd_, out, 4, ms);
            if (n >= 0) {
                return n;
            }
            if (errno != EINTR) {
                throw std::runtime_error(std::string("epoll_wait: ") + std::strerror(errno));
            }
        }
    }

private:
    int fd_;
};

} // namespace

int main(int argc, char **argv) {
    try {
        Args args(argc, argv);
        const std::string ring_name = args.positional("RING");
        const std::string name = args.text("--name", "");
        const uint64_t count = args.number("--count", 1000000);
        const uint64_t timeout_ms = args.number("--timeout-ms", 10000);
        args.done();
        if (name.empty()) {
            throw std::invalid_argument("--name NAME is required");
        }

        dmp::Ring ring = dmp::Ring::open(ring_name, dmp::RingOptions().open_timeout(std::chrono::seconds(10)));
        dmp::Consumer<Event> consumer = ring.consumer<Event>(name);
        // The fd belongs to the consumer: add it to the set, never close it.
        Epoll ep;
        ep.add(consumer.wait_fd());
        std::printf("ready %s\n", name.c_str());
        std::fflush(stdout);

        uint64_t got = 0, batches = 0, armings = 0, wakeups = 0, empty = 0, idle_ms = 0, expected = 0;
        bool started = false, woken = false;
        while (got < count) {
            if (consumer.arm()) {
                // Armed: nothing to read until the fd is readable (or the
                // slice runs out: arm again all the same).
                armings++;
                if (woken) {
                    empty++;
                }
                woken = ep.wait(slice_ms) > 0;
                if (woken) {
                    wakeups++;
                    idle_ms = 0;
                } else if ((idle_ms += slice_ms) >= timeout_ms) {
                    std::fprintf(stderr, "epoll: no event for %llu ms\n", static_cast<unsigned long long>(timeout_ms));
                    return 1;
                }
                continue;
            }
            woken = false;
            // arm() said the events are there: poll() takes them at once.
            std::optional<dmp::Batch<Event>> batch = consumer.poll(dmp::Timeout::zero(), count - got);
            if (!batch) {
                throw std::runtime_error("arm() reported events that poll() did not find");
            }
            for (auto it = batch->begin(); it != batch->end(); ++it) {
                const Event &e = *it;
                if (!intact(e) || (started && e.number != expected)) {
                    std::fprintf(stderr, "epoll: wrong event %llu at sequence %lld (expected %llu)\n",
                                 static_cast<unsigned long long>(e.number), static_cast<long long>(it.sequence()),
                                 static_cast<unsigned long long>(expected));
                    return 1;
                }
                started = true;
                expected = e.number + 1;
            }
            batch->commit();
            got += batch->size();
            batches++;
        }
        std::printf("consumed %llu events in %llu batches, %llu armings, %llu wake-ups, %llu empty, last event %lld\n",
                    static_cast<unsigned long long>(got), static_cast<unsigned long long>(batches),
                    static_cast<unsigned long long>(armings), static_cast<unsigned long long>(wakeups),
                    static_cast<unsigned long long>(empty), started ? static_cast<long long>(expected) - 1 : -1LL);
        consumer.close();
        return 0;
    } catch (const dmp::Error &e) {
        std::fprintf(stderr, "epoll: %s (status %d)\n", e.what(), e.status());
    } catch (const std::exception &e) {
        std::fprintf(stderr, "epoll: %s\n", e.what());
    }
    return 1;
}
