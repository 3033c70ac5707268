"""The whole-batch buffer: a batch as at most two memoryviews, read with
struct.iter_unpack and numpy.frombuffer with the stride, written through a
claim's buffers."""

from __future__ import annotations

import os
import struct

import pytest

import disruptor_mp as dmp

NUMBER = struct.Struct("=q")


def publish_numbers(producer, first_number: int, n: int) -> None:
    with producer.claim(n, timeout=1.0) as claim:
        for run in claim.buffers():
            for k in range(run.count):
                NUMBER.pack_into(run.view, k * run.stride, first_number + run.first - claim.first + k)


@pytest.mark.parametrize("packed,stride", [(False, 64), (True, 24)])
def test_a_wrapped_batch_is_two_runs_in_sequence_order(ring_name, packed, stride):
    with dmp.Ring.create(ring_name, capacity=8, slot_size=24, packed=packed) as ring:
        with ring.consumer("c") as consumer, ring.producer() as producer:
            publish_numbers(producer, 100, 6)
            with consumer.wait(1.0) as batch:
                (run,) = batch.buffers()
                assert (run.first, run.count, run.stride) == (0, 6, stride)
                assert len(run.view) == 6 * stride and run.view.readonly
                assert [n for (n,) in batch.iter_unpack("=q")] == list(range(100, 106))
            # Sequences 6..11 wrap: slots 6, 7, then 0..3.
            publish_numbers(producer, 106, 6)
            with consumer.wait(1.0) as batch:
                runs = batch.buffers()
                assert [(r.first, r.count) for r in runs] == [(6, 2), (8, 4)]
                assert [n for (n,) in batch.iter_unpack(NUMBER)] == list(range(106, 112))
                # The same bytes as the per-event path.
                assert [NUMBER.unpack_from(v)[0] for v in batch] == list(range(106, 112))
                by_hand = [n for r in runs for (n,) in struct.iter_unpack(f"=q{stride - 8}x", r.view)]
                assert by_hand == list(range(106, 112))
            assert ring.cursor == 11


def test_numpy_reads_a_batch_with_the_stride(ring_name):
    if os.environ.get("DMP_REQUIRE_ALL") == "1":
        import numpy as np  # the packaging venv installs it
    else:
        np = pytest.importorskip("numpy")
    quote = struct.Struct("=IId")
    with dmp.Ring.create(ring_name, capacity=16, slot_size=quote.size) as ring:
        with ring.consumer("np") as consumer, ring.producer() as producer:
            with producer.claim(5, timeout=1.0) as claim:
                for seq, view in zip(claim.sequences, claim):
                    quote.pack_into(view, 0, seq, seq * 10, seq + 0.5)
            with consumer.wait(1.0) as batch:
                (run,) = batch.buffers()
                dtype = np.dtype({"names": ["instrument", "qty", "price"], "formats": ["=u4", "=u4", "=f8"],
                                  "offsets": [0, 4, 8], "itemsize": run.stride})
                a = np.frombuffer(run.view, dtype=dtype)
                assert a["instrument"].tolist() == [0, 1, 2, 3, 4]
                assert a["qty"].sum() == 100
                assert a["price"].tolist() == [0.5, 1.5, 2.5, 3.5, 4.5]


def test_a_format_longer_than_the_stride_is_refused(ring_name):
    with dmp.Ring.create(ring_name, capacity=8, slot_size=8, packed=True) as ring:
        with ring.consumer("c") as consumer, ring.producer() as producer:
            producer.send(b"12345678", 1.0)
            with consumer.wait(1.0) as batch:
                with pytest.raises(ValueError, match="more than the 8-byte stride"):
                    list(batch.iter_unpack("=qq"))


def test_buffers_of_a_range_not_available_raise(ring_name):
    with dmp.Ring.create(ring_name, capacity=8, slot_size=8) as ring:
        with ring.consumer("c") as consumer, ring.producer():
            with pytest.raises(dmp.DmpError) as e:
                consumer.buffers(0, 3)
            assert e.value.status_name == "SEQUENCE_OUT_OF_RANGE"


def test_event_gives_the_slot_of_a_published_sequence(ring_name):
    with dmp.Ring.create(ring_name, capacity=8, slot_size=8) as ring:
        with ring.consumer("c") as consumer, ring.producer() as producer:
            producer.send(b"abcdefgh", 1.0)
            consumer.wait_for(0, 1.0)
            assert bytes(consumer.event(0)) == b"abcdefgh"


def test_the_readme_batch_buffer_example_runs(ring_name):
    """python/README.md's batch-buffer block, run as printed on a ring of quotes."""
    if os.environ.get("DMP_REQUIRE_ALL") != "1":
        pytest.importorskip("numpy")
    from conftest import REPO

    readme = (REPO / "python" / "README.md").read_text()
    blocks = readme.split("```python\n")[1:]
    (code,) = [b.split("```")[0] for b in blocks if "batch.iter_unpack(quote)" in b]
    quote = struct.Struct("=IId")
    with dmp.Ring.create(ring_name, capacity=8, slot_size=quote.size) as ring:
        with ring.consumer("readme") as consumer, ring.producer() as producer:
            for seq in range(6):  # 6 events, then 6 more that wrap: two runs
                producer.send(quote.pack(seq, 2, 1.5), 1.0)
            consumer.commit(consumer.wait_for(0, 1.0))
            for seq in range(6):
                producer.send(quote.pack(seq, 2, 1.5), 1.0)
            scope = {"consumer": consumer}
            exec(compile(code, "python/README.md", "exec"), scope)
            assert scope["total"] == 6 * 2 * 1.5
            assert list(scope["prices"]) == [1.5] * len(scope["prices"])
            assert consumer.next_sequence == 12
