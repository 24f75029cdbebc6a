"""Speed of one model run (`make bench`): writes out/bench/latest.json (untracked; ``--out PATH``
to choose), so a run never dirties the checkout. Not a test.

run_ms_median: the baseline scenario, 2023-2045 monthly, one process on one core, >= 20 runs.
labs_scaling: the same with 5, 20 and 100 labs (copies of the baseline's labs, scaled down).
against (``--against REV``, e.g. the previous commit): the working tree and the code of REV
(``git archive``) each time the baseline in fresh one-core processes, in alternating rounds, so
a shared, noisy machine affects both alike; ``ratio`` is new / old of the medians.
vs_minimal_mesa: a baseline run with its summary metrics against a minimal Mesa model of the
same shape (``benchmarks/minimal_mesa.py``: the run's labs, regulators and AI systems, the same
steps, trivial arithmetic), in rounds in this process; ``ratio`` is the median over rounds of
the ratio of round medians, with the minimal model activated as ixsim is;
``ratio_mesa_activation`` against the same model run through Mesa's step wrapper and agent sets.
Speed work keeps runs bit-identical: ``identity_check.py`` records digests of every shipped
scenario's runs before a change and compares them after.
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
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # minimal_mesa, beside this file

from minimal_mesa import Shape, run_minimal  # noqa: E402
from ixsim.analysis.files import write_text  # noqa: E402
from ixsim import __version__  # noqa: E402
from ixsim.sim.agents import AISystem, Lab, Regulator  # noqa: E402
from ixsim.sim.model import TakeoffModel, simulate  # noqa: E402
from ixsim.sim.scenario import Scenario, load_scenario  # noqa: E402

DEFAULT_OUT = ROOT / "out" / "bench" / "latest.json"
RUNS = 25
LAB_COUNTS = (5, 20, 100)
MINIMAL_ROUNDS = 9


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


def baseline_shape(spec: Scenario, seed: int = 0) -> Shape:
    """The agents a run of ``spec`` makes, counted after it (AI systems stay registered)."""
    model = TakeoffModel(spec, seed=seed)
    model.run()
    count = {kind: len(model.agents_by_type.get(kind, ())) for kind in (Lab, Regulator, AISystem)}
    return Shape(labs=count[Lab], regulators=count[Regulator], systems=count[AISystem],
                 steps=model.n_steps)


def _median_ms(run: Callable[[], object], times: int) -> float:
    out = []
    for _ in range(times):
        start = time.perf_counter()
        run()
        out.append((time.perf_counter() - start) * 1e3)
    return statistics.median(out)


def vs_minimal(spec: Scenario, rounds: int = MINIMAL_ROUNDS, runs: int = 5) -> dict[str, object]:
    """A run with its summary against the minimal Mesa model of its shape, in rounds here."""
    shape = baseline_shape(spec)
    cases = {
        "ixsim": (lambda: simulate(spec, seed=0).summary(), runs),
        "minimal": (lambda: run_minimal(shape), 4 * runs),  # short: more runs a round
        "minimal_mesa": (lambda: run_minimal(shape, mesa_activation=True), 4 * runs),
    }
    for run, _ in cases.values():
        run()  # warm-up
    ms: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for i in range(rounds):
        for name in names[i % 3:] + names[:i % 3]:  # each goes first in turn
            ms[name].append(_median_ms(*cases[name]))
    ratio = [a / b for a, b in zip(ms["ixsim"], ms["minimal"])]
    ratio_mesa = [a / b for a, b in zip(ms["ixsim"], ms["minimal_mesa"])]
    return {
        "ixsim_ms_median": round(statistics.median(ms["ixsim"]), 3),
        "minimal_ms_median": round(statistics.median(ms["minimal"]), 3),
        "ratio": round(statistics.median(ratio), 2),
        "minimal_mesa_activation_ms_median": round(statistics.median(ms["minimal_mesa"]), 3),
        "ratio_mesa_activation": round(statistics.median(ratio_mesa), 2),
        "ratio_min_max": [round(min(ratio), 2), round(max(ratio), 2)],
        "shape": {"labs": shape.labs, "regulators": shape.regulators,
                  "ai_systems": shape.systems, "agents": shape.agents, "steps": shape.steps},
        "rounds": rounds,
    }


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
    floor = vs_minimal(base)
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
    result["vs_minimal_mesa"] = floor
    if comparison is not None:
        result["against"] = comparison
    text = json.dumps(result, indent=2) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, text)
    sys.stdout.write(text)
    sys.stdout.flush()  # the JSON first, then the line (on stderr: stdout stays JSON)
    shape = floor["shape"]
    line = (f"ixsim {floor['ixsim_ms_median']:.2f} ms/run with summary; minimal Mesa model "
            f"({shape['agents']} agents, {shape['steps']} steps) {floor['minimal_ms_median']:.2f} "
            f"ms/run: ratio {floor['ratio']:.2f}x (Mesa's activation: "
            f"{floor['minimal_mesa_activation_ms_median']:.2f} ms/run, "
            f"{floor['ratio_mesa_activation']:.2f}x)")
    if comparison is not None:
        line += f"; against {comparison['rev']}: {comparison['ratio']:.3f}x"
    sys.stderr.write(line + "\n")


if __name__ == "__main__":
    main()
