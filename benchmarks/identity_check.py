"""Bit-identity check for speed work (not a test; `make bench` does not run it):
``python benchmarks/identity_check.py --record PATH`` writes digests of every shipped scenario's
runs, ``python benchmarks/identity_check.py --compare PATH`` recomputes them and lists any run
that differs (exit status 1 if one does).

One digest per (scenario, seed) in ``scenario_names()`` x ``SEEDS``: sha256 over the summary
JSON (``summary_json``), the bytes of every world and lab array (object columns by their
values' repr, since an object array's bytes are pointers), the events lists' repr and the
network document, each part in its own order (a reordered column changes it too). An
optimisation that reorders floating-point operations changes a digest: this is the check that
a faster run is the same run. Record with the code before the change (or with another
revision's tree first on PYTHONPATH, as ``run_bench.py --against`` arranges; the script prints
which code it ran). Keep PATH outside the repository.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from ixsim.analysis.store import summary_json
from ixsim.sim import model
from ixsim.sim.model import simulate
from ixsim.sim.results import RunResult
from ixsim.sim.scenario import load_scenario, scenario_names

SEEDS = (0, 1)


def _array_bytes(array) -> bytes:
    """An array's identity: its dtype, shape and values (object values by repr)."""
    head = f"{array.dtype}|{array.shape}|".encode()
    if array.dtype == object:
        return head + repr(array.tolist()).encode()
    return head + array.tobytes()


def run_digest(result: RunResult) -> str:
    """sha256 of everything a run returns that a caller can read (columns in their order)."""
    h = hashlib.sha256()
    h.update(summary_json(result.summary()).encode())
    h.update(repr(list(result.summary())).encode())  # the keys' order
    for part in (result.world, result.labs):
        for name, array in part.items():
            h.update(name.encode())
            h.update(_array_bytes(array))
    for name, values in result.events.items():
        h.update(name.encode())
        h.update(repr(values).encode())
    h.update(json.dumps(result.network, sort_keys=True).encode())
    return h.hexdigest()


def digests() -> dict[str, str]:
    """``"scenario/seed"`` -> digest for every shipped scenario and seed in ``SEEDS``."""
    out = {}
    for name in scenario_names():
        spec = load_scenario(name)
        for seed in SEEDS:
            out[f"{name}/{seed}"] = run_digest(simulate(spec, seed=seed))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Record or compare digests of every run.")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--record", type=Path, metavar="PATH", help="write the digests as JSON")
    group.add_argument("--compare", type=Path, metavar="PATH", help="compare with recorded ones")
    args = parser.parse_args(argv)
    print(f"code: {Path(model.__file__).parent}")
    now = digests()
    if args.record:
        args.record.write_text(json.dumps(now, indent=2, sort_keys=True) + "\n")
        print(f"recorded {len(now)} run digests to {args.record}")
        return 0
    before = json.loads(args.compare.read_text())
    differ = sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k))
    for key in differ:
        print(f"differs: {key}")
    print(f"{len(now) - len(differ)}/{len(now)} runs identical" if not differ
          else f"{len(differ)} of {len(now)} runs differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
