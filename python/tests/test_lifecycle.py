"""A ring's lifecycle from Python, with real processes where one has to
die or take part: stale reclaim on open-or-create, removing a ring that
another process uses (refused, naming it, then forced), retiring a dead
required consumer so the producer goes on, joining at the oldest event
with lost_on_join exact."""

from __future__ import annotations

import os
import struct
import sys

import pytest

import disruptor_mp as dmp

BOUND = 20.0  # every wait below ends by this many seconds


def holder(spawn, ring_name, consumer):
    """A consumer process that registers ``consumer`` and sleeps."""
    p = spawn([sys.executable, "-c",
               "import time, disruptor_mp as d\n"
               f"r = d.Ring.open({ring_name!r}); c = r.consumer({consumer!r})\n"
               "print('ready', flush=True); time.sleep(600)"], f"consumer {consumer}")
    p.wait_line("ready")
    return p


def test_open_or_create_reclaims_a_stale_ring(ring_name):
    with dmp.Ring.create(ring_name, capacity=8, slot_size=8) as ring:
        with ring.producer() as p:
            p.send(b"old-run!")
    # Every participant left: stale. Without the flag it is opened as is.
    ring, created = dmp.Ring.open_or_create(ring_name, capacity=8, slot_size=8)
    with ring:
        assert not created and ring.cursor == 0
    ring, created = dmp.Ring.open_or_create(ring_name, capacity=8, slot_size=8, reclaim_stale=True)
    with ring:
        assert created and ring.cursor == -1
        # A never-used ring is not stale: reclaiming again keeps it.
        again, created = dmp.Ring.open_or_create(ring_name, reclaim_stale=True)
        with again:
            assert not created
    with dmp.Ring.open(ring_name, read_only=True) as observer:
        with pytest.raises(dmp.DmpError) as e:
            observer.producer()
        assert e.value.status_name == "PERMISSION_DENIED"


def test_removing_a_ring_another_process_uses_is_refused_then_forced(ring_name, spawn):
    with dmp.Ring.create(ring_name, capacity=8, slot_size=8):
        child = holder(spawn, ring_name, "watcher")
        with pytest.raises(dmp.DmpError) as e:
            dmp.Ring.unlink(ring_name)
        assert e.value.status_name == "NAME_IN_USE"
        assert f"consumer 'watcher' (pid {child.proc.pid})" in str(e.value) and "force" in str(e.value)
        with pytest.raises(dmp.DmpError):
            dmp.Ring.remove(ring_name)
        dmp.Ring.remove(ring_name, force=True)
        with pytest.raises(dmp.DmpError) as e:
            dmp.Ring.remove(ring_name)
        assert e.value.status_name == "NOT_FOUND"


def test_retiring_a_dead_required_consumer_lets_the_producer_go_on(ring_name, spawn):
    with dmp.Ring.create(ring_name, capacity=8, slot_size=8) as ring:
        ghost = holder(spawn, ring_name, "ghost")
        with pytest.raises(dmp.DmpError) as e:
            ring.retire_consumer("ghost")
        assert e.value.status_name == "NAME_IN_USE" and f"pid {ghost.proc.pid}" in str(e.value)
        ghost.kill()
        with ring.producer(consumer_dead_timeout=BOUND) as producer:
            for i in range(8):
                producer.send(struct.pack("=Q", i), timeout=BOUND)
            with pytest.raises(dmp.DmpError):
                producer.send(b"blocked!", timeout=0)
            ring.retire_consumer("ghost")
            producer.send(struct.pack("=Q", 8), timeout=BOUND)
        assert ring.cursor == 8
        assert ring.snapshot().stats.retired == 1
        with pytest.raises(dmp.DmpError) as e:
            ring.retire_consumer("ghost")
        assert e.value.status_name == "INVALID_ARGUMENT" and "no consumer named" in str(e.value)


def test_a_consumer_joining_at_the_oldest_event_reads_what_came_before(ring_name, spawn):
    with dmp.Ring.create(ring_name, capacity=8, slot_size=8) as ring:
        with ring.consumer("a") as a:
            # Another process publishes five events and leaves.
            p = spawn([sys.executable, "-c",
                       "import struct, disruptor_mp as d\n"
                       f"r = d.Ring.open({ring_name!r})\n"
                       "with r.producer() as p:\n"
                       "    for i in range(5): p.send(struct.pack('=Q', i * 10))\n"
                       "print('done', flush=True)"], "producer process")
            p.wait_line("done")
            with a.wait(timeout=BOUND, max_events=2):
                pass  # commits 0 and 1
            with ring.consumer("late", join_at_oldest=True) as late:
                assert late.next_sequence == 2 and late.lost_on_join == 2
                with late.wait(timeout=BOUND) as b:
                    assert [struct.unpack_from("=Q", m)[0] for m in b] == [20, 30, 40]
            with ring.consumer("now") as now:
                assert now.next_sequence == 5 and now.lost_on_join == 0
