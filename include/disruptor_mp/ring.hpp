// disruptor_mp/ring.hpp: part of disruptor_mp.hpp (include that).
// dmp::Ring: an open ring, move-only, closing its C handle when destroyed.
#ifndef DISRUPTOR_MP_RING_HPP
#define DISRUPTOR_MP_RING_HPP

#include "error.hpp"
#include "options.hpp"
#include "snapshot.hpp"

#include <memory>
#include <string>
#include <utility>

namespace dmp {

template <class T>
class Producer;
template <class T>
class Consumer;

namespace detail {
struct RingCloser {
    void operator()(dmp_ring *r) const noexcept { (void)dmp_ring_close(r); }
};
} // namespace detail

/// An open ring. Move-only; closes its handle when destroyed. Producers and
/// consumers opened from it stay usable after it is closed.
class Ring {
public:
    /// Creates a ring; throws dmp::Error (DMP_STATUS_ALREADY_EXISTS, ...).
    [[nodiscard]] static Ring create(const std::string &name, const RingOptions &options = RingOptions()) {
        dmp_ring *r = nullptr;
        detail::check(dmp_ring_create(name.c_str(), &options.c_options(), &r), "dmp_ring_create");
        return Ring(r, name);
    }

    /// Opens an existing ring, waiting up to options.open_timeout() for it.
    [[nodiscard]] static Ring open(const std::string &name, const RingOptions &options = RingOptions()) {
        dmp_ring *r = nullptr;
        detail::check(dmp_ring_open(name.c_str(), &options.c_options(), &r), "dmp_ring_open");
        return Ring(r, name);
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
        return Ring(r, name);
    }

    /// Removes a ring's name; refuses (dmp::Error, DMP_STATUS_NAME_IN_USE,
    /// naming them) while live processes take part in it, this one's own
    /// producers and consumers included: close them first, or remove().
    static void unlink(const std::string &name, bool is_file = false) {
        detail::check(dmp_ring_unlink(name.c_str(), is_file ? DMP_BACKING_FILE : DMP_BACKING_SHM), "dmp_ring_unlink");
    }

    /// Removes a ring's name: as unlink(), or with `force` even while live
    /// processes take part (they keep working on the removed ring until
    /// they exit) (dmp_ring_remove, DMP_REMOVE_FORCE).
    static void remove(const std::string &name, bool force, bool is_file = false) {
        detail::check(dmp_ring_remove(name.c_str(), is_file ? DMP_BACKING_FILE : DMP_BACKING_SHM,
                                      force ? DMP_REMOVE_FORCE : 0u),
                      "dmp_ring_remove");
    }

    /// Retires consumer `name`, whose process died and will not come back:
    /// it stops holding the producers back and its entry is freed
    /// (dmp_consumer_retire). Throws dmp::Error (DMP_STATUS_NAME_IN_USE)
    /// while a live process holds the name.
    void retire_consumer(const std::string &consumer) const {
        detail::check(dmp_consumer_retire(handle("dmp_consumer_retire"), consumer.c_str()), "dmp_consumer_retire");
    }

    /// Adopts a handle from the C API (takes ownership); `name` is only
    /// used in messages.
    explicit Ring(dmp_ring *handle, std::string name = "(adopted)") noexcept : h_(handle), name_(std::move(name)) {}
    /// Adopts a handle from the C API (takes ownership).
    [[nodiscard]] static Ring adopt(dmp_ring *handle, std::string name = "(adopted)") noexcept {
        return Ring(handle, std::move(name));
    }

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
    /// The name it was created or opened under.
    const std::string &name() const noexcept { return name_; }

    /// The ring's counters and tables, now (never blocks or slows the ring).
    [[nodiscard]] Snapshot snapshot() const { return Snapshot::take(handle()); }

    /// Attaches the ring's producer for events of type T (defined in
    /// producer.hpp).
    template <class T>
    [[nodiscard]] Producer<T> producer(const ProducerOptions &options = ProducerOptions()) const;

    /// Registers consumer `name` for events of type T (defined in
    /// consumer.hpp).
    template <class T>
    [[nodiscard]] Consumer<T> consumer(const std::string &name, const ConsumerOptions &options = ConsumerOptions()) const;

    /// Closes the handle now, reporting a failure (the destructor cannot).
    void close() {
        if (h_) {
            detail::check(dmp_ring_close(h_.release()), "dmp_ring_close");
        }
    }

    /// Gives up ownership: the C handle, which the caller must close.
    [[nodiscard]] dmp_ring *release() noexcept { return h_.release(); }
    /// The C handle (still owned by this object), or nullptr once closed.
    dmp_ring *c_handle() const noexcept { return h_.get(); }
    explicit operator bool() const noexcept { return static_cast<bool>(h_); }

    /// The C handle, or an exception naming `call` when closed.
    dmp_ring *handle(const char *call = "dmp::Ring") const {
        if (!h_) {
            throw Error(DMP_STATUS_INVALID_HANDLE,
                        std::string(call) + ": the ring \"" + name_ + "\" is closed or moved from: use an open dmp::Ring");
        }
        return h_.get();
    }

private:
    std::unique_ptr<dmp_ring, detail::RingCloser> h_;
    std::string name_;
};

} // namespace dmp

#endif /* DISRUPTOR_MP_RING_HPP */
