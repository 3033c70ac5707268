// disruptor_mp/producer.hpp: part of disruptor_mp.hpp (include that).
// dmp::Producer<T> and its dmp::Claim<T>: claim, write, publish (or give
// back), one event per call, whole ranges through spans.
#ifndef DISRUPTOR_MP_PRODUCER_HPP
#define DISRUPTOR_MP_PRODUCER_HPP

#include "error.hpp"
#include "options.hpp"
#include "ring.hpp"
#include "slot_type.hpp"
#include "span.hpp"

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dmp {

namespace detail {
struct ProducerCloser {
    void operator()(dmp_producer *p) const noexcept { (void)dmp_producer_close(p); }
};
} // namespace detail

/// Claimed, unpublished slots [first(), last()] of a producer, viewed as T.
/// Write them, then publish() (or unclaim() them). A claim that is never
/// published blocks later publishes of its producer: publish it, unclaim
/// it, or close the producer.
template <class T>
class [[nodiscard]] Claim {
public:
    using iterator = detail::SlotIterator<dmp_producer, T &, detail::ProducerSlot>;

    Claim(dmp_producer *p, int64_t first, uint64_t count) noexcept : p_(p), first_(first), count_(count) {}

    int64_t first() const noexcept { return first_; }
    int64_t last() const noexcept { return first_ + static_cast<int64_t>(count_) - 1; }
    std::size_t size() const noexcept { return static_cast<std::size_t>(count_); }
    bool empty() const noexcept { return count_ == 0; }

    iterator begin() const noexcept { return iterator(p_, first_); }
    iterator end() const noexcept { return iterator(p_, first_ + static_cast<int64_t>(count_)); }
    /// The i-th claimed slot.
    T &operator[](std::size_t i) const { return begin()[static_cast<std::ptrdiff_t>(i)]; }
    /// The slot of sequence `seq` (must lie in the claim).
    T &at_sequence(int64_t seq) const { return *static_cast<T *>(detail::ProducerSlot::slot(p_, seq)); }
    /// Every claimed slot from one call (dmp_producer_span): the fast way
    /// to fill a large claim.
    Span<T> span() const {
        dmp_span s{};
        s.struct_size = sizeof s;
        detail::check(dmp_producer_span(p_, first_, last(), &s), "dmp_producer_span");
        return Span<T>(s, first_);
    }

    /// Publishes every claimed slot.
    void publish() const { detail::check(dmp_publish(p_, first_, last()), "dmp_publish"); }
    /// Gives the whole claim back unpublished (dmp_unclaim): a
    /// single-producer ring reuses the sequences, a multi-producer ring
    /// abandons them (consumers skip them).
    void unclaim() const { detail::check(dmp_unclaim(p_, first_), "dmp_unclaim"); }

private:
    dmp_producer *p_;
    int64_t first_;
    uint64_t count_;
};

/// The ring's producer, for events of type T (trivially copyable, at most
/// the ring's slot size). Move-only; closing it frees the ring for another
/// producer.
template <class T>
class Producer {
    static_assert(detail::SlotType<T>::ok);

public:
    explicit Producer(const Ring &ring, const ProducerOptions &options = ProducerOptions()) {
        dmp_ring *r = ring.handle("dmp::Ring::producer<T> (dmp_producer_open)");
        const dmp_ring_info i = ring.info();
        detail::check_slot_type<T>(i, "dmp::Ring::producer<T> (dmp_producer_open)", ring.name());
        dmp_producer_options o = options.c_options();
        std::vector<const char *> names;
        for (const std::string &n : options.ready_names()) {
            names.push_back(n.c_str());
        }
        if (!names.empty()) {
            o.ready_names = names.data();
            o.ready_name_count = names.size();
        }
        if (options.stall_handler()) {
            stall_ = std::make_unique<detail::StallHandler>();
            stall_->handler = options.stall_handler();
            o.on_stall = &detail::StallHandler::call;
            o.on_stall_user = stall_.get();
        }
        dmp_producer *p = nullptr;
        detail::check(dmp_producer_open(r, &o, &p), "dmp_producer_open");
        h_.reset(p);
        capacity_ = i.capacity;
    }

    /// Adopts a producer opened through the C API, checking T against
    /// `ring` (the ring it was opened from); on a failed check nothing is
    /// adopted (the caller still owns `handle`). A handle opened with an
    /// on_stall of its own keeps it.
    [[nodiscard]] static Producer adopt(dmp_producer *handle, const Ring &ring) {
        detail::check_slot_type<T>(ring.info(), "dmp::Producer<T>::adopt", ring.name());
        return Producer(handle, ring.info().capacity);
    }
    /// Adopts a producer opened through the C API without a ring to check
    /// T against (the caller vouches that T fits the slots); capacity() is
    /// 0 (unknown), and send(begin, end) then publishes one event per call.
    [[nodiscard]] static Producer adopt(dmp_producer *handle) noexcept { return Producer(handle, 0); }
    /// Gives up ownership: the C handle, which the caller must close.
    [[nodiscard]] dmp_producer *release() noexcept { return h_.release(); }

    /// Claims `n` consecutive slots, waiting at most `timeout` for room;
    /// throws dmp::Error (is_timeout(), DMP_STATUS_CONSUMER_DEAD,
    /// DMP_STATUS_CONSUMER_STALLED) when it cannot, or what on_stall threw.
    Claim<T> claim(uint64_t n = 1, Timeout timeout = infinite) {
        int64_t first = 0;
        const int32_t st = dmp_claim(handle(), n, detail::to_ns(timeout), &first);
        if (stall_ && stall_->pending) {
            if (st == DMP_STATUS_OK) {
                (void)dmp_unclaim(h_.get(), first); // interrupted: give the claim back
            }
            stall_->rethrow();
        }
        detail::check(st, "dmp_claim");
        return Claim<T>(h_.get(), first, n);
    }

    /// Claims `n` slots if there is room now; std::nullopt otherwise.
    [[nodiscard]] std::optional<Claim<T>> try_claim(uint64_t n = 1) {
        int64_t first = 0;
        int32_t st = dmp_try_claim(handle(), n, &first);
        if (st == DMP_STATUS_WOULD_BLOCK) {
            return std::nullopt;
        }
        detail::check(st, "dmp_try_claim");
        return Claim<T>(h_.get(), first, n);
    }

    /// Publishes one event (claim, copy, publish in one call:
    /// dmp_publish_one), waiting at most `timeout` for room; returns its
    /// sequence. Throws dmp::Error (is_timeout()) when the wait expires.
    int64_t send(const T &event, Timeout timeout = infinite) {
        int64_t seq = -1;
        const int32_t st = dmp_publish_one(handle(), std::addressof(event), sizeof(T), detail::to_ns(timeout), &seq);
        if (stall_) {
            stall_->rethrow(); // the event, if published, stays published
        }
        detail::check(st, "dmp_publish_one");
        return seq;
    }

    /// Publishes one event if there is room now: its sequence, or
    /// std::nullopt when the ring is full.
    [[nodiscard]] std::optional<int64_t> try_send(const T &event) {
        int64_t seq = -1;
        int32_t st = dmp_publish_one(handle(), std::addressof(event), sizeof(T), 0, &seq);
        if (st == DMP_STATUS_WOULD_BLOCK) {
            return std::nullopt;
        }
        detail::check(st, "dmp_publish_one");
        return seq;
    }

    /// Claims, fills and publishes the events of [begin, end) (forward
    /// iterators over T) in batches of at most the ring's capacity.
    template <class It>
    void send(It begin, It end, Timeout timeout = infinite) {
        while (capacity_ == 0 && begin != end) {
            (void)send(*begin, timeout);
            ++begin;
        }
        while (begin != end) {
            uint64_t n = 0;
            for (It i = begin; i != end && n < capacity_; ++i) {
                ++n;
            }
            Claim<T> c = claim(n, timeout);
            for (T &slot : c.span()) {
                const T &event = *begin;
                std::memcpy(static_cast<void *>(&slot), std::addressof(event), sizeof(T));
                ++begin;
            }
            c.publish();
        }
    }

    /// Number of slots of the ring (0 when adopted without a ring).
    uint64_t capacity() const noexcept { return capacity_; }

    /// Publishes [lo, hi] (for claims managed by hand).
    void publish(int64_t lo, int64_t hi) { detail::check(dmp_publish(handle(), lo, hi), "dmp_publish"); }
    /// Gives back the claimed, unpublished sequences from `from` on
    /// (dmp_unclaim); a `from` outside the unpublished claim does nothing.
    void unclaim(int64_t from) { detail::check(dmp_unclaim(handle(), from), "dmp_unclaim"); }

    /// The slot of a claimed, unpublished sequence.
    T &slot(int64_t seq) { return *static_cast<T *>(detail::ProducerSlot::slot(handle(), seq)); }
    /// The slots of claimed, unpublished sequences [lo, hi] in one call.
    Span<T> span(int64_t lo, int64_t hi) {
        dmp_span s{};
        s.struct_size = sizeof s;
        detail::check(dmp_producer_span(handle(), lo, hi, &s), "dmp_producer_span");
        return Span<T>(s, lo);
    }

    void close() {
        if (h_) {
            detail::check(dmp_producer_close(h_.release()), "dmp_producer_close");
        }
    }
    dmp_producer *c_handle() const noexcept { return h_.get(); }
    explicit operator bool() const noexcept { return static_cast<bool>(h_); }

private:
    Producer(dmp_producer *handle, uint64_t capacity) noexcept : h_(handle), capacity_(capacity) {}

    dmp_producer *handle() const {
        if (!h_) {
            throw Error(DMP_STATUS_INVALID_HANDLE,
                        "dmp::Producer: the producer is closed, released or moved from: use an open one");
        }
        return h_.get();
    }

    // Declared before h_: the handle (whose on_stall points at it) is
    // closed first.
    std::unique_ptr<detail::StallHandler> stall_;
    std::unique_ptr<dmp_producer, detail::ProducerCloser> h_;
    uint64_t capacity_ = 0;
};

template <class T>
Producer<T> Ring::producer(const ProducerOptions &options) const {
    return Producer<T>(*this, options);
}

} // namespace dmp

#endif /* DISRUPTOR_MP_PRODUCER_HPP */
