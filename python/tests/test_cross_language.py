"""Python with Rust (the dmp tool) and C (the C examples) on the same ring,
created by each of them; every payload is verified on both sides."""

from __future__ import annotations

import sys

from conftest import run

import disruptor_mp as dmp

COUNT = 20_000


class PythonConsumer:
    """A consumer registered on construction (so it sees every event
    published afterwards) that verifies events when asked."""

    def __init__(self, ring_name: str, name: str, timeout: float = 20.0):
        self.timeout = timeout
        self.ring = dmp.Ring.open(ring_name, timeout=timeout)
        self.pattern = dmp.Pattern(self.ring.slot_size)
        self.consumer = self.ring.consumer(name)

    def take(self, count: int) -> list:
        """Verifies the next `count` events; returns their numbers."""
        numbers = []
        while len(numbers) < count:
            with self.consumer.wait(self.timeout, count - len(numbers)) as batch:
                numbers.extend(self.pattern.check(v) for v in batch)
        return numbers

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.consumer.close()
        self.ring.close()


def test_python_consumes_a_ring_created_and_fed_by_rust(ring_name, dmp_tool, spawn):
    run([dmp_tool, "create", ring_name, "--capacity", "128", "--slot-size", "48"])
    with PythonConsumer(ring_name, "py") as consumer:
        producer = spawn([dmp_tool, "produce", ring_name, "--count", COUNT, "--batch", 7, "--first", 0], "dmp produce")
        assert consumer.take(COUNT) == list(range(COUNT))
    producer.succeed()


def test_rust_consumes_what_python_produces(ring_name, dmp_tool, spawn):
    with dmp.Ring.create(ring_name, capacity=256, slot_size=40) as ring:
        consumer = spawn([dmp_tool, "consume", ring_name, "--name", "rust", "--count", COUNT], "dmp consume")
        consumer.wait_line("ready")
        pattern = dmp.Pattern(40)
        with ring.producer() as producer:
            sent = 0
            while sent < COUNT:
                with producer.claim(min(64, COUNT - sent), timeout=10.0) as claim:
                    for seq in claim.sequences:
                        producer.write(seq, pattern.fill(sent))
                        sent += 1
        out = consumer.succeed()
    assert f"consumed {COUNT} events" in out and f"last event {COUNT - 1}" in out, out


def test_python_consumes_a_ring_created_and_fed_by_c(ring_name, c_examples, spawn):
    out = run([c_examples / "producer", ring_name, "--create", "--count", 0, "--capacity", 64, "--slot-size", 64])
    assert "created ring" in out
    with PythonConsumer(ring_name, "py") as consumer:
        producer = spawn([c_examples / "producer", ring_name, "--count", COUNT, "--batch", 13], "C producer")
        assert consumer.take(COUNT) == list(range(COUNT))
    producer.succeed()


def test_c_consumes_what_python_produces_with_the_module_cli(ring_name, c_examples, spawn):
    out = run([sys.executable, "-m", "disruptor_mp", "produce", ring_name, "--create", "--count", 0,
               "--capacity", 128, "--slot-size", 32])
    assert "created ring" in out
    consumer = spawn([c_examples / "consumer", ring_name, "--name", "c", "--count", COUNT], "C consumer")
    consumer.wait_line("ready")
    run([sys.executable, "-m", "disruptor_mp", "produce", ring_name, "--count", COUNT, "--batch", 32])
    out = consumer.succeed()
    assert f"consumed {COUNT} events" in out and f"last event {COUNT - 1}" in out, out
    info = run([sys.executable, "-m", "disruptor_mp", "info", ring_name])
    assert f"cursor          {COUNT - 1}" in info, info
