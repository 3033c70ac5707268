/*
 * disruptor-mp: header-only C++17 wrapper over the C ABI (disruptor_mp.h).
 *
 *   dmp::Ring ring = dmp::Ring::create("quotes", dmp::RingOptions().capacity(4096).slot_size(64));
 *   dmp::Producer<Quote> producer = ring.producer<Quote>();
 *   dmp::Claim<Quote> claim = producer.claim(2);          // waits for room
 *   for (Quote &q : claim) q = next_quote();
 *   claim.publish();
 *
 *   dmp::Consumer<Quote> consumer = ring.consumer<Quote>("risk");
 *   dmp::Batch<Quote> batch = consumer.wait(std::chrono::seconds(1));
 *   for (const Quote &q : batch) handle(q);
 *   batch.commit();
 *
 * Handles are move-only RAII objects; failures throw dmp::Error, which
 * carries the status code and dmp_last_error_message(). Expected outcomes
 * have non-throwing forms: try_claim() and poll() return std::optional.
 * Typed access checks at compile time that T is trivially copyable, and at
 * run time that sizeof(T) fits the ring's slot and alignof(T) its slot
 * alignment (64 bytes, or 8 in packed rings).
 *
 * Threading is that of the C API (docs/C_API.md): a Ring may be shared
 * between threads, a Producer or Consumer is used by one thread at a time.
 * A Claim or Batch refers to its producer or consumer: do not use it after
 * that handle is closed, moved from or destroyed.
 */
#ifndef DISRUPTOR_MP_HPP
#define DISRUPTOR_MP_HPP

#include "disruptor_mp.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#if !(__cplusplus >= 201703L || (defined(_MSVC_LANG) && _MSVC_LANG >= 201703L))
#error "disruptor_mp.hpp needs C++17 or later"
#endif

namespace dmp {

/// A failed call: the status code (DMP_STATUS_*) and the library's message.
class Error : public std::runtime_error {
public:
    Error(int32_t status, const std::string &message) : std::runtime_error(message), status_(status) {}

    /// The DMP_STATUS_* code.
    int32_t status() const noexcept { return status_; }
    /// dmp_status_str() of the code: a short static description.
    const char *status_str() const noexcept { return dmp_status_str(status_); }
    /// Whether a bounded wait expired (DMP_STATUS_TIMEOUT).
    bool is_timeout() const noexcept { return status_ == DMP_STATUS_TIMEOUT; }

private:
    int32_t status_;
};

/// Timeouts are std::chrono durations; pass dmp::infinite to wait forever.
using Timeout = std::chrono::nanoseconds;
/// A timeout that never expires (DMP_TIMEOUT_INFINITE).
inline constexpr Timeout infinite = Timeout::max();

/// Wait strategies (DMP_WAIT_*).
enum class Wait : uint32_t {
    busy_spin = DMP_WAIT_BUSY_SPIN,
    yield = DMP_WAIT_YIELD,
    sleep = DMP_WAIT_SLEEP,
    blocking = DMP_WAIT_BLOCKING,
};

/// Slot layouts (DMP_LAYOUT_*).
enum class Layout : uint32_t {
    default_ = DMP_LAYOUT_DEFAULT,
    stamped = DMP_LAYOUT_STAMPED,
    packed = DMP_LAYOUT_PACKED,
};

/// The library version, e.g. "0.1.0".
inline const char *version() noexcept { return dmp_version(); }

namespace detail {

inline std::string describe(int32_t status, const char *call) {
    std::string message = call;
    message += ": ";
    message += dmp_status_str(status);
    const char *detail = dmp_last_error_message();
    if (detail != nullptr && detail[0] != '\0') {
        message += ": ";
        message += detail;
    }
    return message;
}

[[noreturn]] inline void raise(int32_t status, const char *call) { throw Error(status, describe(status, call)); }

inline void check(int32_t status, const char *call) {
    if (status != DMP_STATUS_OK) {
        raise(status, call);
    }
}

inline uint64_t to_ns(Timeout t) noexcept {
    if (t == infinite) {
        return DMP_TIMEOUT_INFINITE;
    }
    return t.count() <= 0 ? 0 : static_cast<uint64_t>(t.count());
}

struct RingCloser {
    void operator()(dmp_ring *r) const noexcept { (void)dmp_ring_close(r); }
};
struct ProducerCloser {
    void operator()(dmp_producer *p) const noexcept { (void)dmp_producer_close(p); }
};
struct ConsumerCloser {
    void operator()(dmp_consumer *c) const noexcept { (void)dmp_consumer_close(c); }
};

/// Checks that T can live in the slots of `info`'s ring; throws otherwise.
template <class T>
void check_slot_type(const dmp_ring_info &info) {
    if (sizeof(T) > info.slot_size) {
        throw Error(DMP_STATUS_INVALID_SLOT_SIZE,
                    "sizeof(T) = " + std::to_string(sizeof(T)) + " exceeds the ring's slot size of " +
                        std::to_string(info.slot_size) + " bytes");
    }
    const std::size_t slot_align = info.layout == DMP_LAYOUT_PACKED ? 8 : 64;
    if (alignof(T) > slot_align) {
        throw Error(DMP_STATUS_LAYOUT_MISMATCH,
                    "alignof(T) = " + std::to_string(alignof(T)) + " exceeds the ring's slot alignment of " +
                        std::to_string(slot_align) + " bytes");
    }
}

/// Compile-time checks of a slot type; instantiating it fires them.
template <class T>
struct SlotType {
    static_assert(std::is_object_v<T> && !std::is_array_v<T>,
                  "dmp: T must be an object type (wrap arrays in a struct)");
    static_assert(std::is_trivially_copyable_v<T>,
                  "dmp: events are copied between processes byte by byte: T must be trivially copyable");
    static_assert(alignof(T) <= 64, "dmp: slots are at most 64-byte aligned");
    static constexpr bool ok = true;
};

/// Random-access iteration over the slots [first, first + count) of a
/// producer claim or a consumer batch. `Access::slot(handle, seq)` returns
/// the slot pointer (or throws).
template <class Handle, class Ref, class Access>
class SlotIterator {
public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = std::remove_cv_t<std::remove_reference_t<Ref>>;
    using difference_type = std::ptrdiff_t;
    using pointer = std::add_pointer_t<std::remove_reference_t<Ref>>;
    using reference = Ref;

