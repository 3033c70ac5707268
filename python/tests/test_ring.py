"""The Python API in one process: rings, producers, consumers, batches,
errors, context managers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import disruptor_mp as dmp


def test_library_and_version():
    assert dmp.library_version() == dmp.__version__
    assert dmp.status_str(2) == "timed out"
    assert dmp.STATUS_NAMES[-9] == "NOT_FOUND"


def test_create_produce_consume_round_trip(ring_name):
    with dmp.Ring.create(ring_name, capacity=64, slot_size=24) as ring:
        info = ring.info()
        assert (info.capacity, info.slot_size, info.cursor, info.packed) == (64, 24, -1, False)
        pattern = dmp.Pattern(24)
        with ring.consumer("py") as consumer, ring.producer() as producer:
            with producer.claim(5, timeout=1.0) as claim:
                assert len(claim) == 5 and claim.first == 0 and claim.last == 4
                for seq, view in zip(claim.sequences, claim):
                    assert len(view) == 24 and not view.readonly
                    view[:] = pattern.fill(seq)
            assert claim.published and ring.cursor == 4
            with consumer.wait(timeout=1.0) as batch:
                assert (batch.first, batch.last) == (0, 4)
                assert [pattern.check(v) for v in batch] == [0, 1, 2, 3, 4]
                assert batch[-1].readonly
            assert consumer.next_sequence == 5
            assert consumer.poll() is None


def test_a_claim_whose_block_raises_is_given_back_unpublished(ring_name):
    with dmp.Ring.create(ring_name, capacity=8, slot_size=8) as ring:
        with ring.producer() as producer:
            with pytest.raises(RuntimeError):
                with producer.claim(2):
                    raise RuntimeError("fill failed")
            assert ring.cursor == -1
            # dmp_unclaim gave both back: the next claim starts at 0 again.
            with producer.claim(1) as claim:
                assert claim.first == 0
            assert ring.cursor == 0
            # Part of a claim can be given back too.
            claim = producer.claim(3)
            producer.unclaim(claim.first + 1)
            producer.publish(claim.first)
            assert producer.claim(1).first == claim.first + 1


def test_send_events_and_read(ring_name):
    with dmp.Ring.create(ring_name, capacity=16, slot_size=16) as ring:
        consumer = ring.consumer("reader")
        producer = ring.producer(wait="spin")
        for k in range(20):
            producer.send(k.to_bytes(16, "little"), timeout=1.0)
            if k % 4 == 3:
                # Drain the ring so the producer never waits for room.
                got = [int.from_bytes(e, "little") for e in consumer.events(count=4, timeout=1.0)]
                assert got == list(range(k - 3, k + 1))
        with pytest.raises(ValueError):
            producer.send(bytes(17))
        producer.close()
        consumer.close()


def test_full_ring_try_claim_returns_none_and_claim_times_out(ring_name):
    with dmp.Ring.create(ring_name, capacity=4, slot_size=8) as ring:
        with ring.consumer("slow"), ring.producer() as producer:
            with producer.claim(4):
                pass
            assert producer.try_claim(1) is None
            with pytest.raises(dmp.DmpTimeout) as e:
                producer.claim(1, timeout=0.01)
            assert e.value.status == 2 and e.value.status_name == "TIMEOUT"
            assert isinstance(e.value, TimeoutError)


def test_wait_times_out_and_poll_returns_none(ring_name):
    with dmp.Ring.create(ring_name, capacity=8, slot_size=8) as ring:
        with ring.consumer("idle") as consumer:
            with pytest.raises(dmp.DmpTimeout):
                consumer.wait(timeout=0.01)
            with pytest.raises(dmp.WouldBlock):
                consumer.wait(timeout=0)
            assert consumer.poll(timeout=0.01) is None


def test_max_events_limits_a_batch(ring_name):
    with dmp.Ring.create(ring_name, capacity=16, slot_size=8) as ring:
        with ring.consumer("c") as consumer, ring.producer() as producer:
            with producer.claim(10):
                pass
            b = consumer.wait(1.0, max_events=3)
            assert (b.first, b.last, len(b)) == (0, 2, 3)
            b.commit()
            assert consumer.wait(1.0).last == 9


def test_dependent_consumer_sees_only_what_its_dependency_committed(ring_name):
    with dmp.Ring.create(ring_name, capacity=16, slot_size=8) as ring:
        first = ring.consumer("first")
        second = ring.consumer("second", after=["first"])
        with ring.producer() as producer:
            with producer.claim(6):
                pass
        assert second.poll() is None
        first.wait(1.0, max_events=2).commit()
        b = second.wait(1.0)
        assert (b.first, b.last) == (0, 1)
        first.close()
        second.close()


def test_errors_carry_status_and_message(ring_name):
    with pytest.raises(dmp.DmpError) as e:
        dmp.Ring.open(ring_name)
    assert e.value.status_name == "NOT_FOUND" and ring_name in str(e.value)
    with pytest.raises(dmp.DmpError) as e:
        dmp.Ring.create(ring_name, capacity=3)
    assert e.value.status_name == "INVALID_CAPACITY" and "power of two" in e.value.message
    with dmp.Ring.create(ring_name, capacity=8, slot_size=8) as ring:
        with pytest.raises(dmp.DmpError) as e:
            dmp.Ring.create(ring_name)
        assert e.value.status_name == "ALREADY_EXISTS"
        with pytest.raises(dmp.DmpError) as e:
            dmp.Ring.open(ring_name, slot_size=16)
        assert e.value.status_name == "LAYOUT_MISMATCH"
        with pytest.raises(dmp.DmpError) as e:
            ring.consumer("x", after=["nobody"])
        assert e.value.status_name == "DEPENDENCY_NOT_FOUND" and "nobody" in e.value.message
        with pytest.raises(ValueError):
            ring.producer(wait="sometimes")
        with ring.producer() as p:
            with pytest.raises(dmp.DmpError) as e:
                ring.producer()
            assert e.value.status_name == "PRODUCER_EXISTS"
            with pytest.raises(dmp.DmpError) as e:
                p.slot(0)
            assert e.value.status_name == "SEQUENCE_OUT_OF_RANGE"
        with pytest.raises(dmp.DmpError) as e:
            p.claim(1)
        assert e.value.status_name == "INVALID_HANDLE"
        p.close()  # a second close is a no-op
    ring2, created = dmp.Ring.open_or_create(ring_name)
    assert not created
    ring2.close()


def test_file_backed_ring(tmp_path):
    path = tmp_path / "ring.dmp"
    with dmp.Ring.create(path, file=True, capacity=8, slot_size=8) as ring:
        with ring.producer() as p:
            p.send(b"persist!")
    with dmp.Ring.open(path, file=True) as ring:
        assert ring.cursor == 0
    dmp.Ring.unlink(path, file=True)
    assert not path.exists()


def test_import_fails_clearly_without_the_library(tmp_path):
    # The package's modules without a bundled library (a source checkout),
    # and DISRUPTOR_MP_LIB naming nothing: the error names both.
    package = Path(dmp.__file__).parent
    shutil.copytree(package, tmp_path / "disruptor_mp", ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    env = dict(os.environ, DISRUPTOR_MP_LIB="/nonexistent/libdisruptor_mp.so.0", PYTHONPATH=str(tmp_path))
    r = subprocess.run([sys.executable, "-c", "import disruptor_mp"], capture_output=True, text=True, env=env,
                       cwd=tmp_path)
    assert r.returncode != 0
    assert "LibraryNotFound" in r.stderr and "DISRUPTOR_MP_LIB /nonexistent" in r.stderr, r.stderr
    assert "pip install ./python" in r.stderr, r.stderr
    # Neither: the message says there is no bundled library.
    del env["DISRUPTOR_MP_LIB"]
    r = subprocess.run([sys.executable, "-c", "import disruptor_mp"], capture_output=True, text=True, env=env,
                       cwd=tmp_path)
    assert r.returncode != 0 and "no bundled library" in r.stderr, r.stderr


def test_an_installed_package_loads_its_bundled_library_first():
    if not os.path.exists(dmp._lib.BUNDLED):
        pytest.skip("running from a source checkout: no bundled library")
    env = dict(os.environ, DISRUPTOR_MP_LIB="/nonexistent/libdisruptor_mp.so.0")
    r = subprocess.run([sys.executable, "-c", "import disruptor_mp as d; print(d.library_version())"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0 and r.stdout.strip() == dmp.library_version(), r.stderr


def test_pattern_matches_the_documented_bytes():
    p = dmp.Pattern(12)
    data = p.fill(3)
    assert data == (3).to_bytes(8, sys.byteorder) + bytes([(3 * 31 + k) & 0xFF for k in range(8, 12)])
    assert p.check(data) == 3
    with pytest.raises(ValueError):
        p.check(data[:-1] + b"\0")


def test_an_optional_consumer_is_evicted_learns_it_and_rejoins(ring_name):
    with dmp.Ring.create(ring_name, capacity=8, slot_size=8) as ring:
        laggard = ring.consumer("dashboard", optional=True, max_block=0.0)
        assert laggard.lost_on_join == 0
        with ring.producer() as producer:
            # Three rings' worth: the producer evicts the consumer that
            # never reads instead of waiting for it.
            for k in range(24):
                producer.send(k.to_bytes(8, "little"), timeout=5.0)
            with pytest.raises(dmp.Evicted) as e:
                laggard.wait(timeout=1.0)
            assert e.value.status_name == "EVICTED"
            assert laggard.rejoin() == 24
            producer.send((99).to_bytes(8, "little"), timeout=1.0)
            with laggard.wait(timeout=1.0) as batch:
                assert [int.from_bytes(v, "little") for v in batch] == [99]


def test_the_readiness_gate_times_out_naming_what_is_missing(ring_name):
    with dmp.Ring.create(ring_name, capacity=8, slot_size=8) as ring:
        with pytest.raises(dmp.DmpTimeout) as e:
            ring.producer(ready=1, ready_names=["billing"], ready_timeout=0.05)
        assert "billing" in e.value.message


def test_one_event_send_and_receive(ring_name):
    with dmp.Ring.create(ring_name, capacity=4, slot_size=16) as ring:
        with ring.consumer("one") as consumer, ring.producer() as producer:
            assert consumer.try_receive() is None
            seqs = [producer.send(k.to_bytes(16, "little"), timeout=1.0) for k in range(3)]
            assert seqs == [0, 1, 2]
            assert producer.try_send((3).to_bytes(8, "little")) == 3
            assert producer.try_send(b"full") is None
            with pytest.raises(dmp.DmpTimeout):
                producer.send(b"full", timeout=0.001)
            with pytest.raises(ValueError):
                producer.send(bytes(17))
            got = [int.from_bytes(consumer.receive(timeout=1.0), "little") for _ in range(4)]
            assert got == [0, 1, 2, 3]
            assert consumer.next_sequence == 4
            assert consumer.try_receive(0.001) is None
            with pytest.raises(dmp.DmpTimeout):
                consumer.receive(timeout=0.001)
