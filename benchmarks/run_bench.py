"""Speed of one model run (`make bench`): writes out/bench/latest.json (untracked; ``--out PATH``
to choose), so a run never dirties the checkout. Not a test.

run_ms_median: the baseline scenario, 2023-2045 monthly, one process on one core, >= 20 runs.
labs_scaling: the same with 5, 20 and 100 labs (copies of the baseline's labs, scaled down).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ixsim.analysis.files import write_text  # noqa: E402
from ixsim.sim import __version__  # noqa: E402
from ixsim.sim.model import simulate  # noqa: E402
from ixsim.sim.scenario import Scenario, load_scenario  # noqa: E402

DEFAULT_OUT = ROOT / "out" / "bench" / "latest.json"
RUNS = 25
LAB_COUNTS = (5, 20, 100)


def with_labs(spec: Scenario, n: int) -> Scenario:
    """The baseline with n labs: the three baseline labs repeated, each copy at lower compute."""
    labs = []
    for i in range(n):
        lab = spec.labs[i % len(spec.labs)].model_copy(deep=True)
        lab.name = f"{lab.name}-{i}"
        lab.compute_flop_per_s *= 0.97 ** i
        labs.append(lab)
    data = spec.model_dump()
    data["labs"] = [lab.model_dump() for lab in labs]
    data["networks"]["spillover"] = {"edges": [
        {"source": labs[i].name, "target": labs[i + 1].name, "weight": 0.5} for i in range(n - 1)]}
    return Scenario.model_validate(data)


def time_runs(spec: Scenario, runs: int) -> list[float]:
    simulate(spec)  # warm-up: imports, caches
    out = []
    for seed in range(runs):
        start = time.perf_counter()
        simulate(spec, seed=seed)
        out.append((time.perf_counter() - start) * 1e3)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Time model runs; print and write the JSON.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="PATH",
                        help=f"where to write the JSON (default: {DEFAULT_OUT.relative_to(ROOT)})")
    out = parser.parse_args(argv).out
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    base = load_scenario(ROOT / "scenarios" / "baseline.toml")
    times = time_runs(base, RUNS)
    result = {
        "run_ms_median": round(statistics.median(times), 3),
        "run_ms_min": round(min(times), 3),
        "run_ms_max": round(max(times), 3),
        "runs": RUNS,
        "baseline_labs": len(base.labs),
        "steps": round((base.meta.end_year - base.meta.start_year) * base.meta.steps_per_year),
        "labs_scaling": {},
        "ixsim_version": __version__,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }
    for n in LAB_COUNTS:
        ms = statistics.median(time_runs(with_labs(base, n), 5 if n >= 100 else 10))
        result["labs_scaling"][str(n)] = {"run_ms_median": round(ms, 3),
                                          "ms_per_lab": round(ms / n, 3)}
    text = json.dumps(result, indent=2) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
