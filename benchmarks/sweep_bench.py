"""Sweep and forecast speed (``make bench-sweep``): a 10,000-run Monte Carlo of the baseline (the
shipped forecast spec) on 2 local workers including the store, its parallel efficiency against a
serial loop over the same work in the same bench run, a query over the 10,000 runs, and the
shipped forecast. Writes out/bench/sweep.json. Figures, not tests: the machine is shared.

    python benchmarks/sweep_bench.py [--runs 10000] [--serial 500] [--workers 2]
                                     [--no-forecast] [--out FILE]

The serial reference does what the sweep does, without Dask: the engine's own chunk function and
store writer (``run_chunk`` + ``write_chunk``) over whole chunks of the same sweep, half of them
timed before the sweep and half after (the machine's other load changes; this brackets it).
``serial_model_seconds_estimated`` is the model alone over the same runs (``simulate`` and
``summary``, the older reference). Both are per-run times scaled to ``--runs``.

Wall time on a shared machine measures the other tenants as much as the engine, so the bench
also adds up CPU time: ``sweep_cpu_seconds`` is every process of the sweep (client, scheduler,
workers: the command's children), ``cpu_efficiency`` the serial reference's CPU time over it
(1.0: the engine costs nothing beyond the runs themselves), and ``load_average`` the machine's
1-minute load before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "scenarios" / "sweeps" / "forecast.toml"
OUT = ROOT / "out" / "bench" / "sweep.json"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _ixsim(*args: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of it and every process it started) of one ``ixsim`` command
    (it must succeed)."""
    cpu = _children_cpu()
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ixsim.cli.app", *args], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, _children_cpu() - cpu


class SerialReference:
    """The sweep's chunks run one after another in this process, as a worker runs them, with
    their files written as the sweep writes them (into a scratch folder)."""

    def __init__(self, runs: int):
        from ixsim.analysis.sweep import execute, load_sweep, plan_for
        from ixsim.analysis.sweep.runs import RunContext, run_columns
        from ixsim.analysis.sweep.spec import lever_kind

        self.sweep = load_sweep(SPEC, samples=runs)
        self.plan = plan_for(self.sweep)
        metrics, times = execute._probe(self.sweep)
        self.n_steps = len(times)
        sweep = self.sweep
        levers = [(name, lever_kind(values)) for name, values in sweep.levers]
        self.context = RunContext(
            scenario=sweep.scenario, parameters=tuple(sweep.parameters),
            lever_names=tuple(sweep.lever_names),
            lever_sets=tuple(tuple(s[n] for n in sweep.lever_names) for s in sweep.lever_sets),
            series=sweep.series, per_run_series=sweep.per_run_series,
            year_stride=sweep.scenario.meta.steps_per_year,
            columns=tuple(run_columns(sweep.parameters, levers, metrics)))
        self.scratch = tempfile.TemporaryDirectory()
        self.runs = self.wall = self.cpu = 0.0

    def run(self, chunks: range) -> None:
        from ixsim.analysis.sweep import dataset
        from ixsim.analysis.sweep.runs import run_chunk

        out = Path(self.scratch.name)
        wall, cpu = time.perf_counter(), time.process_time()
        for c in chunks:
            result = run_chunk(self.context, self.plan.chunk(c))
            dataset.write_chunk(out, result, self.sweep.series, self.n_steps,
                                self.sweep.per_run_series)
            self.runs += result.runs.num_rows
        self.wall += time.perf_counter() - wall
        self.cpu += time.process_time() - cpu

    def model_only(self, chunks: range) -> float:
        """Seconds per run of the model alone (with_overrides, simulate, summary)."""
        from ixsim.sim.model import simulate
        from ixsim.sim.scenario import with_overrides

        n, start = 0, time.perf_counter()
        for c in chunks:
            chunk = self.plan.chunk(c)
            for i in range(len(chunk)):
                values = dict(zip(self.sweep.parameters, (float(v) for v in chunk.values[i])))
                simulate(with_overrides(self.sweep.scenario, values),
                         seed=int(chunk.seed[i])).summary()
                n += 1
        return (time.perf_counter() - start) / n


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000, help="runs of the sweep")
    parser.add_argument("--serial", type=int, default=500,
                        help="runs of the serial reference (whole chunks, half before the sweep "
                             "and half after)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-forecast", action="store_true", help="skip ixsim forecast")
    parser.add_argument("--out", type=Path, default=OUT, help=f"default {OUT}")
    args = parser.parse_args(argv)
    serial = SerialReference(args.runs)
    per_chunk = serial.plan.chunk_size
    half = max(1, args.serial // (2 * per_chunk))
    serial.run(range(0, 1))  # warm: imports and first-call costs, as a worker's first task
    serial.runs = serial.wall = serial.cpu = 0.0
    load_before = os.getloadavg()[0]
    serial.run(range(1, 1 + half))
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "sweep"
        sweep_s, sweep_cpu = _ixsim("sweep", str(SPEC), "--out", str(store), "--samples",
                                    str(args.runs), "--workers", str(args.workers))
        serial.run(range(1 + half, 1 + 2 * half))
        model_s = serial.model_only(range(1 + 2 * half, 2 + 2 * half)) * args.runs
        from ixsim.analysis.query import run_query

        start = time.perf_counter()
        run_query(store, "SELECT median(successor_training_year), count(*) FROM runs")
        query_ms = 1000 * (time.perf_counter() - start)
    load_after = os.getloadavg()[0]
    serial_s = serial.wall / serial.runs * args.runs
    serial_cpu = serial.cpu / serial.runs * args.runs
    k = f"{args.runs // 1000}k" if args.runs >= 1000 else str(args.runs)
    result = {
        f"sweep_{k}_seconds": round(sweep_s, 1),
        "workers": args.workers,
        "serial_seconds_estimated": round(serial_s, 1),
        "serial_runs_timed": int(serial.runs),
        "parallel_efficiency": round(serial_s / (args.workers * sweep_s), 3),
        "serial_model_seconds_estimated": round(model_s, 1),
        "parallel_efficiency_vs_model": round(model_s / (args.workers * sweep_s), 3),
        "sweep_cpu_seconds": round(sweep_cpu, 1),
        "serial_cpu_seconds_estimated": round(serial_cpu, 1),
        "cpu_efficiency": round(serial_cpu / sweep_cpu, 3),
        "load_average": [round(load_before, 2), round(load_after, 2)],
        f"query_{k}_ms": round(query_ms, 1),
    }
    serial.scratch.cleanup()
    if not args.no_forecast:
        forecast_s, _ = _ixsim("forecast", "baseline", "--draws", "1000", "--out",
                               str(Path(tempfile.gettempdir()) / "ixsim-bench-forecast.json"))
        result["forecast_seconds"] = round(forecast_s, 1)
        result["forecast"] = "ixsim forecast baseline --draws 1000 (2 workers)"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
