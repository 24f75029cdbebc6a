"""The published sources ship in the repository: every cited CAL row resolves, the rendered doc
is current, the table matches ../shared/CALIBRATION.md, and the observations are well formed."""

from __future__ import annotations

import datetime
import re
import subprocess

import pytest

from ixsim.analysis import backtest
from ixsim.sim import sources
from ixsim.sim.scenario import field_table
from tests.conftest import ROOT

SHARED_CALIBRATION = ROOT.parent / "shared" / "CALIBRATION.md"
CALIBRATION_DOC = ROOT / "docs" / "calibration.md"
NOT_SCANNED = {"docs/calibration.md", "CHANGELOG.md"}  # the rendering itself; history
SKIP_DIRS = {".git", ".venv", "build", "out", "node_modules"}
HELD_OUT_FROM = datetime.date(2025, 5, 1)  # METR horizon and frontier compute after Apr 2025


def _tracked_text_files() -> list[str]:
    """Tracked *.py, *.toml and *.md files (a walk of the tree where git is unavailable)."""
    try:
        listed = subprocess.run(["git", "ls-files", "*.py", "*.toml", "*.md"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        listed = [p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*")
                  if p.suffix in {".py", ".toml", ".md"} and p.is_file()
                  and not SKIP_DIRS & set(p.relative_to(ROOT).parts)
                  and not p.relative_to(ROOT).parts[0].endswith(".egg-info")]
    return sorted(f for f in listed if f not in NOT_SCANNED and (ROOT / f).is_file())


def test_cited_row_ids_parse_lists_and_shorthand():
    assert sources.cited_row_ids("CAL-1a x CAL-2; CAL-3a, CAL-3b") == ["1a", "2", "3a", "3b"]
    assert sources.cited_row_ids("lags (CAL-11b/c/f); CAL-11c/11e") == ["11b", "11c", "11f",
                                                                         "11c", "11e"]
    assert sources.cited_row_ids("CAL-n rows") == []
    assert sources.resolve_citation("CAL-6") == ["6a", "6b", "6c"]
    assert sources.resolve_citation("6d") == []


def test_every_cal_row_cited_in_the_repository_resolves():
    unresolved = []
    count = 0
    for name in _tracked_text_files():
        text = (ROOT / name).read_text(encoding="utf-8", errors="replace")
        for row_id in sources.cited_row_ids(text):
            count += 1
            if not sources.resolve_citation(row_id):
                unresolved.append(f"{name}: CAL-{row_id}")
    assert count > 50, "expected the scenarios, code and docs to cite CAL rows"
    assert not unresolved, f"not in data/calibration.toml: {unresolved}"


def test_every_schema_source_resolves():
    cited = [(row["name"], row_id) for row in field_table()
             for row_id in sources.cited_row_ids(row["source"])]
    assert cited
    missing = [(name, row_id) for name, row_id in cited if row_id not in sources.calibration_rows()]
    assert not missing, missing


def test_calibration_doc_is_current():
    assert CALIBRATION_DOC.read_text(encoding="utf-8") == sources.render_markdown(), (
        "docs/calibration.md is stale: run `make calibration-doc`")


def test_rendered_doc_has_every_row_citation_and_observation_source():
    doc = sources.render_markdown()
    assert doc.startswith("<!-- Generated") and "make calibration-doc" in doc.splitlines()[0]
    for row in sources.calibration_rows().values():
        assert f"| {row.cite} | " in doc and row.source in doc
    for obs in sources.observations():
        assert f"| {obs.date.isoformat()} | {obs.quantity} | " in doc and obs.source in doc
    assert "never as calibration targets" in doc and "Derived consistency targets" in doc


def _shared_rows() -> dict[str, list[str]]:
    rows = {}
    for line in SHARED_CALIBRATION.read_text(encoding="utf-8").splitlines():
        if re.match(r"^\| \d+[a-z]? \|", line):
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            rows[cells[0]] = cells[1:]
    return rows


def test_calibration_table_agrees_with_shared_calibration_md():
    if not SHARED_CALIBRATION.exists():
        pytest.skip("../shared/CALIBRATION.md is not beside this checkout; the in-repo table is "
                    "checked by the other tests")
    shared = _shared_rows()
    ours = sources.calibration_rows()
    assert list(ours) == list(shared)
    for row_id, row in ours.items():
        assert [row.quantity, row.value, row.range, row.units, row.source, row.conf] == \
            shared[row_id], row_id


def test_calibration_rows_have_text_and_only_stated_numbers():
    rows = sources.calibration_rows()
    assert len(rows) >= 30 and "1a" in rows and "13a" in rows
    for row in rows.values():
        assert row.quantity and row.value and row.range and row.units and row.source and row.conf
        for name, x in row.numbers.items():
            assert isinstance(x, float), (row.id, name)
        if any(name.endswith(("low", "high")) for name in row.numbers):
            assert row.interval, row.id
    assert sources.published("1a") == 4.7
    assert sources.published_interval("3a", "ml_gpus") == (2.07, 1.54, 3.13)
    assert sources.published("CAL-6b", "alpha_se") == 0.02
    with pytest.raises(KeyError, match="no number 'typo'"):
        sources.published("1a", "typo")
    with pytest.raises(KeyError, match="no calibration row"):
        sources.calibration_row("99z")


def test_observations_parse_with_sources_and_ordered_intervals():
    obs = sources.observations()
    assert len(obs) >= 20
    for o in obs:
        assert isinstance(o.date, datetime.date)
        assert o.quantity and o.subject and o.units and o.source and o.conf in {"Y", "S"}, o
        if o.value is not None and o.low is not None:
            assert o.low <= o.value, o
        if o.value is not None and o.high is not None:
            assert o.value <= o.high, o
    raw = sources.OBSERVATIONS_PATH.read_text(encoding="utf-8").splitlines()
    dates = [line.split(",", 1)[0] for line in raw[1:] if line and not line.startswith(("#", "date,"))]
    assert len(dates) == len(obs)
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in dates), dates
    gpt4 = [o for o in obs if o.quantity == "metr_p50_horizon" and o.subject == "GPT-4"]
    assert gpt4 and gpt4[0].value == 3.99 and gpt4[0].sota


def test_observations_hold_out_metr_horizons_and_frontier_compute_after_april_2025():
    late = [o for o in sources.observations()
            if o.quantity in {"metr_p50_horizon", "training_flop"} and o.date >= HELD_OUT_FROM]
    assert not late, late


def test_backtest_constants_come_from_the_table():
    assert backtest.CAL_1A == (4.7, 4.3, 5.2)
    assert backtest.CAL_1B == (4.0, 5.0)
    assert backtest.CAL_2 == (8.0, 5.0, 14.0)
    assert backtest.CAL_3A_ML == (2.07, 1.54, 3.13)
    assert backtest.CAL_3B_PRICE_PERFORMANCE == 2.1
    assert backtest.CAL_4A == (2.4, 2.0, 3.1)
    assert backtest.CAL_4B == 2.1e25
    assert backtest.CAL_5A == 7.0
    assert backtest.CAL_5B == (4.0, 6.0)
    assert backtest.CAL_6A == {"alpha": 0.34, "beta": 0.28}
    assert backtest.CAL_6B == {"alpha": (0.3478, 0.02), "beta": (0.3658, 0.02)}
    assert backtest.CAL_7A_VISION == (1.4, 0.8, 2.4)
    assert backtest.CAL_7B == (1.2, 0.4, 3.6)
    assert backtest.CAL_1A == sources.published_interval("1a")
