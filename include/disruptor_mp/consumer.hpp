// disruptor_mp/consumer.hpp: part of disruptor_mp.hpp (include that).
// dmp::Consumer<T> and its dmp::Batch<T>: wait, read, commit; one event
// per call; abandoned sequences; eviction and rejoin of optional
// consumers; what a name lost when it joined.
#ifndef DISRUPTOR_MP_CONSUMER_HPP
#define DISRUPTOR_MP_CONSUMER_HPP

#include "error.hpp"
#include "options.hpp"
#include "ring.hpp"
#include "slot_type.hpp"
#include "span.hpp"

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace dmp {

namespace detail {
struct ConsumerCloser {
    void operator()(dmp_consumer *c) const noexcept { (void)dmp_consumer_close(c); }
};

/// The payload of `seq` (dmp_consumer_event), nullptr when abandoned.
inline const void *event(dmp_consumer *c, int64_t seq) {
    const void *payload = nullptr;
    const int32_t st = dmp_consumer_event(c, seq, &payload);
    if (st == DMP_STATUS_ABANDONED) {
        return nullptr;
    }
    check(st, "dmp_consumer_event");
    return payload;
}

/// The slots of [lo, hi] (dmp_consumer_span), std::nullopt when the range
/// holds an abandoned sequence.
template <class T>
std::optional<Span<const T>> span(dmp_consumer *c, int64_t lo, int64_t hi) {
    dmp_span s{};
    s.struct_size = sizeof s;
    const int32_t st = dmp_consumer_span(c, lo, hi, &s);
    if (st == DMP_STATUS_ABANDONED) {
        return std::nullopt;
    }
    check(st, "dmp_consumer_span");
    return Span<const T>(s, lo);
}
} // namespace detail

/// Available, uncommitted events [first(), last()] of a consumer, viewed as
/// const T. Read them, then commit().
template <class T>
class [[nodiscard]] Batch {
public:
    using iterator = detail::SlotIterator<dmp_consumer, const T &, detail::ConsumerSlot>;

    Batch(dmp_consumer *c, int64_t first, int64_t last) noexcept : c_(c), first_(first), last_(last) {}

    int64_t first() const noexcept { return first_; }
    int64_t last() const noexcept { return last_; }
    std::size_t size() const noexcept { return static_cast<std::size_t>(last_ - first_ + 1); }
    bool empty() const noexcept { return last_ < first_; }

    iterator begin() const noexcept { return iterator(c_, first_); }
    iterator end() const noexcept { return iterator(c_, last_ + 1); }
    const T &operator[](std::size_t i) const { return begin()[static_cast<std::ptrdiff_t>(i)]; }
    const T &at_sequence(int64_t seq) const { return *static_cast<const T *>(detail::ConsumerSlot::slot(c_, seq)); }
    /// The event of `seq` in the batch, or nullptr when its producer
    /// abandoned it (multi-producer rings): skip it.
    const T *event(int64_t seq) const { return static_cast<const T *>(detail::event(c_, seq)); }
    /// Every event of the batch from one call (dmp_consumer_span), the fast
    /// way to read a large batch; std::nullopt when it holds an abandoned
    /// sequence (read those with event()).
    std::optional<Span<const T>> span() const { return detail::span<T>(c_, first_, last_); }

    /// Marks the whole batch consumed (one release store). Throws
    /// dmp::Evicted when this optional consumer was evicted: the batch is
    /// void.
    void commit() const { detail::check(dmp_commit(c_, last_), "dmp_commit"); }

private:
    dmp_consumer *c_;
    int64_t first_;
    int64_t last_;
};

/// A consumer of events of type T. Move-only; closing it makes it leave
/// the ring (it stops holding the producer back).
template <class T>
class Consumer {
    static_assert(detail::SlotType<T>::ok);

public:
    Consumer(const Ring &ring, const std::string &name, const ConsumerOptions &options = ConsumerOptions())
        : name_(name) {
        dmp_ring *r = ring.handle("dmp::Ring::consumer<T> (dmp_consumer_open)");
        detail::check_slot_type<T>(ring.info(), "dmp::Ring::consumer<T> (dmp_consumer_open)", ring.name());
        std::vector<const char *> names;
        dmp_consumer_options o = options.c_options(names);
        dmp_consumer *c = nullptr;
        detail::check(dmp_consumer_open(r, name.c_str(), &o, &c), "dmp_consumer_open");
        h_.reset(c);
    }

    /// Adopts a consumer opened through the C API, checking T against
    /// `ring` (the ring it was opened from); on a failed check nothing is
    /// adopted (the caller still owns `handle`).
    [[nodiscard]] static Consumer adopt(dmp_consumer *handle, const Ring &ring, std::string name = "(adopted)") {
        detail::check_slot_type<T>(ring.info(), "dmp::Consumer<T>::adopt", ring.name());
        return Consumer(handle, std::move(name));
    }
    /// Adopts a consumer opened through the C API without a ring to check
    /// T against (the caller vouches that T fits the slots).
    [[nodiscard]] static Consumer adopt(dmp_consumer *handle, std::string name = "(adopted)") noexcept {
        return Consumer(handle, std::move(name));
    }
    /// Gives up ownership: the C handle, which the caller must close.
    [[nodiscard]] dmp_consumer *release() noexcept { return h_.release(); }

    /// The name it registered (or was adopted with).
    const std::string &name() const noexcept { return name_; }

    /// The next sequence to read (last committed + 1).
    int64_t next_sequence() const {
        int64_t next = 0;
        detail::check(dmp_consumer_next(handle(), &next), "dmp_consumer_next");
        return next;
    }

    /// How many events this name missed when it joined: 0 for a new name
    /// and for one resuming from its committed sequence after its previous
    /// holder died (the uncommitted batch is delivered again); with
    /// ConsumerOptions::join_at_oldest(), every event published before the
    /// first one it reads.
    uint64_t lost_on_join() const {
        uint64_t lost = 0;
        detail::check(dmp_consumer_lost_on_join(handle(), &lost), "dmp_consumer_lost_on_join");
        return lost;
    }

    /// The wake-up fd for epoll/poll (non-blocking, close-on-exec, owned by
    /// this consumer: do not close it). Readable after arm() returned true
    /// and events past the consumer's position were published.
    int wait_fd() {
        int fd = -1;
        detail::check(dmp_consumer_wait_fd(handle(), &fd), "dmp_consumer_wait_fd");
        return fd;
    }

    /// Arms the wake-up fd: false when events are available now (read them
    /// and arm again), true when armed (wait for wait_fd() to be readable).
    /// One wake-up per arming; never a lost one.
    bool arm() {
        const int32_t status = dmp_consumer_arm(handle());
        if (status == DMP_STATUS_WOULD_BLOCK) {
            return true;
        }
        detail::check(status, "dmp_consumer_arm");
        return false;
    }

    /// After dmp::Evicted: joins again at the current position and returns
    /// how many events were lost since the last commit (0, and nothing
    /// changes, when it was not evicted).
    uint64_t rejoin() {
        uint64_t lost = 0;
        detail::check(dmp_consumer_rejoin(handle(), &lost), "dmp_consumer_rejoin");
        return lost;
    }

    /// Waits at most `timeout` for the next event and returns every
    /// available one (at most `max_events`); throws dmp::Error
    /// (is_timeout()) when the wait expires, dmp::Evicted when this
    /// optional consumer was evicted.
    Batch<T> wait(Timeout timeout = infinite, uint64_t max_events = std::numeric_limits<uint64_t>::max()) {
        std::optional<Batch<T>> b = wait_impl(detail::to_ns(timeout), max_events, false);
        return *b;
    }

    /// Like wait(), but returns std::nullopt when nothing arrived in time
    /// (the default timeout 0 never waits).
    [[nodiscard]] std::optional<Batch<T>> poll(Timeout timeout = Timeout::zero(),
                                               uint64_t max_events = std::numeric_limits<uint64_t>::max()) {
        return wait_impl(detail::to_ns(timeout), max_events, true);
    }

    /// Marks every sequence up to `seq` consumed.
    void commit(int64_t seq) { detail::check(dmp_commit(handle(), seq), "dmp_commit"); }

    /// Consumes one event (wait, copy, commit in one call: dmp_consume_one),
    /// waiting at most `timeout`; abandoned sequences are skipped. Throws
    /// dmp::Error (is_timeout()) when the wait expires, dmp::Evicted when
    /// evicted (the copy may be torn: discard it).
    T receive(Timeout timeout = infinite) {
        static_assert(std::is_default_constructible_v<T>, "receive() copies into a T: use wait() for other types");
        T event;
        detail::check(dmp_consume_one(handle(), std::addressof(event), sizeof(T), detail::to_ns(timeout), nullptr),
                      "dmp_consume_one");
        return event;
    }

    /// Like receive(), but std::nullopt when nothing arrived in time (the
    /// default timeout 0 never waits).
    [[nodiscard]] std::optional<T> try_receive(Timeout timeout = Timeout::zero()) {
        static_assert(std::is_default_constructible_v<T>, "try_receive() copies into a T: use poll() for other types");
        T event;
        int32_t st = dmp_consume_one(handle(), std::addressof(event), sizeof(T), detail::to_ns(timeout), nullptr);
        if (st == DMP_STATUS_WOULD_BLOCK || st == DMP_STATUS_TIMEOUT) {
            return std::nullopt;
        }
        detail::check(st, "dmp_consume_one");
        return event;
    }

    /// The slot of an available, uncommitted sequence.
    const T &slot(int64_t seq) const { return *static_cast<const T *>(detail::ConsumerSlot::slot(handle(), seq)); }
    /// The event of an available, uncommitted sequence, or nullptr when its
    /// producer abandoned it (multi-producer rings): skip it.
    const T *event(int64_t seq) const { return static_cast<const T *>(detail::event(handle(), seq)); }
    /// The slots of available, uncommitted sequences [lo, hi] in one call;
    /// std::nullopt when the range holds an abandoned sequence.
    std::optional<Span<const T>> span(int64_t lo, int64_t hi) const { return detail::span<T>(handle(), lo, hi); }

    void close() {
        if (h_) {
            detail::check(dmp_consumer_close(h_.release()), "dmp_consumer_close");
        }
    }
    dmp_consumer *c_handle() const noexcept { return h_.get(); }
    explicit operator bool() const noexcept { return static_cast<bool>(h_); }

private:
    Consumer(dmp_consumer *handle, std::string name) noexcept : h_(handle), name_(std::move(name)) {}

    dmp_consumer *handle() const {
        if (!h_) {
            throw Error(DMP_STATUS_INVALID_HANDLE, "dmp::Consumer: the consumer \"" + name_ +
                                                       "\" is closed, released or moved from: use an open one");
        }
        return h_.get();
    }

    std::optional<Batch<T>> wait_impl(uint64_t timeout_ns, uint64_t max_events, bool quiet) {
        if (max_events == 0) {
            throw Error(DMP_STATUS_INVALID_ARGUMENT,
                        "dmp::Consumer::wait: max_events is 0, it must be at least 1 (or left out: no limit)");
        }
        int64_t next = next_sequence();
        int64_t available = 0;
        int32_t st = dmp_wait_for(handle(), next, timeout_ns, &available);
        if (quiet && (st == DMP_STATUS_WOULD_BLOCK || st == DMP_STATUS_TIMEOUT)) {
            return std::nullopt;
        }
        detail::check(st, "dmp_wait_for");
        uint64_t n = static_cast<uint64_t>(available - next) + 1;
        if (n > max_events) {
            available = next + static_cast<int64_t>(max_events) - 1;
        }
        return Batch<T>(h_.get(), next, available);
    }

    std::unique_ptr<dmp_consumer, detail::ConsumerCloser> h_;
    std::string name_;
};

template <class T>
Consumer<T> Ring::consumer(const std::string &name, const ConsumerOptions &options) const {
    return Consumer<T>(*this, name, options);
}

} // namespace dmp

#endif /* DISRUPTOR_MP_CONSUMER_HPP */
