"""`ixsim forecast`: Monte Carlo over the priors on Dask, deterministic for any number of workers,
against a LocalCluster or a scheduler started as separate processes; one-line errors."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DRAWS = "6"


def ixsim(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ixsim.cli.app", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "COLUMNS": "100"})


def test_the_document_is_the_same_for_one_and_two_workers(tmp_path):
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    a = ixsim("forecast", "baseline", "slow-takeoff", "--draws", DRAWS, "--workers", "1",
              "--out", str(one))
    b = ixsim("forecast", "baseline", "slow-takeoff", "--draws", DRAWS, "--workers", "2",
              "--json", "--out", str(two))
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    assert one.read_bytes() == two.read_bytes()
    assert json.loads(b.stdout) == json.loads(two.read_text())
    doc = json.loads(one.read_text())
    assert set(doc["scenarios"]) == {"baseline", "slow-takeoff"}
    base = doc["scenarios"]["baseline"]
    assert base["draws"] == 6 and base["failed"] == 0
    p = [base["p_successor_by_year"][str(y)]["p"] for y in range(2026, 2041)]
    assert all(x is None or 0.0 <= x <= 1.0 for x in p)
    assert [x for x in p if x is not None] == sorted(x for x in p if x is not None)
    assert "by end of" in a.stdout and "Others' published estimates" in a.stdout


@pytest.mark.parametrize("args,needle", [
    (["nope"], "error: nope: no such scenario"),
    (["baseline", "--scheduler", "carrier-pigeon"], "error: --scheduler:"),
    (["baseline", "--draws", "1"], "--draws"),
])
def test_bad_input_is_one_line_and_exit_2(args, needle, tmp_path):
    got = ixsim("forecast", *args, "--out", str(tmp_path / "f.json"), timeout=60)
    assert got.returncode == 2
    lines = [line for line in got.stderr.splitlines() if line.strip()]
    assert needle in got.stderr and "Traceback" not in got.stderr
    assert not (tmp_path / "f.json").exists()
    if needle.startswith("error:"):
        assert len(lines) == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_scheduler_and_two_workers_started_as_separate_processes(tmp_path):
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    bin_dir = Path(sys.executable).parent
    procs = [subprocess.Popen([str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1",
                               "--port", str(port), "--no-dashboard"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        time.sleep(2.0)
        for _ in range(2):
            procs.append(subprocess.Popen(
                [str(bin_dir / "dask"), "worker", address, "--nthreads", "1", "--no-dashboard"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT))
        remote, local = tmp_path / "remote.json", tmp_path / "local.json"
        got = ixsim("forecast", "baseline", "--draws", DRAWS, "--scheduler", address,
                    "--out", str(remote))
        assert got.returncode == 0, got.stderr
        assert ixsim("forecast", "baseline", "--draws", DRAWS, "--workers", "1",
                     "--out", str(local)).returncode == 0
        assert remote.read_bytes() == local.read_bytes()
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
