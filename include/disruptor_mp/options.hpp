// disruptor_mp/options.hpp: part of disruptor_mp.hpp (include that).
// Chaining builders over the C option structs: RingOptions,
// ProducerOptions (wait strategy, liveness policy, readiness gate,
// on_stall) and ConsumerOptions (dependencies, optional consumers).
#ifndef DISRUPTOR_MP_OPTIONS_HPP
#define DISRUPTOR_MP_OPTIONS_HPP

#include "error.hpp"
#include "slot_type.hpp"

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dmp {

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

/// Producer modes (DMP_PRODUCER_*).
enum class ProducerMode : uint32_t {
    default_ = DMP_PRODUCER_DEFAULT,
    single = DMP_PRODUCER_SINGLE,
    multi = DMP_PRODUCER_MULTI,
};

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
    /// Single or multi-producer ring (default single).
    RingOptions &producer_mode(ProducerMode mode) noexcept { o_.producer_mode = static_cast<uint32_t>(mode); return *this; }
    /// DMP_PRODUCER_SINGLE or DMP_PRODUCER_MULTI.
    RingOptions &producer_mode(uint32_t mode) noexcept { o_.producer_mode = mode; return *this; }
    /// A multi-producer ring with `max_producers` producer-table entries
    /// (0: the default 8).
    RingOptions &multi_producer(uint32_t max_producers = 0) noexcept {
        o_.producer_mode = DMP_PRODUCER_MULTI;
        o_.max_producers = max_producers;
        return *this;
    }
    /// Multi-producer rings: producer-table entries, 1 to 64 (default 8).
    RingOptions &max_producers(uint32_t n) noexcept { o_.max_producers = n; return *this; }
    /// Multi-producer rings: how long a claimed, unpublished sequence may
    /// hold consumers up before it is abandoned (default 2 s).
    RingOptions &unblock_timeout(Timeout t) noexcept { o_.unblock_timeout_ns = detail::to_ns(t); return *this; }
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
    /// open_or_create(): a stale ring (used once, no live participant now;
    /// a never-used ring is not stale) is unlinked and created anew
    /// (DMP_OPEN_RECLAIM_STALE).
    RingOptions &reclaim_stale(bool on = true) noexcept { return flag(DMP_OPEN_RECLAIM_STALE, on); }
    /// open(): read-only, as an observer (snapshots only) (DMP_OPEN_READ_ONLY).
    RingOptions &read_only(bool on = true) noexcept { return flag(DMP_OPEN_READ_ONLY, on); }

    /// The C struct, to change fields this class has no setter for.
    dmp_ring_options &c_options() noexcept { return o_; }
    const dmp_ring_options &c_options() const noexcept { return o_; }

private:
    RingOptions &flag(uint32_t bit, bool on) noexcept {
        o_.open_flags = on ? (o_.open_flags | bit) : (o_.open_flags & ~bit);
        return *this;
    }
    dmp_ring_options o_;
};

/// What on_stall is told about a live required consumer that made no
/// progress for the producer's progress timeout while holding it back.
struct StallAlert {
    std::string_view name;       ///< its name (valid during the call)
    uint32_t index;              ///< its consumer-table entry
    uint32_t pid;                ///< PID of its holder
    int64_t sequence;            ///< its committed sequence, unchanged all that time
    std::chrono::nanoseconds stalled; ///< how long it made no progress
};

namespace detail {

/// The C++ on_stall behind the C callback: called on the producer's thread
/// inside dmp_claim; an exception it throws is kept and rethrown by the
/// Producer call that waited (it must not cross the C ABI).
struct StallHandler {
    std::function<void(const StallAlert &)> handler;
    std::exception_ptr pending;

    static void call(void *user, const dmp_stall_alert *alert) noexcept {
        StallHandler *self = static_cast<StallHandler *>(user);
        if (self == nullptr || alert == nullptr || self->pending) {
            return;
        }
        try {
            const std::string_view name(alert->name, std::char_traits<char>::length(alert->name));
            self->handler(StallAlert{name, alert->index, alert->pid, alert->sequence,
                                     std::chrono::nanoseconds(static_cast<int64_t>(alert->stalled_ns))});
        } catch (...) {
            self->pending = std::current_exception();
        }
    }

    void rethrow() {
        if (pending) {
            std::exception_ptr e = std::move(pending);
            pending = nullptr;
            std::rethrow_exception(e);
        }
    }
};

} // namespace detail

