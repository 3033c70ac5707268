"""Fixtures for the disruptor_mp tests.

Environment:
  DISRUPTOR_MP_LIB   the library under test (else the loader's search)
  DMP_TOOL           the `dmp` binary (cargo build --release --bin dmp)
  DMP_C_EXAMPLES     a directory with the built C examples (producer, consumer)
  DMP_REPO           the repository root (default: two levels up)
  DMP_REQUIRE_ALL=1  a missing tool fails the test instead of skipping it
                     (the Rust test tests/packaging/ sets it)
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest

import disruptor_mp as dmp

REPO = Path(os.environ.get("DMP_REPO", Path(__file__).resolve().parents[2]))


def _missing(what: str):
    message = f"{what} not available (see tests/conftest.py)"
    if os.environ.get("DMP_REQUIRE_ALL") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def ring_name():
    """A shared-memory name unique to this test, removed afterwards."""
    name = f"dmp-pytest-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    yield name
    try:
        dmp.Ring.remove(name, force=True)
    except dmp.DmpError:
        pass


@pytest.fixture
def dmp_tool() -> Path:
    tool = os.environ.get("DMP_TOOL")
    if not tool or not Path(tool).is_file():
        _missing("DMP_TOOL (the dmp binary)")
    return Path(tool)


@pytest.fixture
def c_examples() -> Path:
    d = os.environ.get("DMP_C_EXAMPLES")
    if not d or not (Path(d) / "producer").is_file():
        _missing("DMP_C_EXAMPLES (the built C examples)")
    return Path(d)


@pytest.fixture
def header() -> Path:
    h = REPO / "include" / "disruptor_mp.h"
    if not h.is_file():
        _missing(f"the C header ({h})")
    return h


class Spawned:
    """A child process whose output lines can be awaited, killed on exit."""

    def __init__(self, args, what):
        import queue
        import threading

        self.what = what
        self.proc = subprocess.Popen(
            [str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines = queue.Queue()
        self.seen = []

        def pump():
            for line in self.proc.stdout:
                self.lines.put(line)
            self.lines.put(None)

        threading.Thread(target=pump, daemon=True).start()

    def wait_line(self, prefix: str, timeout: float = 20.0) -> str:
        import queue
        import time

        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                self.kill()
                pytest.fail(f"{self.what} did not print {prefix!r}: {''.join(self.seen)}{self.proc.stderr.read()}")
            self.seen.append(line)
            if line.startswith(prefix):
                return line

    def succeed(self, timeout: float = 60.0) -> str:
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"{self.what} did not finish within {timeout}s")
        out = list(self.seen)
        while True:
            line = self.lines.get(timeout=10)
            if line is None:
                break
            out.append(line)
        err = self.proc.stderr.read()
        assert self.proc.returncode == 0, f"{self.what} failed: {''.join(out)}{err}"
        return "".join(out)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def spawn():
    """spawn(args, what) -> Spawned; every child is killed at the end."""
    children = []

    def start(args, what):
        child = Spawned(args, what)
        children.append(child)
        return child

    yield start
    for c in children:
        c.kill()


def run(args, timeout: float = 60.0) -> str:
    """Runs a command to completion; fails the test on a non-zero exit."""
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{args} failed: {r.stdout}{r.stderr}"
    return r.stdout