    SlotIterator() noexcept = default;
    SlotIterator(Handle *h, int64_t seq) noexcept : h_(h), seq_(seq) {}

    reference operator*() const { return *static_cast<pointer>(Access::slot(h_, seq_)); }
    pointer operator->() const { return static_cast<pointer>(Access::slot(h_, seq_)); }
    reference operator[](difference_type n) const { return *(*this + n); }
    /// The sequence this iterator stands at.
    int64_t sequence() const noexcept { return seq_; }

    SlotIterator &operator++() noexcept { ++seq_; return *this; }
    SlotIterator operator++(int) noexcept { SlotIterator t = *this; ++seq_; return t; }
    SlotIterator &operator--() noexcept { --seq_; return *this; }
    SlotIterator operator--(int) noexcept { SlotIterator t = *this; --seq_; return t; }
    SlotIterator &operator+=(difference_type n) noexcept { seq_ += n; return *this; }
    SlotIterator &operator-=(difference_type n) noexcept { seq_ -= n; return *this; }
    friend SlotIterator operator+(SlotIterator i, difference_type n) noexcept { return i += n; }
    friend SlotIterator operator+(difference_type n, SlotIterator i) noexcept { return i += n; }
    friend SlotIterator operator-(SlotIterator i, difference_type n) noexcept { return i -= n; }
    friend difference_type operator-(const SlotIterator &a, const SlotIterator &b) noexcept {
        return static_cast<difference_type>(a.seq_ - b.seq_);
    }
    friend bool operator==(const SlotIterator &a, const SlotIterator &b) noexcept { return a.seq_ == b.seq_; }
    friend bool operator!=(const SlotIterator &a, const SlotIterator &b) noexcept { return a.seq_ != b.seq_; }
    friend bool operator<(const SlotIterator &a, const SlotIterator &b) noexcept { return a.seq_ < b.seq_; }
    friend bool operator>(const SlotIterator &a, const SlotIterator &b) noexcept { return a.seq_ > b.seq_; }
    friend bool operator<=(const SlotIterator &a, const SlotIterator &b) noexcept { return a.seq_ <= b.seq_; }
    friend bool operator>=(const SlotIterator &a, const SlotIterator &b) noexcept { return a.seq_ >= b.seq_; }

private:
    Handle *h_ = nullptr;
    int64_t seq_ = 0;
};

struct ProducerSlot {
    static void *slot(dmp_producer *p, int64_t seq) {
        void *s = dmp_producer_slot(p, seq);
        if (s == nullptr) {
            raise(DMP_STATUS_SEQUENCE_OUT_OF_RANGE, "dmp_producer_slot");
        }
        return s;
    }
};

struct ConsumerSlot {
    static const void *slot(dmp_consumer *c, int64_t seq) {
        const void *s = dmp_consumer_slot(c, seq);
        if (s == nullptr) {
            raise(DMP_STATUS_SEQUENCE_OUT_OF_RANGE, "dmp_consumer_slot");
        }
        return s;
    }
};

} // namespace detail

/// Options for creating or opening a ring (a dmp_ring_options filled by
/// dmp_ring_options_init). Zero fields mean "default" at creation and "do
/// not check" at open.
class RingOptions {
public:
    RingOptions() noexcept { dmp_ring_options_init(&o_); }

