"""Scenario schema, loader and overrides: every problem is one clear line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ixsim.sim.scenario import MAX_SCENARIO_BYTES, Scenario, ScenarioError, field_table, load_scenario
from tests.conftest import BASELINE, ROOT, SCENARIOS


def _errors(tmp_path: Path, text: str | bytes, overrides=None) -> list[str]:
    path = tmp_path / "s.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    return info.value.lines()


@pytest.mark.parametrize("path", sorted(SCENARIOS.rglob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_scenario_validates(path):
    spec = load_scenario(path)
    assert spec.meta.description


def test_defaults_are_a_valid_scenario():
    assert Scenario().software.returns_r == 1.2


def test_every_number_has_units_range_and_a_source_or_assumption():
    rows = field_table()
    assert len(rows) > 40
    for row in rows:
        assert row["units"], row["name"]
        assert row["low"] is not None and row["high"] is not None, row["name"]
        assert row["source"] or row["assumption"], row["name"]
        assert row["low"] <= row["default"] <= row["high"], row["name"]


def test_cited_calibration_rows_exist():
    cal = ROOT.parent / "shared" / "CALIBRATION.md"
    if not cal.exists():
        pytest.skip("../shared/CALIBRATION.md is not beside this checkout")
    rows = set(re.findall(r"^\| (\d+[a-z]?) \|", cal.read_text(), flags=re.M))
    cited = set()
    for row in field_table():
        cited.update(re.findall(r"CAL-(\d+[a-z]?)", row["source"]))
    for path in SCENARIOS.rglob("*.toml"):
        cited.update(re.findall(r"CAL-(\d+[a-z]?)", path.read_text()))
    assert cited and cited <= rows, cited - rows


REQUIRED_SCENARIOS = ("baseline", "us-china-race", "coordinated-pause", "compute-governance",
                      "slow-takeoff", "software-intelligence-explosion", "rsi-startup",
                      "open-weights-diffusion", "ccf-like", "ai2027-like")


def test_the_named_scenarios_exist_with_descriptions():
    for name in REQUIRED_SCENARIOS:
        spec = load_scenario(SCENARIOS / f"{name}.toml")
        assert spec.meta.name == name
        assert len(spec.meta.description) > 80


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.name)
def test_scenario_numbers_each_cite_a_row_or_an_assumption(path):
    section_note = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            section_note = stripped
            continue
        if re.match(r"^[A-Za-z_]+\s*=\s*[-+0-9.]", stripped):
            note = stripped + " " + section_note
            assert "CAL-" in note or "assumption" in note, line


def test_a_scenario_extends_another_and_overrides_what_it_names(tmp_path):
    (tmp_path / "parent.toml").write_text('[meta]\nname = "p"\n[software]\nreturns_r = 2.0\n'
                                          'beta = 0.4\n')
    (tmp_path / "child.toml").write_text('extends = "parent.toml"\n[software]\nbeta = 0.3\n')
    spec = load_scenario(tmp_path / "child.toml")
    assert (spec.meta.name, spec.software.returns_r, spec.software.beta) == ("p", 2.0, 0.3)


def test_extends_loops_and_missing_parents_are_errors(tmp_path):
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    with pytest.raises(ScenarioError, match="extends: .*loop"):
        load_scenario(tmp_path / "a.toml")
    (tmp_path / "c.toml").write_text('extends = "missing.toml"\n')
    with pytest.raises(ScenarioError, match=r"c.toml: extends: .*missing.toml: file not found"):
        load_scenario(tmp_path / "c.toml")


def test_unknown_key_wrong_type_and_range_are_one_line_each(tmp_path):
    lines = _errors(tmp_path, "[software]\nreturns_r = -1\nbogus = 2\n[meta]\nend_year = 'x'\n")
    assert len(lines) == 3
    assert any("software.returns_r: input should be greater than or equal to 0.05 (got -1)" in ln
               for ln in lines)
    assert any("software.bogus: unknown field" in ln for ln in lines)
    assert any(ln.startswith(f"error: {tmp_path / 's.toml'}: meta.end_year:") for ln in lines)


@pytest.mark.parametrize("text,needle", [
    ("", "file is empty"),
    ("x = [", "not valid TOML"),
    (b"\xff\xfe[meta]", "not UTF-8"),
    ("[software]\nreturns_r = nan\n", "software.returns_r: must be a finite number (got nan)"),
    ("[hardware]\ndepreciation_per_year = inf\n", "must be a finite number (got inf)"),
    ("[strategies.x.shares]\ntraining = 0.9\n", "strategies.x.shares: shares must sum"),
    ("[[labs]]\nname = 'a'\nstrategy = 'nope'\n", "labs[0].strategy: unknown strategy 'nope'"),
    ("[[labs]]\nname = 'a'\n[[labs]]\nname = 'a'\n", "labs: names must be unique"),
    ("[meta]\nstart_year = 2030\nend_year = 2025\n", "meta.end_year: must be after start_year"),
])
def test_bad_files_are_refused_with_a_reason(tmp_path, text, needle):
    lines = _errors(tmp_path, text)
    assert any(needle in ln for ln in lines), lines
    assert all(ln.startswith("error: ") and "\n" not in ln for ln in lines)


def test_huge_and_missing_files_are_refused(tmp_path):
    assert "too large" in _errors(tmp_path, "#" * (MAX_SCENARIO_BYTES + 1))[0]
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario(tmp_path / "missing.toml")


def test_overrides_are_parsed_by_the_field_type():
    spec = load_scenario(BASELINE, ["software.returns_r=2.5", "strategies.frontier.run_months=6",
                                    "strategies.frontier.shares.training=0.45",
                                    "strategies.frontier.shares.deployment=0.2",
                                    "labs.0.researchers=10", "meta.name=\"x y\""])
    assert spec.software.returns_r == 2.5
    assert spec.strategies["frontier"].run_months == 6
    assert spec.strategies["frontier"].shares.training == 0.45
    assert spec.strategies["rsi_startup"].run_months == 3  # others keep their built-in values
    assert spec.labs[0].researchers == 10
    assert spec.meta.name == "x y"


@pytest.mark.parametrize("override,needle", [
    ("software.nope=1", "software.nope: unknown field"),
    ("software.returns_r=abc", "software.returns_r: input should be a valid number"),
    ("labs[9].name=q", "labs[9].name: cannot set: index 9 is past the end"),
    ("returns_r", "--set: expected dotted.path=value"),
    ("strategies.frontier.run_months=2.5",
     "strategies.frontier.run_months: input should be a valid integer"),
    ("software.returns_r.x=1", "software.returns_r.x: has no field 'x'"),
])
def test_bad_overrides_name_the_path_and_the_problem(override, needle):
    with pytest.raises(ScenarioError) as info:
        load_scenario(BASELINE, [override])
    assert any(needle in ln for ln in info.value.lines()), info.value.lines()
