// disruptor_mp/snapshot.hpp: part of disruptor_mp.hpp (include that).
// dmp::Snapshot: a ring's counters and tables at one moment, copied out
// of a dmp_snapshot into a plain value (copyable, no handle to free).
#ifndef DISRUPTOR_MP_SNAPSHOT_HPP
#define DISRUPTOR_MP_SNAPSHOT_HPP

#include "error.hpp"

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace dmp {

/// A snapshot of a ring (Ring::snapshot()): the ring-wide figures, every
/// consumer- and producer-table entry in use and every labelled counter,
/// read at one moment without taking part in the ring.
struct Snapshot {
    dmp_ring_stats stats{};
    std::vector<dmp_consumer_status> consumers;
    std::vector<dmp_producer_status> producers;
    std::vector<dmp_counter> counters;

    /// The consumer-table entry named `name`, or nullptr.
    const dmp_consumer_status *consumer(std::string_view name) const noexcept {
        for (const dmp_consumer_status &c : consumers) {
            if (name == c.name) {
                return &c;
            }
        }
        return nullptr;
    }

    /// The value of the counter labelled `label` (of any owner; the first
    /// one found), or `fallback`.
    uint64_t counter(std::string_view label, uint64_t fallback = 0) const noexcept {
        for (const dmp_counter &c : counters) {
            if (label == c.label) {
                return c.value;
            }
        }
        return fallback;
    }

    /// Takes a snapshot of `ring` (dmp_snapshot_take, then every
    /// dmp_snapshot_* read, then dmp_snapshot_free).
    static Snapshot take(dmp_ring *ring) {
        dmp_snapshot *raw = nullptr;
        detail::check(dmp_snapshot_take(ring, &raw), "dmp_snapshot_take");
        struct Free {
            void operator()(dmp_snapshot *s) const noexcept { (void)dmp_snapshot_free(s); }
        };
        std::unique_ptr<dmp_snapshot, Free> snap(raw);
        Snapshot out;
        out.stats.struct_size = sizeof out.stats;
        detail::check(dmp_snapshot_stats(raw, &out.stats), "dmp_snapshot_stats");
        out.consumers.resize(out.stats.consumer_count);
        for (std::size_t i = 0; i < out.consumers.size(); i++) {
            out.consumers[i].struct_size = sizeof(dmp_consumer_status);
            detail::check(dmp_snapshot_consumer(raw, i, &out.consumers[i]), "dmp_snapshot_consumer");
        }
        out.producers.resize(out.stats.producer_count);
        for (std::size_t i = 0; i < out.producers.size(); i++) {
            out.producers[i].struct_size = sizeof(dmp_producer_status);
            detail::check(dmp_snapshot_producer(raw, i, &out.producers[i]), "dmp_snapshot_producer");
        }
        out.counters.resize(out.stats.counter_count);
        for (std::size_t i = 0; i < out.counters.size(); i++) {
            out.counters[i].struct_size = sizeof(dmp_counter);
            detail::check(dmp_snapshot_counter(raw, i, &out.counters[i]), "dmp_snapshot_counter");
        }
        detail::check(dmp_snapshot_free(snap.release()), "dmp_snapshot_free");
        return out;
    }
};

} // namespace dmp

#endif /* DISRUPTOR_MP_SNAPSHOT_HPP */