    /// Number of slots, a power of two (default 4096).
    RingOptions &capacity(uint64_t slots) noexcept { o_.capacity = slots; return *this; }
    /// Payload bytes per slot (default 64).
    RingOptions &slot_size(uint32_t bytes) noexcept { o_.slot_size = bytes; return *this; }
    /// Slot size sizeof(T) and an application type id checked at open.
    template <class T>
    RingOptions &event_type(uint64_t type_id) noexcept {
        static_assert(detail::SlotType<T>::ok);
        o_.slot_size = static_cast<uint32_t>(sizeof(T));
        o_.type_id = type_id;
        return *this;
    }
    /// Consumer-table entries, 1 to 64 (default 16).
    RingOptions &max_consumers(uint32_t n) noexcept { o_.max_consumers = n; return *this; }
    /// DMP_PRODUCER_SINGLE or DMP_PRODUCER_MULTI.
    RingOptions &producer_mode(uint32_t mode) noexcept { o_.producer_mode = mode; return *this; }
    /// Permission bits of a new segment (default 0600).
    RingOptions &mode(uint32_t permissions) noexcept { o_.mode = permissions; return *this; }
    /// Application event type id (0 = none / not checked).
    RingOptions &type_id(uint64_t id) noexcept { o_.type_id = id; return *this; }
    /// Whether publish and commit wake sleepers (needed by Wait::blocking).
    RingOptions &wakeups(bool on) noexcept { o_.wakeups = on ? DMP_WAKEUPS_ON : DMP_WAKEUPS_OFF; return *this; }
    /// Stamped (lowest latency) or packed (densest) slots.
    RingOptions &layout(Layout l) noexcept { o_.layout = static_cast<uint32_t>(l); return *this; }
    /// The name is a file path instead of a POSIX shared-memory name.
    RingOptions &file(bool is_file = true) noexcept { o_.backing = is_file ? DMP_BACKING_FILE : DMP_BACKING_SHM; return *this; }
    /// How long open() waits for the segment to appear (default: not at all).
    RingOptions &open_timeout(Timeout t) noexcept { o_.timeout_ns = detail::to_ns(t); return *this; }

    /// The C struct, to change fields this class has no setter for.
    dmp_ring_options &c_options() noexcept { return o_; }
    const dmp_ring_options &c_options() const noexcept { return o_; }

private:
    dmp_ring_options o_;
};

/// Options for opening a producer.
class ProducerOptions {
public:
    ProducerOptions() noexcept { dmp_producer_options_init(&o_); }
    /// How claim() waits for room (default Wait::yield).
    ProducerOptions &wait(Wait w) noexcept { o_.wait_strategy = static_cast<uint32_t>(w); return *this; }
    /// Pause between polls of Wait::sleep.
    ProducerOptions &sleep(Timeout t) noexcept { o_.sleep_ns = detail::to_ns(t); return *this; }
    const dmp_producer_options &c_options() const noexcept { return o_; }

private:
    dmp_producer_options o_;
};

/// Options for opening a consumer.
class ConsumerOptions {
public:
    ConsumerOptions() noexcept { dmp_consumer_options_init(&o_); }
    /// How wait() waits for events (default Wait::yield).
    ConsumerOptions &wait(Wait w) noexcept { o_.wait_strategy = static_cast<uint32_t>(w); return *this; }
    /// Pause between polls of Wait::sleep.
    ConsumerOptions &sleep(Timeout t) noexcept { o_.sleep_ns = detail::to_ns(t); return *this; }
    /// Reads an event only after consumer `name` has committed it.
    ConsumerOptions &after(std::string name) { deps_.push_back(std::move(name)); return *this; }

