"""Regenerate the numbers the README shows, from the code: the `ixsim run` output block and the
scenario table (between ``<!-- generated: NAME -->`` and ``<!-- end: NAME -->`` markers).

    python scripts/readme_numbers.py          # rewrite README.md
    python scripts/readme_numbers.py --check  # exit 1 if README.md is stale (used by the tests)
"""

from __future__ import annotations

import math
import os
import re
import statistics
import subprocess
import sys
from functools import cache
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


SEEDS = range(20)  # the scenario table's seeds: each cell is a median over them


def median_later_than_end(values: list[float | None]) -> float:
    """Median of outcomes where None means "not reached by the run's end" (read as later than
    any reached value): inf when at least half are missing (for an even count the median is
    the midpoint of the two middle values, and one of them is then later than the end)."""
    return statistics.median(math.inf if v is None else v for v in values)


def _date(values: list[float | None], end_year: float) -> str:
    year = median_later_than_end(values)
    return f"> {end_year:.0f}" if math.isinf(year) else f"{year:.1f}"


def _number(values: list[float], digits: int) -> str:
    return f"{statistics.median(values):.{digits}f}"


def _lead(values: list[float | None]) -> str:
    reached = [v for v in values if v is not None]
    return f"{statistics.median(reached):.0f}" if 2 * len(reached) > len(values) else "-"


@cache
def scenario_summaries(name: str) -> list[dict]:
    """The summaries of one named scenario, one per seed of ``SEEDS``."""
    from ixsim.sim.model import simulate
    from ixsim.sim.scenario import load_scenario

    spec = load_scenario(name)
    return [simulate(spec, seed=seed).summary() for seed in SEEDS]


def scenario_table() -> str:
    """One row per named scenario: each cell the median over ``SEEDS`` (dates not reached count
    as later than the end; "> END" when at least half the seeds do not reach them), and the
    share of seeds with a major incident before successor training."""
    from ixsim.sim.scenario import scenario_names

    order = ["baseline", "us-china-race", "coordinated-pause", "compute-governance",
             "slow-takeoff", "software-intelligence-explosion", "rsi-startup",
             "open-weights-diffusion", "ccf-like", "ai2027-like"]
    names = order + [n for n in scenario_names() if n not in order]
    n = len(SEEDS)
    rows = [f"Median over {n} seeds ({SEEDS[0]}-{SEEDS[-1]}) of each scenario; dates are decimal "
            f"years, \"> END\" where at least half the seeds do not reach the date by the run's "
            "end; the major-incident column is the share of seeds with one.",
            "",
            "| scenario | 20% R&D automated | successor training | takeoff (yr) | peak growth "
            "(OOM/yr) | max lead (OOM) | lead at successor training (months) | major incident before "
            "successor "
            "training | R&D unreviewed at successor training | first pause | treaty |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name in names:
        runs = scenario_summaries(name)
        end = max(s["end_year"] for s in runs)

        def col(key: str) -> list:
            return [s[key] for s in runs]

        takeoff = median_later_than_end(col("takeoff_years"))
        unreviewed = median_later_than_end(col("unreviewed_share_at_successor"))
        first = sum(col("major_incident_before_successor")) / n
        rows.append(
            f"| {name} | {_date(col('rnd_automation_20_year'), end)} | "
            f"{_date(col('successor_training_year'), end)} | "
            f"{'unfinished' if math.isinf(takeoff) else f'{takeoff:.1f}'} | "
            f"{_number(col('peak_effective_compute_growth_oom_per_year'), 1)} | "
            f"{_number(col('max_leader_lead_oom'), 1)} | "
            f"{_lead(col('lead_at_successor_months'))} | {first:.0%} | "
            f"{'no successor' if math.isinf(unreviewed) else f'{unreviewed:.2f}'} | "
            f"{_date(col('first_pause_year'), end)} | {_date(col('treaty_year'), end)} |")
    return "\n".join(rows)


# Others' published estimates the comparison quotes (docs/calibration.md rows CAL-8, CAL-9).
CCF_TAKEOFF = "median 2.9 years (10-90%: 0.8-12.5)"  # CAL-8: 20% -> 100% automation
CCF_AGI = "2043"  # CAL-8: AGI median
AI2027_MULTIPLIERS = {5: "Mar 2027", 25: "Aug 2027", 250: "Nov 2027", 2000: "Dec 2027"}  # CAL-9


def peer_comparison() -> str:
    """The ccf-like and ai2027-like scenarios' 20-seed medians beside the peer models' own
    numbers, labelled as others' estimates."""
    ccf, ai27 = scenario_summaries("ccf-like"), scenario_summaries("ai2027-like")
    end = max(s["end_year"] for s in ccf + ai27)

    def col(runs: list[dict], key: str) -> list:
        return [s[key] for s in runs]

    takeoff = median_later_than_end(col(ccf, "takeoff_years"))
    rows = [
        "| comparison | ixsim (20-seed median) | others' estimate |",
        "|---|---|---|",
        f"| ccf-like: 20% -> 100% of AI R&D automated | "
        f"{'unfinished' if math.isinf(takeoff) else f'{takeoff:.1f} years'} | "
        f"CAL-8: {CCF_TAKEOFF} |",
        f"| ccf-like: 100% of AI R&D automated | "
        f"{_date(col(ccf, 'rnd_automation_100_year'), end)} | CAL-8: AGI median {CCF_AGI} |",
    ]
    for level, when in AI2027_MULTIPLIERS.items():
        rows.append(f"| ai2027-like: R&D progress multiplier {level}x | "
                    f"{_date(col(ai27, f'progress_multiplier_{level}_year'), end)} | "
                    f"CAL-9: AI 2027 scenario, {when} |")
    return "\n".join(rows)


BLOCKS = {"run-output": run_block, "scenario-table": scenario_table,
          "peer-comparison": peer_comparison}


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
