"""The liveness options from Python, against real processes where a
process has to die: readiness gate, dead and stalled required consumers
(on_stall), optional consumers evicted and rejoining, snapshots."""

from __future__ import annotations

import sys
import time

import pytest

import disruptor_mp as dmp

BOUND = 20.0  # every loop below ends by this many seconds


def fill(producer, ring) -> None:
    with producer.claim(ring.capacity, timeout=1.0):
        pass


def test_the_readiness_gate_names_the_missing_consumer(ring_name):
    with dmp.Ring.create(ring_name, capacity=8, slot_size=8) as ring:
        with ring.consumer("present"):
            with pytest.raises(dmp.DmpTimeout) as e:
                ring.producer(ready=1, ready_names=["present", "absent"], ready_timeout=0.1)
            assert "absent" in str(e.value)
            with ring.producer(ready=1, ready_names=["present"], ready_timeout=BOUND):
                pass


def test_a_dead_required_consumer_fails_claims_naming_it(ring_name, spawn):
    with dmp.Ring.create(ring_name, capacity=8, slot_size=8) as ring:
        ghost = spawn([sys.executable, "-c",
                       "import sys, time, disruptor_mp as d\n"
                       f"r = d.Ring.open({ring_name!r}); c = r.consumer('ghost')\n"
                       "print('ready', flush=True); time.sleep(600)"], "consumer process")
        ghost.wait_line("ready")
        ghost.kill()
        with ring.producer(consumer_dead_timeout=0.2) as producer:
            fill(producer, ring)
            with pytest.raises(dmp.DmpError) as e:
                producer.claim(1, timeout=BOUND)
            assert e.value.status_name == "CONSUMER_DEAD" and "ghost" in str(e.value)
        # A new holder of the name resumes from its commit (-1): nothing lost.
        with ring.consumer("ghost") as again:
            assert again.next_sequence == 0 and again.lost_on_join == 0


def test_a_stalled_required_consumer_is_reported_to_on_stall(ring_name):
    alerts = []
    with dmp.Ring.create(ring_name, capacity=8, slot_size=8) as ring:
        with ring.consumer("slow"), ring.producer(progress_timeout=0.01, stall_grace=600,
                                                  on_stall=alerts.append) as producer:
            fill(producer, ring)
            deadline = time.monotonic() + BOUND
            while not alerts and time.monotonic() < deadline:
                with pytest.raises(dmp.DmpTimeout):
                    producer.claim(1, timeout=0.05)
            assert [a.name for a in alerts] == ["slow"]
            assert alerts[0].sequence == -1 and alerts[0].stalled_ns > 0
            snap = ring.snapshot()
            assert snap.stats.stall_alerts == 1


def test_an_optional_consumer_is_evicted_then_rejoins(ring_name):
    with dmp.Ring.create(ring_name, capacity=8, slot_size=8) as ring:
        with ring.consumer("opt", optional=True, max_block=0.0) as opt, ring.producer() as producer:
            fill(producer, ring)
            batch = opt.wait(1.0)
            with producer.claim(4, timeout=BOUND):  # evicts it rather than wait
                pass
            with pytest.raises(dmp.Evicted):
                batch.commit()
            assert opt.rejoin() == 12  # everything after its commit (-1) up to the cursor
            assert opt.next_sequence == ring.cursor + 1 == 12
            snap = ring.snapshot()
            assert snap.stats.evictions == 1
            (entry,) = [c for c in snap.consumers if c.name == "opt"]
            assert entry.optional == 1


def test_a_snapshot_has_both_tables_and_the_counters(ring_name):
    with dmp.Ring.create(ring_name, capacity=16, slot_size=8) as ring:
        with ring.consumer("a") as a, ring.producer() as producer:
            for k in range(5):
                producer.send(bytes([k]) * 8, 1.0)
            with a.wait(1.0):
                pass
            snap = ring.snapshot()
    assert snap.stats.cursor == 4 and snap.stats.consumer_count == len(snap.consumers) >= 1
    (entry,) = [c for c in snap.consumers if c.name == "a"]
    assert entry.sequence == 4 and entry.alive == 1 and entry.lag == 0
    assert len(snap.producers) == snap.stats.producer_count >= 1
    assert snap.counters and all(isinstance(c.label, str) and c.label for c in snap.counters)