    /// The C struct, pointing into `names` (which must outlive its use).
    dmp_consumer_options c_options(std::vector<const char *> &names) const {
        names.clear();
        for (const std::string &d : deps_) {
            names.push_back(d.c_str());
        }
        dmp_consumer_options o = o_;
        o.dependencies = names.empty() ? nullptr : names.data();
        o.dependency_count = names.size();
        return o;
    }

private:
    dmp_consumer_options o_;
    std::vector<std::string> deps_;
};

template <class T>
class Producer;
template <class T>
class Consumer;

/// An open ring. Move-only; closes its handle when destroyed. Producers and
/// consumers opened from it stay usable after it is closed.
class Ring {
public:
    /// Creates a ring; throws dmp::Error (DMP_STATUS_ALREADY_EXISTS, ...).
    [[nodiscard]] static Ring create(const std::string &name, const RingOptions &options = RingOptions()) {
        dmp_ring *r = nullptr;
        detail::check(dmp_ring_create(name.c_str(), &options.c_options(), &r), "dmp_ring_create");
        return Ring(r);
    }

    /// Opens an existing ring, waiting up to options.open_timeout() for it.
    [[nodiscard]] static Ring open(const std::string &name, const RingOptions &options = RingOptions()) {
        dmp_ring *r = nullptr;
        detail::check(dmp_ring_open(name.c_str(), &options.c_options(), &r), "dmp_ring_open");
        return Ring(r);
    }

    /// Opens the ring, or creates it if it does not exist; `*created` (if
    /// given) tells which happened.
    [[nodiscard]] static Ring open_or_create(const std::string &name, const RingOptions &options = RingOptions(),
                                             bool *created = nullptr) {
        dmp_ring *r = nullptr;
        bool made = false;
        detail::check(dmp_ring_open_or_create(name.c_str(), &options.c_options(), &r, &made),
                      "dmp_ring_open_or_create");
        if (created != nullptr) {
            *created = made;
        }
        return Ring(r);
    }

    /// Removes a ring's name; processes that have it open keep working.
    static void unlink(const std::string &name, bool is_file = false) {
        detail::check(dmp_ring_unlink(name.c_str(), is_file ? DMP_BACKING_FILE : DMP_BACKING_SHM), "dmp_ring_unlink");
    }

    /// Adopts a handle from the C API (takes ownership).
    explicit Ring(dmp_ring *handle) noexcept : h_(handle) {}

    /// Layout and cursor (dmp_ring_get_info).
    [[nodiscard]] dmp_ring_info info() const {
        dmp_ring_info i{};
        i.struct_size = sizeof i;
        detail::check(dmp_ring_get_info(handle(), &i), "dmp_ring_get_info");
        return i;
    }
    uint64_t capacity() const { return info().capacity; }
    uint32_t slot_size() const { return info().slot_size; }
    /// Last published sequence, -1 before the first publish.
    int64_t cursor() const { return info().cursor; }

    /// Attaches the ring's producer for events of type T.
    template <class T>
    [[nodiscard]] Producer<T> producer(const ProducerOptions &options = ProducerOptions()) const {
        return Producer<T>(*this, options);
    }

    /// Registers consumer `name` for events of type T.
    template <class T>
    [[nodiscard]] Consumer<T> consumer(const std::string &name, const ConsumerOptions &options = ConsumerOptions()) const {
        return Consumer<T>(*this, name, options);
    }

    /// Closes the handle now, reporting a failure (the destructor cannot).
    void close() {
        if (h_) {
            detail::check(dmp_ring_close(h_.release()), "dmp_ring_close");
        }
    }

    /// The C handle (still owned by this object), or nullptr once closed.
    dmp_ring *c_handle() const noexcept { return h_.get(); }
    explicit operator bool() const noexcept { return static_cast<bool>(h_); }

private:
    dmp_ring *handle() const {
        if (!h_) {
            throw Error(DMP_STATUS_INVALID_HANDLE, "dmp::Ring: the ring is closed or moved from");
        }
        return h_.get();
    }

    std::unique_ptr<dmp_ring, detail::RingCloser> h_;
};

/// Claimed, unpublished slots [first(), last()] of a producer, viewed as T.
/// Write them, then publish(). A claim that is never published blocks
/// later publishes of its producer: publish it, or close the producer.
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

