"""Does a sweep stream? The client's peak memory (``ixsim sweep`` in a process of its own: the
client, the local scheduler and the nannies; the workers are its children) for sweeps of
growing size. The ``ishigami`` model runs in microseconds, so a 100,000-run sweep of it takes a
minute or two and measures the engine alone (plan, submission, the store, the manifest); two
shorter sweeps of the real model (the shipped forecast spec) show the same. Writes
out/bench/sweep_memory.json. The issue's target: a 100,000-run sweep under 2 GB on the client.

    python benchmarks/sweep_memory.py [--runs 100000] [--real-runs 500 2000] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "out" / "bench" / "sweep_memory.json"
FORECAST = ROOT / "scenarios" / "sweeps" / "forecast.toml"
ISHIGAMI = """\
[sweep]
name = "ishigami-memory"
model = "ishigami"
sampler = "monte-carlo"
samples = {samples}
chunk_size = 1000
[uncertainties]
x1 = {{ dist = "uniform", low = -3.141592653589793, high = 3.141592653589793 }}
x2 = {{ dist = "uniform", low = -3.141592653589793, high = 3.141592653589793 }}
x3 = {{ dist = "uniform", low = -3.141592653589793, high = 3.141592653589793 }}
"""
# the command line in this process's child, reporting its own peak RSS and its children's
# (ru_maxrss: KiB on Linux) on stderr
DRIVER = ("import resource, sys\n"
          "from ixsim.cli.app import main\n"
          "code = main(sys.argv[1:])\n"
          "me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
          "kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
          "sys.stderr.write(f'ixsim-peak-rss-kib {me} {kids}\\n')\n"
          "sys.exit(code)\n")


def measure(spec: Path, samples: int, workers: int) -> dict[str, float]:
    """Peak RSS (MB) of the client and of the largest worker, and the wall time of one sweep."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", DRIVER, "sweep", str(spec), "--out",
                               str(Path(tmp) / "store"), "--samples", str(samples),
                               "--workers", str(workers)],
                              cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    found = re.search(r"ixsim-peak-rss-kib (\d+) (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"error: the sweep of {spec} failed:\n{done.stderr[-2000:]}")
    client, worker = (int(x) / 1024 for x in found.groups())
    return {"runs": samples, "client_peak_rss_mb": round(client, 1),
            "worker_peak_rss_mb": round(worker, 1), "seconds": round(seconds, 1)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000, help="runs of the ishigami sweep")
    parser.add_argument("--real-runs", type=int, nargs="*", default=[500, 2000],
                        help="runs of each forecast sweep (the real model)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=OUT, help=f"default {OUT}")
    args = parser.parse_args(argv)
    result: dict[str, list[dict[str, float]]] = {"ishigami": [], "forecast": []}
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "ishigami.toml"
        spec.write_text(ISHIGAMI.format(samples=args.runs))
        for runs in sorted({max(1, args.runs // 10), args.runs}):
            result["ishigami"].append(measure(spec, runs, args.workers))
    for runs in args.real_runs:
        result["forecast"].append(measure(FORECAST, runs, args.workers))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
