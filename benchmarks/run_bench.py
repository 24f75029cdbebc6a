"""Speed of one model run (`make bench`): writes out/bench/latest.json (untracked; ``--out PATH``
to choose), so a run never dirties the checkout. Not a test.

run_ms_median: the baseline scenario, 2023-2045 monthly, one process on one core, >= 20 runs.
labs_scaling: the same with 5, 20 and 100 labs (copies of the baseline's labs, scaled down).
against (``--against REV``, e.g. the previous commit): the working tree and the code of REV
(``git archive``) each time the baseline in fresh one-core processes, in alternating rounds, so
a shared, noisy machine affects both alike; ``ratio`` is new / old of the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ixsim.analysis.files import write_text  # noqa: E402
from ixsim import __version__  # noqa: E402
from ixsim.sim.model import simulate  # noqa: E402
from ixsim.sim.scenario import Scenario, load_scenario  # noqa: E402

DEFAULT_OUT = ROOT / "out" / "bench" / "latest.json"
RUNS = 25
LAB_COUNTS = (5, 20, 100)


def with_labs(spec: Scenario, n: int) -> Scenario:
    """The baseline with n labs: the three baseline labs repeated, each copy at lower compute."""
    labs = []
    for i in range(n):
        lab = spec.labs[i % len(spec.labs)]
        labs.append(lab.model_copy(update={"name": f"{lab.name}-{i}",
                                           "compute_flop_per_s": lab.compute_flop_per_s * 0.97 ** i}))
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


# Times one scenario in a fresh process on one core; works for trees before and after the
# ``ixsim`` namespace (PYTHONPATH decides which code is imported).
_CHILD = r"""
import json, os, sys, time
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
try:
    from ixsim.sim.model import simulate
    from ixsim.sim.scenario import load_scenario
except ImportError:
    from sim.model import simulate
    from sim.scenario import load_scenario
spec = load_scenario(sys.argv[1])
simulate(spec)
times = []
for seed in range(int(sys.argv[2])):
    start = time.perf_counter()
    simulate(spec, seed=seed)
    times.append((time.perf_counter() - start) * 1e3)
print(json.dumps(times))
"""


def _extract(rev: str, into: Path) -> dict[str, str]:
    """Unpack ``rev`` into ``into``/tree; return the environment that imports its code."""
    tree = into / "tree"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    env = dict(os.environ)
    if (tree / "ixsim" / "__init__.py").is_file():  # one namespace: map it as pyproject does
        shim = into / "shim" / "ixsim"
        shim.mkdir(parents=True)
        config = tomllib.loads((tree / "pyproject.toml").read_text())["tool"]["setuptools"]
        for package, folder in config["package-dir"].items():
            if package == "ixsim":
                (shim / "__init__.py").write_bytes((tree / folder / "__init__.py").read_bytes())
            elif package.count(".") == 1:
                (shim / package.split(".")[1]).symlink_to(tree / folder)
        env["PYTHONPATH"] = str(into / "shim")
    else:
        env["PYTHONPATH"] = str(tree)
    return env


def _child_times(env: dict[str, str] | None, scenario: Path, runs: int) -> list[float]:
    out = subprocess.run([sys.executable, "-c", _CHILD, str(scenario), str(runs)], env=env,
                         cwd=tempfile.gettempdir(), check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def against(rev: str, rounds: int = 6, runs: int = 6) -> dict[str, object]:
    """Median run time of the working tree and of ``rev``, in alternating rounds."""
    new: list[float] = []
    old: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        env = _extract(rev, Path(tmp))
        old_scenario = Path(tmp) / "tree" / "scenarios" / "baseline.toml"
        for i in range(rounds):
            pair = [(new, None, ROOT / "scenarios" / "baseline.toml"), (old, env, old_scenario)]
            for sink, environment, scenario in (pair if i % 2 == 0 else pair[::-1]):
                sink.extend(_child_times(environment, scenario, runs))
    new_ms, old_ms = statistics.median(new), statistics.median(old)
    return {"rev": rev, "new_ms_median": round(new_ms, 3), "old_ms_median": round(old_ms, 3),
            "ratio": round(new_ms / old_ms, 3), "runs_each": len(new)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Time model runs; print and write the JSON.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="PATH",
                        help=f"where to write the JSON (default: {DEFAULT_OUT.relative_to(ROOT)})")
    parser.add_argument("--against", metavar="REV",
                        help="also time the code of this git revision, interleaved (e.g. HEAD~1)")
    args = parser.parse_args(argv)
    out = args.out
    comparison = against(args.against) if args.against else None
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
    if comparison is not None:
        result["against"] = comparison
    text = json.dumps(result, indent=2) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