    /// Publishes every claimed slot.
    void publish() const { detail::check(dmp_publish(p_, first_, last()), "dmp_publish"); }

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
        dmp_ring_info i = ring.info();
        detail::check_slot_type<T>(i);
        dmp_producer *p = nullptr;
        detail::check(dmp_producer_open(ring.c_handle(), &options.c_options(), &p), "dmp_producer_open");
        h_.reset(p);
        capacity_ = i.capacity;
    }

    /// Claims `n` consecutive slots, waiting at most `timeout` for room;
    /// throws dmp::Error (is_timeout()) when the wait expires.
    Claim<T> claim(uint64_t n = 1, Timeout timeout = infinite) {
        int64_t first = 0;
        detail::check(dmp_claim(handle(), n, detail::to_ns(timeout), &first), "dmp_claim");
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
        detail::check(dmp_publish_one(handle(), std::addressof(event), sizeof(T), detail::to_ns(timeout), &seq),
                      "dmp_publish_one");
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
        while (begin != end) {
            uint64_t n = 0;
            for (It i = begin; i != end && n < capacity_; ++i) {
                ++n;
            }
            Claim<T> c = claim(n, timeout);
            for (T &slot : c) {
                const T &event = *begin;
                std::memcpy(static_cast<void *>(&slot), std::addressof(event), sizeof(T));
                ++begin;
            }
            c.publish();
        }
    }

    /// Number of slots of the ring.
    uint64_t capacity() const noexcept { return capacity_; }

    /// Publishes [lo, hi] (for claims managed by hand).
    void publish(int64_t lo, int64_t hi) { detail::check(dmp_publish(handle(), lo, hi), "dmp_publish"); }

    /// The slot of a claimed, unpublished sequence.
    T &slot(int64_t seq) { return *static_cast<T *>(detail::ProducerSlot::slot(handle(), seq)); }

    void close() {
        if (h_) {
            detail::check(dmp_producer_close(h_.release()), "dmp_producer_close");
        }
    }
    dmp_producer *c_handle() const noexcept { return h_.get(); }
    explicit operator bool() const noexcept { return static_cast<bool>(h_); }

private:
    dmp_producer *handle() const {
        if (!h_) {
            throw Error(DMP_STATUS_INVALID_HANDLE, "dmp::Producer: the producer is closed or moved from");
        }
        return h_.get();
    }

    std::unique_ptr<dmp_producer, detail::ProducerCloser> h_;
    uint64_t capacity_ = 0;
};

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

    /// Marks the whole batch consumed (one release store).
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
    Consumer(const Ring &ring, const std::string &name, const ConsumerOptions &options = ConsumerOptions()) {
        detail::check_slot_type<T>(ring.info());
        std::vector<const char *> names;
        dmp_consumer_options o = options.c_options(names);
        dmp_consumer *c = nullptr;
        detail::check(dmp_consumer_open(ring.c_handle(), name.c_str(), &o, &c), "dmp_consumer_open");
        h_.reset(c);
    }

    /// The next sequence to read (last committed + 1).
    int64_t next_sequence() const {
        int64_t next = 0;
        detail::check(dmp_consumer_next(handle(), &next), "dmp_consumer_next");
        return next;
    }

    /// Waits at most `timeout` for the next event and returns every
    /// available one (at most `max_events`); throws dmp::Error
    /// (is_timeout()) when the wait expires.
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
    /// dmp::Error (is_timeout()) when the wait expires.
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

    void close() {
        if (h_) {
            detail::check(dmp_consumer_close(h_.release()), "dmp_consumer_close");
        }
    }
    dmp_consumer *c_handle() const noexcept { return h_.get(); }
    explicit operator bool() const noexcept { return static_cast<bool>(h_); }

private:
    dmp_consumer *handle() const {
        if (!h_) {
            throw Error(DMP_STATUS_INVALID_HANDLE, "dmp::Consumer: the consumer is closed or moved from");
        }
        return h_.get();
    }

    std::optional<Batch<T>> wait_impl(uint64_t timeout_ns, uint64_t max_events, bool quiet) {
        if (max_events == 0) {
            throw Error(DMP_STATUS_INVALID_ARGUMENT, "dmp::Consumer::wait: max_events must be at least 1");
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
};

} // namespace dmp

#endif /* DISRUPTOR_MP_HPP */
