"""python/examples run as a user runs them, and say what they showed."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import REPO


def test_the_liveness_example_evicts_resumes_and_gates(ring_name):
    r = subprocess.run(
        [sys.executable, str(REPO / "python/examples/liveness.py"), "--ring", ring_name, "--count", "2000"],
        capture_output=True, text=True, timeout=180,
    )
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    for needle in (
        "producer: waiting for journal and dashboard",
        "journal: committed up to 299, now hanging",
        "journal: resumed at 300 (lost 0)",
        "journal: read 300..1999 in order",
        "producer: published 2000",
        "liveness: ok",
    ):
        assert needle in out, f"missing {needle!r}:\n{out}"
    evicted = [line for line in out.splitlines() if line.startswith("dashboard: evicted, lost ")]
    assert evicted and int(evicted[0].split()[3]) > 0, out
    assert not os.path.exists(f"/dev/shm/{ring_name}")
