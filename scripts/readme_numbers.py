"""Regenerate the numbers the README shows, from the code: the `ixsim run` output block and the
scenario table (between ``<!-- generated: NAME -->`` and ``<!-- end: NAME -->`` markers).

    python scripts/readme_numbers.py          # rewrite README.md
    python scripts/readme_numbers.py --check  # exit 1 if README.md is stale (used by the tests)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
COLUMNS = "100"  # the console width the run block is rendered at


def run_block() -> str:
    """What `make demo`'s `ixsim run` prints for the baseline (seed 0)."""
    env = {**os.environ, "COLUMNS": COLUMNS, "NO_COLOR": "1", "TERM": "dumb"}
    out = subprocess.run([sys.executable, "-m", "ixsim.cli.app", "run", "baseline", "--out",
                          "out/baseline"], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True).stdout
    lines = [line.rstrip() for line in out.splitlines()]
    return "```\n" + "\n".join(lines) + "\n```"


def _year(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f}"


def scenario_table() -> str:
    """One row per named scenario, seed 0."""
    from ixsim.sim.model import simulate
    from ixsim.sim.scenario import load_scenario, scenario_names

    order = ["baseline", "us-china-race", "coordinated-pause", "compute-governance",
             "slow-takeoff", "software-intelligence-explosion", "rsi-startup",
             "open-weights-diffusion", "ccf-like", "ai2027-like"]
    names = order + [n for n in scenario_names() if n not in order]
    rows = ["| scenario | 20% R&D automated | successor training | takeoff (yr) | peak growth "
            "(OOM/yr) | max lead (months) | major incidents | first pause | treaty |",
            "|---|---|---|---|---|---|---|---|---|"]
    for name in names:
        s = simulate(load_scenario(name), seed=0).summary()
        takeoff = s["takeoff_years"]
        rows.append(
            f"| {name} | {_year(s['rnd_automation_20_year'])} | "
            f"{_year(s['successor_training_year'])} | "
            f"{'never' if takeoff is None else f'{takeoff:.1f}'} | "
            f"{s['peak_effective_compute_growth_oom_per_year']:.1f} | "
            f"{s['max_leader_lead_months']:.0f} | {s['incidents_major']} | "
            f"{_year(s['first_pause_year'])} | {_year(s['treaty_year'])} |")
    return "\n".join(rows)


BLOCKS = {"run-output": run_block, "scenario-table": scenario_table}


def render(text: str) -> str:
    for name, make in BLOCKS.items():
        pattern = re.compile(rf"(<!-- generated: {name} -->\n).*?(\n<!-- end: {name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"error: README.md: no <!-- generated: {name} --> block")
        text = pattern.sub(lambda m: m.group(1) + make() + m.group(2), text)
    return text


def main(argv: list[str]) -> int:
    old = README.read_text(encoding="utf-8")
    new = render(old)
    if "--check" in argv:
        if new != old:
            print("README.md is stale: run `python scripts/readme_numbers.py`", file=sys.stderr)
            return 1
        return 0
    if new != old:
        tmp = README.with_suffix(".md.tmp")
        tmp.write_text(new, encoding="utf-8")
        tmp.replace(README)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