/// Options for opening a producer: wait strategy, the liveness policy
/// towards required consumers, the readiness gate and on_stall.
class ProducerOptions {
public:
    ProducerOptions() noexcept { dmp_producer_options_init(&o_); }
    /// How claim() waits for room (default Wait::yield).
    ProducerOptions &wait(Wait w) noexcept { o_.wait_strategy = static_cast<uint32_t>(w); return *this; }
    /// Pause between polls of Wait::sleep.
    ProducerOptions &sleep(Timeout t) noexcept { o_.sleep_ns = detail::to_ns(t); return *this; }
    /// How long a dead required consumer may hold the producer back (time
    /// to come back and resume) before claims throw DMP_STATUS_CONSUMER_DEAD
    /// naming it (default 5 s).
    ProducerOptions &consumer_dead_timeout(Timeout t) noexcept { o_.consumer_dead_timeout_ns = detail::to_ns(t); return *this; }
    /// A live required consumer that makes no progress for `progress` while
    /// it holds the producer back is reported (the ring's stall-alert
    /// counter and on_stall); `grace` later claims throw
    /// DMP_STATUS_CONSUMER_STALLED (grace 0: 5 s).
    ProducerOptions &progress_timeout(Timeout progress, Timeout grace = Timeout::zero()) noexcept {
        o_.progress_timeout_ns = detail::to_ns(progress);
        o_.stall_grace_ns = detail::to_ns(grace);
        return *this;
    }
    /// Readiness gate: opening the producer waits (at most `timeout`; zero:
    /// 10 s, then DMP_STATUS_TIMEOUT) until at least `count` consumers and
    /// every consumer in `names` are active. Start consumers and producer in
    /// any order: with the gate, none misses the first event.
    ProducerOptions &wait_for_consumers(uint32_t count, std::vector<std::string> names = {},
                                        Timeout timeout = Timeout::zero()) {
        o_.ready_consumers = count;
        o_.ready_timeout_ns = detail::to_ns(timeout);
        names_ = std::move(names);
        return *this;
    }
    /// Called once per stall, on the producer's thread while claim() waits;
    /// it must return promptly and must not use the same producer. An
    /// exception it throws is rethrown by that claim() (which gives its
    /// claim back) or send() (whose event, if published, stays published).
    ProducerOptions &on_stall(std::function<void(const StallAlert &)> handler) {
        on_stall_ = std::move(handler);
        return *this;
    }

    /// The C struct, to change fields this class has no setter for
    /// (ready_names and on_stall set here are used unless
    /// wait_for_consumers() names consumers or on_stall() is set).
    dmp_producer_options &c_options() noexcept { return o_; }
    const dmp_producer_options &c_options() const noexcept { return o_; }
    /// The readiness gate's names.
    const std::vector<std::string> &ready_names() const noexcept { return names_; }
    /// The on_stall handler (empty when none).
    const std::function<void(const StallAlert &)> &stall_handler() const noexcept { return on_stall_; }

private:
    dmp_producer_options o_;
    std::vector<std::string> names_;
    std::function<void(const StallAlert &)> on_stall_;
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
    /// An optional consumer: producers evict it rather than wait for it
    /// longer than `max_block` (zero: not at all). Once evicted its calls
    /// throw dmp::Evicted; Consumer::rejoin() goes on.
    ConsumerOptions &optional(Timeout max_block = Timeout::zero()) noexcept {
        o_.optional = 1;
        o_.max_block_ns = detail::to_ns(max_block);
        return *this;
    }
    /// A required consumer (the default): producers wait for it.
    ConsumerOptions &required() noexcept {
        o_.optional = 0;
        o_.max_block_ns = 0;
        return *this;
    }
    /// Join at the oldest event the ring still retains for certain instead
    /// of the cursor (DMP_JOIN_OLDEST); Consumer::lost_on_join() then
    /// counts the events published before the first one it reads.
    ConsumerOptions &join_at_oldest(bool on = true) noexcept {
        o_.join_flags = on ? (o_.join_flags | DMP_JOIN_OLDEST) : (o_.join_flags & ~DMP_JOIN_OLDEST);
        return *this;
    }

    /// The C struct, to change fields this class has no setter for.
    dmp_consumer_options &c_options() noexcept { return o_; }
    /// The C struct, pointing into `names` (which must outlive its use).
    dmp_consumer_options c_options(std::vector<const char *> &names) const {
        names.clear();
        for (const std::string &d : deps_) {
            names.push_back(d.c_str());
        }
        dmp_consumer_options o = o_;
        if (!names.empty()) {
            o.dependencies = names.data();
            o.dependency_count = names.size();
        }
        return o;
    }

private:
    dmp_consumer_options o_;
    std::vector<std::string> deps_;
};

} // namespace dmp

#endif /* DISRUPTOR_MP_OPTIONS_HPP */
