"""Sweep and forecast speed (``make bench-sweep``): a 10,000-run Monte Carlo of the baseline on 2
local workers including the store, its parallel efficiency against a serial loop over the first
runs of the same sweep (same process, same bench run), a query over the 10,000 runs, and the
shipped forecast. Writes out/bench/sweep.json. Figures, not tests: the machine is shared.

    python benchmarks/sweep_bench.py [--runs 10000] [--serial 500]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "scenarios" / "sweeps" / "forecast.toml"
OUT = ROOT / "out" / "bench" / "sweep.json"


def _ixsim(*args: str) -> float:
    """Seconds one ``ixsim`` command takes (it must succeed)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ixsim.cli.app", *args], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _serial_seconds(store: Path, n: int) -> float:
    """Seconds a plain loop takes over the first ``n`` runs of the sweep in ``store``."""
    from ixsim.analysis.query import load_runs
    from ixsim.sim.model import simulate
    from ixsim.sim.scenario import load_scenario, with_overrides

    manifest, runs = load_runs(store)
    base = load_scenario(manifest["base_scenario"])
    names = manifest["parameters"]
    rows = runs.sort_values("run_id").head(n)
    start = time.perf_counter()
    for _, row in rows.iterrows():
        spec = with_overrides(base, {name: float(row[name]) for name in names})
        simulate(spec, seed=int(row["seed"])).summary()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--serial", type=int, default=500)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "sweep"
        sweep_s = _ixsim("sweep", str(SPEC), "--out", str(store), "--samples", str(args.runs),
                         "--workers", "2")
        serial_s = _serial_seconds(store, args.serial) * args.runs / args.serial
        from ixsim.analysis.query import run_query

        start = time.perf_counter()
        run_query(store, "SELECT median(successor_training_year), count(*) FROM runs")
        query_ms = 1000 * (time.perf_counter() - start)
    forecast_s = _ixsim("forecast", "baseline", "--draws", "1000", "--out",
                        str(Path(tempfile.gettempdir()) / "ixsim-bench-forecast.json"))
    result = {
        f"sweep_{args.runs // 1000}k_seconds": round(sweep_s, 1),
        "serial_seconds_estimated": round(serial_s, 1),
        "serial_runs_timed": args.serial,
        "parallel_efficiency": round(serial_s / (2 * sweep_s), 3),
        f"query_{args.runs // 1000}k_ms": round(query_ms, 1),
        "forecast_seconds": round(forecast_s, 1),
        "forecast": "ixsim forecast baseline --draws 1000 (2 workers)",
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
