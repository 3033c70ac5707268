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
 * Liveness (docs/C_API.md, "Liveness"):
 *
 *   dmp::ProducerOptions po;
 *   po.wait_for_consumers(1, {"risk"}, std::chrono::seconds(5))     // readiness gate
 *     .consumer_dead_timeout(std::chrono::seconds(2))
 *     .progress_timeout(std::chrono::milliseconds(500), std::chrono::seconds(1))
 *     .on_stall([](const dmp::StallAlert &a) { alert(a.name, a.stalled); });
 *   auto dashboard = ring.consumer<Quote>("dash", dmp::ConsumerOptions().optional(std::chrono::milliseconds(1)));
 *   try { dashboard.wait().commit(); } catch (const dmp::Evicted &e) { dashboard.rejoin(); }
 *
 * Handles are move-only RAII objects that can adopt and release C handles;
 * failures throw dmp::Error (dmp::Evicted for an evicted optional
 * consumer), which carries the status code and dmp_last_error_message().
 * Expected outcomes have non-throwing forms: try_claim() and poll() return
 * std::optional. Claims and batches give their slots as a Span (one C
 * call for the whole range); Ring::snapshot() is a dmp::Snapshot value.
 * Typed access checks at compile time that T is trivially copyable, and at
 * run time that sizeof(T) fits the ring's slot and alignof(T) its slot
 * alignment (64 bytes, or 8 in packed rings).
 *
 * Threading is that of the C API (docs/C_API.md): a Ring may be shared
 * between threads, a Producer or Consumer is used by one thread at a time.
 * A Claim or Batch refers to its producer or consumer: do not use it after
 * that handle is closed, moved from or destroyed.
 *
 * The wrapper is split into the parts under disruptor_mp/ (one idea
 * each); include this header, not the parts.
 */
#ifndef DISRUPTOR_MP_HPP
#define DISRUPTOR_MP_HPP

#include "disruptor_mp.h"
#include "disruptor_mp/error.hpp"
#include "disruptor_mp/slot_type.hpp"
#include "disruptor_mp/options.hpp"
#include "disruptor_mp/span.hpp"
#include "disruptor_mp/snapshot.hpp"
#include "disruptor_mp/ring.hpp"
#include "disruptor_mp/producer.hpp"
#include "disruptor_mp/consumer.hpp"

#endif /* DISRUPTOR_MP_HPP */
