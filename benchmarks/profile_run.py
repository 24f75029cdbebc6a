"""Where a baseline run's time goes (not a test; `make bench` does not run it):
``python benchmarks/profile_run.py [--runs N] [--top K] [--save PATH]``.

cProfile over N runs of ``simulate(baseline, seed=0)`` and ``result.summary()``. Prints each
part's share of the self time, then the top functions by cumulative and by self time (ms per
run). A built-in's self time (``max``, ``math.exp``, numpy) counts for the part that called it.
The profiler adds about the same time to every call, so parts made of many small calls (the
dynamics) read high; the "corrected" column takes off each part's calls times the profiler's
mean cost per call (profiled minus plain run time, over all calls, measured here) and scales
the shares to the plain run time: an estimate.
Time changes with ``run_bench.py``.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ixsim.sim.model import simulate  # noqa: E402
from ixsim.sim.scenario import load_scenario  # noqa: E402

DYNAMICS = "continuous dynamics"
DECISIONS = "agent decisions and world events"
MESA = "Mesa machinery"
RECORDING = "recording and summary"
OTHER = "other (step loop, set-up)"
PARTS = (DYNAMICS, DECISIONS, MESA, RECORDING, OTHER)

# functions of sim/model.py that drive the dynamics (the rest of it is decisions and events,
# but for the loop and set-up below)
MODEL_DYNAMICS = {"_advance", "_update_pace", "gwp_at", "_automation_changed", "price_at",
                  "compute_price", "export_price_multiplier", "export_terms", "_start_lab",
                  "_lab_outputs_now"}
MODEL_LOOP = {"simulate", "run", "step", "__init__", "_init_networks", "_init_labs", "_end_step"}

Key = tuple[str, int, str]


def part_of(key: Key) -> str:
    """The part of the code one Python function belongs to, by its file (and name in model.py)."""
    path, _line, name = key
    path = path.replace("\\", "/")
    if ("/mesa/" in path or path.endswith("/random.py")
            or (path.endswith("/sim/model.py") and name == "shuffle")):
        return MESA  # random.py, model.shuffle: the seeded shuffle that activates the labs
    if any(part in path for part in ("/sim/continuous.py", "/sim/kernel.py", "/sim/dynamics/")):
        return DYNAMICS
    if "/sim/recorder.py" in path or "/sim/results.py" in path or "/sim/metrics.py" in path:
        return RECORDING
    if "/sim/model.py" in path:
        if name in MODEL_DYNAMICS:
            return DYNAMICS
        return OTHER if name in MODEL_LOOP else DECISIONS
    if "/sim/agents/" in path or "/sim/events.py" in path:
        return DECISIONS
    return OTHER


def is_builtin(key: Key) -> bool:
    return key[0] == "~"


def parts(stats: pstats.Stats) -> tuple[dict[str, float], dict[str, int]]:
    """Self time (s) and calls by part; a built-in's split among its callers' parts."""
    time_s: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    for key, (_cc, nc, tt, _ct, callers) in stats.stats.items():
        if not is_builtin(key):
            time_s[part_of(key)] += tt
            calls[part_of(key)] += nc
            continue
        for caller, (_c, n, caller_tt, _t) in callers.items():
            part = OTHER if is_builtin(caller) else part_of(caller)
            time_s[part] += caller_tt
            calls[part] += n
        if not callers:
            time_s[OTHER] += tt
            calls[OTHER] += nc
    return time_s, calls


def label(key: Key) -> str:
    path, line, name = key
    if is_builtin(key):
        return name
    short = path.replace("\\", "/")
    for marker in ("/site-packages/", str(ROOT).replace("\\", "/") + "/"):
        if marker in short:
            short = short.split(marker, 1)[1]
    return f"{short}:{line}({name})"


def top(stats: pstats.Stats, column: int, k: int, runs: int) -> list[str]:
    """The k functions with the most time in ``column`` (2 self, 3 cumulative), ms per run."""
    rows = sorted(stats.stats.items(), key=lambda item: item[1][column], reverse=True)[:k]
    return [f"{v[column] / runs * 1e3:8.3f} ms {v[1] / runs:9.1f} calls  {label(key)}"
            for key, v in rows]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Profile baseline runs; print where time goes.")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--save", type=Path, metavar="PATH", help="also dump the raw profile")
    args = parser.parse_args(argv)
    spec = load_scenario(ROOT / "scenarios" / "baseline.toml")
    simulate(spec, seed=0).summary()  # warm-up: imports, caches
    plain, profiled = [], []
    profiler = cProfile.Profile()
    for _ in range(args.runs):  # plain and profiled runs alternate: a busy machine slows both
        start = time.perf_counter()
        simulate(spec, seed=0).summary()
        plain.append(time.perf_counter() - start)
        start = time.perf_counter()
        profiler.enable()
        simulate(spec, seed=0).summary()
        profiler.disable()
        profiled.append(time.perf_counter() - start)
    if args.save is not None:
        profiler.dump_stats(args.save)
    stats = pstats.Stats(profiler)
    by_part, calls = parts(stats)
    total, n_calls = sum(by_part.values()), sum(calls.values())
    plain_s = statistics.median(plain)
    added = statistics.median(p - q for p, q in zip(profiled, plain))  # per run
    per_call = max(0.0, added / (n_calls / args.runs))
    fixed = {name: max(0.0, by_part[name] - calls[name] * per_call) for name in PARTS}
    fixed_total = sum(fixed.values())
    share = {name: fixed[name] / fixed_total for name in PARTS}
    print(f"baseline, seed 0, {args.runs} runs: {plain_s * 1e3:.2f} ms/run plain, "
          f"{total / args.runs * 1e3:.2f} under cProfile ({n_calls / args.runs:.0f} calls/run, "
          f"{per_call * 1e6:.3f} us added per call)")
    print("  profiled            corrected     calls/run  part")
    for name in PARTS:
        print(f"  {by_part[name] / total:6.1%} {by_part[name] / args.runs * 1e3:7.3f} ms"
              f"  {share[name]:6.1%} {share[name] * plain_s * 1e3:6.3f} ms"
              f"  {calls[name] / args.runs:9.0f}  {name}")
    print(f"\ntop {args.top} by cumulative time (ms per run)")
    print("\n".join(top(stats, 3, args.top, args.runs)))
    print(f"\ntop {args.top} by self time (ms per run)")
    print("\n".join(top(stats, 2, args.top, args.runs)))


if __name__ == "__main__":
    main()
