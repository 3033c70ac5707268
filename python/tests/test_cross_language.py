"""Python with Rust (the dmp tool) and C (the C examples) on the same ring,
created by each of them; every payload is verified on both sides."""

from __future__ import annotations

import sys

from conftest import run

import disruptor_mp as dmp

COUNT = 20_000


def consume_in_python(ring_name: str, name: str, count: int, timeout: float = 20.0) -> list:
    """Registers, calls ready(), then verifies `count` events; returns their numbers."""
    numbers = []
    with dmp.Ring.open(ring_name, timeout=timeout) as ring:
        pattern = dmp.Pattern(ring.slot_size)
        with ring.consumer(name) as consumer:
            yield consumer
            while len(numbers) < count:
                with consumer.wait(timeout, count - len(numbers)) as batch:
                    numbers.extend(pattern.check(v) for v in batch)
    yield numbers


def test_python_consumes_a_ring_created_and_fed_by_rust(ring_name, dmp_tool, spawn):
    run([dmp_tool, "create", ring_name, "--capacity", "128", "--slot-size", "48"])
    steps = consume_in_python(ring_name, "py", COUNT)
    next(steps)  # registered
    producer = spawn([dmp_tool, "produce", ring_name, "--count", COUNT, "--batch", 7, "--first", 0], "dmp produce")
    numbers = next(steps)
    producer.succeed()
    assert numbers == list(range(COUNT))


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
    steps = consume_in_python(ring_name, "py", COUNT)
    next(steps)
    producer = spawn([c_examples / "producer", ring_name, "--count", COUNT, "--batch", 13], "C producer")
    numbers = next(steps)
    producer.succeed()
    assert numbers == list(range(COUNT))


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
