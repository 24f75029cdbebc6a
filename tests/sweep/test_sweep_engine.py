"""The engine: the store's layout, rows that do not depend on the number of workers or on
where a chunk ran, resume after a killed client or worker, a running tcp scheduler, and runs
that fail recorded as failed. Every sweep here is the small spec (48 short runs)."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pyarrow.parquet as pq
import pytest

from ixsim.analysis.files import exclusive
from ixsim.analysis.sweep import load_sweep, run_sweep
from tests.conftest import ROOT
from tests.sweep.conftest import SMALL_RUNS, assert_same_store, cli, one_error_line, tables

pytestmark = pytest.mark.slow


def test_store_layout_manifest_and_columns(reference, small_spec):
    manifest = json.loads((reference / "manifest.json").read_text())
    sweep = load_sweep(small_spec)
    assert manifest["spec"] == sweep.spec and manifest["spec_hash"] == sweep.spec_hash
    assert manifest["complete"] is True
    for key, value in {"base_scenario": "baseline", "sampler": "monte-carlo", "samples": 12,
                       "parameters": ["software.returns_r", "software.compute_rho"],
                       "levers": {"strategies.frontier.race_response": [0.0, 1.0]},
                       "lever_sets": [{"strategies.frontier.race_response": 0.0},
                                      {"strategies.frontier.race_response": 1.0}],
                       "seeds_per_sample": 2, "n_runs": SMALL_RUNS, "chunk_size": 3,
                       "n_chunks": 16}.items():
        assert manifest[key] == value, key
    assert manifest["problem"] == {"num_vars": 2, "names": manifest["parameters"],
                                   "bounds": [[0.0, 1.0], [0.0, 1.0]]}
    assert set(manifest["versions"]) >= {"ixsim", "mesa", "numpy", "dask", "pyarrow"}
    assert manifest["git_commit"] is None or len(manifest["git_commit"]) >= 40
    assert sorted(p.name for p in reference.iterdir()) == [
        "manifest.json", "runs", "series", "series_quantiles.parquet"]
    assert len(list((reference / "runs").iterdir())) == 16
    runs = tables(reference)["runs"]
    assert runs.column_names[:11] == [
        "run_id", "sample_id", "lever_set", "seed_index", "seed", "status", "error",
        "u:software.returns_r", "u:software.compute_rho", "software.returns_r",
        "software.compute_rho"]
    assert runs.column_names[11:13] == ["strategies.frontier.race_response", "scenario"]
    schema = runs.schema
    assert str(schema.field("successor_training_year").type) == "double"
    assert str(schema.field("incidents_minor").type) == "int64"
    assert str(schema.field("major_incident_before_successor").type) == "bool"
    # every chunk has the same schema, fixed before any ran
    first = pq.read_schema(reference / "runs" / "chunk-00000.parquet")
    assert all(pq.read_schema(p).equals(first) for p in (reference / "runs").iterdir())
    quantiles = tables(reference)["series_quantiles"]
    assert quantiles.column_names == ["lever_set", "time", "series", "q10", "q50", "q90"]
    assert quantiles.num_rows == 2 * 2 * (12 * 12 + 1)  # lever sets x series x months
    series = tables(reference)["series"]
    assert series.column_names == ["run_id", "year", "frontier_horizon_minutes",
                                   "rnd_automation"]
    assert series.num_rows == SMALL_RUNS * 13  # 2023 .. 2035, yearly


def test_a_row_is_its_runs_summary_and_repeats_with_its_seed(reference):
    from ixsim import load_scenario, simulate

    row = tables(reference)["runs"].slice(17, 1).to_pylist()[0]
    assert row["status"] == "ok" and row["error"] is None
    spec = load_scenario("baseline", {
        "meta.end_year": 2035.0, "software.returns_r": row["software.returns_r"],
        "software.compute_rho": row["software.compute_rho"],
        "strategies.frontier.race_response": row["strategies.frontier.race_response"]})
    summary = simulate(spec, seed=row["seed"]).summary()
    for key in ("rnd_automation_20_year", "incidents_minor", "final_horizon_minutes",
                "max_leader_lead_oom", "successor_training_year"):
        expected = summary[key]
        assert (row[key] is None and expected is None) or row[key] == expected, key


def test_quantiles_are_those_of_the_runs_series(reference):
    t = tables(reference)
    series = t["series"].to_pandas()
    runs = t["runs"].to_pandas()[["run_id", "lever_set"]]
    at_2030 = series[series["year"] == 2030.0].merge(runs, on="run_id")
    q = t["series_quantiles"].to_pandas()
    row = q[(q["lever_set"] == 1) & (q["series"] == "rnd_automation")
            & (np.isclose(q["time"], 2030.0))].iloc[0]
    values = at_2030[at_2030["lever_set"] == 1]["rnd_automation"].to_numpy()
    assert row["q50"] == np.quantile(values, 0.5)


def test_one_worker_gives_the_same_store_as_two(reference, small_spec, tmp_path):
    run_sweep(load_sweep(small_spec), tmp_path / "one", workers=1)
    assert_same_store(reference, tmp_path / "one")
    assert json.loads((tmp_path / "one" / "manifest.json").read_text()) == json.loads(
        (reference / "manifest.json").read_text())


def _ixsim(*args: str) -> subprocess.Popen:
    """The command line in a process of its own (own session: its group can be killed)."""
    return subprocess.Popen([sys.executable, "-c", "from ixsim.cli.app import entry; entry()",
                             *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


def test_resume_after_a_killed_client_equals_an_uninterrupted_sweep(reference, small_spec,
                                                                    tmp_path):
    out = tmp_path / "killed"
    proc = _ixsim("sweep", str(small_spec), "--out", str(out), "--workers", "1")
    try:
        deadline = time.monotonic() + 60
        while not (out / "runs" / "chunk-00000.parquet").exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.005)
    finally:
        with_group = proc.poll() is None
        if with_group:
            os.killpg(proc.pid, signal.SIGKILL)  # the client and its local workers, at once
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    written = len(list((out / "runs").glob("chunk-*.parquet")))
    assert 1 <= written < 16, written  # killed part-way
    assert json.loads((out / "manifest.json").read_text())["complete"] is False
    outcome = run_sweep(load_sweep(small_spec), out, resume=True, workers=2)
    assert outcome.skipped == written * 3 and outcome.ran == SMALL_RUNS - written * 3
    assert_same_store(reference, out)


def test_resume_of_a_finished_sweep_runs_nothing(reference, small_spec, tmp_path, capsys):
    out = tmp_path / "copy"
    shutil.copytree(reference, out)
    code, stdout, err = cli(capsys, "sweep", str(small_spec), "--out", str(out), "--resume")
    assert code == 0, err
    assert f"sweep small: 48 runs (48 ok, 0 failed, 48 already there); ran 0" in stdout
    assert_same_store(reference, out)


def test_resume_refuses_a_different_spec(reference, small_spec, tmp_path, capsys):
    out = tmp_path / "copy"
    shutil.copytree(reference, out)
    code, _, err = cli(capsys, "sweep", str(small_spec), "--out", str(out), "--resume",
                       "--samples", "13")
    assert one_error_line(code, err) == (
        f"error: {out}/manifest.json: the spec differs from the one this sweep was started with "
        "(sweep.samples); start it in another folder")


def test_a_second_writer_is_refused(small_spec, tmp_path, capsys):
    out = tmp_path / "locked"
    out.mkdir()
    with exclusive(out):
        code, _, err = cli(capsys, "sweep", str(small_spec), "--out", str(out))
    assert one_error_line(code, err) == f"error: --out: {out}: another ixsim run is writing there"


def test_a_killed_worker_is_replaced_and_the_result_unchanged(reference, small_spec, tmp_path):
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as cluster, Client(cluster, set_as_default=False) as client:
        pids = sorted(client.run(os.getpid).values())
        killed: list[int] = []

        def kill_one(runs: int) -> None:
            if not killed:  # after the first chunk lands, while the others run
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])

        outcome = run_sweep(load_sweep(small_spec), tmp_path / "w", client=client,
                            on_chunk=kill_one)
        assert killed and outcome.ran == SMALL_RUNS
        assert pids[0] not in client.run(os.getpid).values()  # the nanny started another
    assert_same_store(reference, tmp_path / "w")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_running_tcp_scheduler_with_two_workers(reference, small_spec, tmp_path, capsys):
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler",
                               "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              **quiet)]
    try:
        for _ in range(2):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads",
                 "1", "--no-dashboard", "--no-nanny"], cwd=ROOT, **quiet))
        code, stdout, err = cli(capsys, "sweep", str(small_spec), "--out", str(tmp_path / "tcp"),
                                "--scheduler", address)
        assert code == 0, err
        assert "48 runs (48 ok, 0 failed)" in stdout
    finally:  # the workers first, while the scheduler can still see them go
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    assert_same_store(reference, tmp_path / "tcp")


def test_an_unreachable_scheduler_is_one_line(small_spec, tmp_path, capsys, monkeypatch):
    import ixsim.analysis.sweep.execute as execute

    monkeypatch.setattr(execute, "CONNECT_TIMEOUT_S", 1)  # 10 s for a real cluster
    address = f"tcp://127.0.0.1:{_free_port()}"
    code, _, err = cli(capsys, "sweep", str(small_spec), "--out", str(tmp_path / "x"),
                       "--scheduler", address)
    assert one_error_line(code, err).startswith(f"error: --scheduler: cannot reach {address}")


def test_a_failing_run_is_recorded_as_failed(reference, small_spec, tmp_path, monkeypatch):
    from dask.distributed import Client, LocalCluster

    import ixsim.sim.model as model

    doomed = tables(reference)["runs"].slice(5, 1).to_pylist()[0]["seed"]
    real = model.simulate

    def simulate(spec, seed=0):
        if seed == doomed:
            raise RuntimeError("the model broke\non two lines")
        return real(spec, seed)

    monkeypatch.setattr(model, "simulate", simulate)
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None,
                      silence_logs=40) as cluster, Client(cluster, set_as_default=False) as client:
        outcome = run_sweep(load_sweep(small_spec), tmp_path / "f", client=client)
    failed_ids = [r for r in range(SMALL_RUNS)
                  if tables(reference)["runs"]["seed"][r].as_py() == doomed]
    assert outcome.status == {"ok": SMALL_RUNS - len(failed_ids), "failed": len(failed_ids)}
    runs = tables(tmp_path / "f")["runs"].to_pylist()
    ref = tables(reference)["runs"].to_pylist()
    assert len(failed_ids) == 2  # the same seed in both lever sets (paired draws)
    for i, (row, expected) in enumerate(zip(runs, ref)):
        if i in failed_ids:
            assert row["status"] == "failed"
            assert row["error"] == "RuntimeError: the model broke on two lines"
            assert row["successor_training_year"] is None and row["incidents_minor"] is None
            assert row["software.returns_r"] == expected["software.returns_r"]
        else:
            assert row == expected
    assert not math.isnan(tables(tmp_path / "f")["series_quantiles"]["q50"][0].as_py())


def test_a_worker_that_does_not_see_the_store_sends_its_tables(reference, small_spec, tmp_path,
                                                               monkeypatch):
    """Workers on a machine without the store's folder return the tables and the client writes
    them: the same bytes as when the workers write (the reference, a local cluster)."""
    from dask.distributed import Client, LocalCluster

    import ixsim.analysis.sweep.execute as execute

    monkeypatch.setattr(execute.StoreTarget, "visible", lambda self: False)
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None,
                      silence_logs=40) as cluster, Client(cluster, set_as_default=False) as client:
        outcome = run_sweep(load_sweep(small_spec), tmp_path / "c", client=client)
    assert outcome.status == {"ok": SMALL_RUNS}
    assert_same_store(reference, tmp_path / "c")
