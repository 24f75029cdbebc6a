"""Scenario schema, loader and overrides: every problem is one clear line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from ixsim.sim.scenario import (MAX_SCENARIO_BYTES, Scenario, ScenarioError, field_table,
                                load_scenario, parse_set_options, resolve_scenario,
                                scenario_names)
from tests.conftest import BASELINE, SCENARIOS


def _errors(tmp_path: Path, text: str | bytes) -> list[str]:
    path = tmp_path / "s.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value.lines()


# scenarios/sweeps/ holds sweep specs, not scenarios (tests/sweep/test_sweep_shipped.py)
@pytest.mark.parametrize("path", sorted(p for p in SCENARIOS.rglob("*.toml") if "sweeps" not in
                                       p.relative_to(SCENARIOS).parts), ids=lambda p: p.name)
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
    ("", "file holds no settings"),
    ("# only a comment\n\n", "file holds no settings"),
    ("x = [", "not valid TOML"),
    (b"\xff\xfe[meta]", "not UTF-8"),
    ("[software]\nreturns_r = nan\n", "software.returns_r: must be a finite number (got nan)"),
    ("[hardware]\ndepreciation_per_year = inf\n", "must be a finite number (got inf)"),
    ("[strategies.x.shares]\ntraining = 0.9\n", "strategies.x.shares: must sum to 1"),
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


def test_overrides_are_typed_values_on_dotted_paths():
    spec = load_scenario(BASELINE, {"software.returns_r": 2.5,
                                    "strategies.frontier.run_months": 6,
                                    "strategies.frontier.shares.training": 0.45,
                                    "strategies.frontier.shares.deployment": 0.2,
                                    "labs[0].researchers": 10, "labs.1.researchers": 20,
                                    "meta.name": "x y"})
    assert spec.software.returns_r == 2.5
    assert spec.strategies["frontier"].run_months == 6
    assert spec.strategies["frontier"].shares.training == 0.45
    assert spec.strategies["rsi_startup"].run_months == 3  # others keep their built-in values
    assert (spec.labs[0].researchers, spec.labs[1].researchers) == (10, 20)
    assert spec.meta.name == "x y"


def test_set_options_are_toml_literals():
    assert parse_set_options(["software.returns_r=2.5", "meta.name=\"x y\"", "meta.name=x y",
                              "labs[0].strategy=rsi_startup", "a.b = [1, 2]"]) == {
        "software.returns_r": 2.5, "meta.name": "x y", "labs[0].strategy": "rsi_startup",
        "a.b": [1, 2]}
    with pytest.raises(ScenarioError) as info:
        parse_set_options(["returns_r", "=1"])
    assert info.value.lines() == ["error: --set: expected dotted.path=value (got 'returns_r')",
                                  "error: --set: expected dotted.path=value (got '=1')"]


def test_numpy_values_work_as_overrides():
    spec = load_scenario(BASELINE, {"software.returns_r": np.float64(1.7),
                                    "meta.steps_per_year": np.int64(24),
                                    "tasks[6].review": np.bool_(True)})
    assert spec.software.returns_r == 1.7 and type(spec.software.returns_r) is float
    assert spec.meta.steps_per_year == 24 and type(spec.meta.steps_per_year) is int


@pytest.mark.parametrize("path,value,needle", [
    ("software.nope", 1, "software.nope: unknown field (got 1)"),
    ("softwre.returns_r", 1.5,
     "softwre.returns_r: unknown field; did you mean software.returns_r? (got 1.5)"),
    ("software.retuns_r", 1.5,
     "software.retuns_r: unknown field; did you mean software.returns_r?"),
    ("software.returns_r", "abc", "software.returns_r: input should be a valid number"),
    ("labs[9].name", "q", "labs[9].name: cannot set: index 9 is past the end"),
    ("strategies.frontier.run_months", 2.5,
     "strategies.frontier.run_months: input should be a valid integer"),
    ("software.returns_r.x", 1, "software.returns_r.x: has no field 'x'"),
    ("labs.name", "x", "labs.name: is a list: name an item by its index, as in labs[0].name"),
    ("software returns", 1, "software returns: not a dotted field path"),
])
def test_bad_overrides_name_the_path_and_the_problem_against_the_label(path, value, needle):
    with pytest.raises(ScenarioError) as info:
        load_scenario(BASELINE, {path: value}, overrides_label="--set")
    (line,) = info.value.lines()
    assert line.startswith(f"error: --set: {path}: ") and needle in line, line


def test_override_problems_are_reported_against_the_default_label():
    with pytest.raises(ScenarioError) as info:
        load_scenario(BASELINE, {"softwre.returns_r": 1.5})
    assert info.value.source == "overrides"
    assert str(BASELINE) not in str(info.value)


def test_a_name_resolves_to_the_shipped_scenario():
    assert resolve_scenario("baseline") == BASELINE
    assert resolve_scenario("my/own") == Path("my/own")
    assert resolve_scenario("own.toml") == Path("own.toml")
    assert load_scenario("baseline") == load_scenario(BASELINE)
    assert set(REQUIRED_SCENARIOS) <= set(scenario_names())
    assert scenario_names() == sorted(scenario_names())


def test_an_unknown_name_lists_the_available_ones():
    with pytest.raises(ScenarioError) as info:
        load_scenario("baseln")
    (line,) = info.value.lines()
    assert line.startswith("error: baseln: no such scenario file or name; did you mean baseline? "
                           "(available: ai2027-like, baseline, ")
    with pytest.raises(ScenarioError) as info:
        load_scenario("zzzz")
    assert "did you mean" not in str(info.value) and "(available: " in str(info.value)


def test_misspelt_field_in_a_file_gets_a_suggestion(tmp_path):
    lines = _errors(tmp_path, "[software]\nreturn_r = 2.0\n"
                              "[strategies.frontier]\nrace_respons = 1\n")
    assert any("software.return_r: unknown field; did you mean software.returns_r? (got 2.0)"
               in ln for ln in lines), lines
    assert any("strategies.frontier.race_respons: unknown field; did you mean "
               "strategies.frontier.race_response?" in ln for ln in lines), lines


def test_misspelt_strategy_is_an_error_in_a_file_and_an_override(tmp_path):
    (line,) = _errors(tmp_path, "[strategies.frontr]\nrace_response = 0.9\n")
    assert line == (f"error: {tmp_path / 's.toml'}: strategies.frontr: no lab uses this strategy; "
                    "did you mean frontier?")
    with pytest.raises(ScenarioError) as info:
        load_scenario(BASELINE, {"strategies.frontr.race_response": 0.9}, overrides_label="--set")
    assert info.value.lines() == [
        "error: --set: strategies.frontr: no lab uses this strategy; did you mean frontier?"]


def test_a_new_strategy_must_be_used_by_a_lab(tmp_path):
    (line,) = _errors(tmp_path, "[strategies.cautious]\nsafety_share = 0.3\n")
    assert "strategies.cautious: no lab uses this strategy; it changes nothing" in line
    path = tmp_path / "used.toml"
    path.write_text("[strategies.cautious]\nsafety_share = 0.3\n"
                    "[[labs]]\nname = 'a'\nstrategy = 'cautious'\n")
    assert load_scenario(path).strategies["cautious"].safety_share == 0.3


def test_a_loaded_scenario_is_immutable_and_overrides_make_a_new_one():
    base = load_scenario(BASELINE)
    with pytest.raises(ValidationError, match="frozen"):
        base.software.returns_r = 3.0
    with pytest.raises(ValidationError, match="frozen"):
        base.labs[0].researchers = 1.0
    with pytest.raises(ValidationError, match="frozen"):
        base.meta = base.meta
    new = load_scenario(BASELINE, {"software.returns_r": 3.0})
    assert new is not base and new.software.returns_r == 3.0 and base.software.returns_r == 1.2
    assert new.calibration_source["software.returns_r"] == "override: overrides"
    copy = base.model_copy(update={"meta": base.meta.model_copy(update={"end_year": 2030.0})})
    assert copy.meta.end_year == 2030.0 and base.meta.end_year != 2030.0
    assert copy.calibration_source == base.calibration_source


def test_the_scenario_loader_does_not_import_the_training_package():
    code = ("import sys, ixsim.sim.scenario, ixsim.sim.calibration, ixsim.sim.measured; "
            "ixsim.sim.scenario.load_scenario('baseline'); "
            "print(any(m.startswith('ixsim.training') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_set_values_are_one_toml_literal_checked_as_strictly_as_a_file():
    with pytest.raises(ScenarioError) as info:
        parse_set_options(["meta.name='x'\nbogus=1", "a=" + "[" * 100 + "]" * 100])
    assert info.value.lines() == [
        "error: --set: meta.name: a value is one TOML literal on one line (this one holds a "
        "line break) (got \"'x'\\nbogus=1\")",
        "error: --set: a: a value may nest at most 64 levels of [ and { (got '" + "[" * 56 + "...)"]
    for path, value, needle in [
        ("software.returns_r", "1.2", "input should be a valid number, not a string"),
        ("meta.steps_per_year", True, "input should be a valid integer, not true or false"),
        ("meta.start_year", False, "input should be a valid number"),
        ("tasks[6].review", 1, "input should be a valid boolean"),
    ]:
        with pytest.raises(ScenarioError) as info:
            load_scenario(BASELINE, {path: value}, overrides_label="--set")
        (line,) = info.value.lines()
        assert line.startswith(f"error: --set: {path}: {needle}"), line
    spec = load_scenario(BASELINE, parse_set_options(["meta.start_year=2024", "meta.end_year=2030"]))
    assert (spec.meta.start_year, type(spec.meta.start_year)) == (2024.0, float)


@pytest.mark.parametrize("path", ["labs[\u0661].name", "labs.\u0661.name", "labs[0]\n.name",
                                  "labs[0].na\nme", "a" + ".b" * 64])
def test_paths_take_ascii_indices_and_at_most_64_parts(path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(BASELINE, {path: "x"})
    (line,) = info.value.lines()
    assert "not a dotted field path" in line or "at most 64 parts" in line, line


def test_deep_override_values_from_the_api_are_refused_not_a_recursion_error():
    value: list = []
    for _ in range(5000):
        value = [value]
    with pytest.raises(ScenarioError, match="overrides: labs: a value may nest at most 64"):
        load_scenario(BASELINE, {"labs": value})


def test_end_year_must_be_on_the_step_grid_and_lab_steps_are_bounded():
    spec = load_scenario(BASELINE, {"meta.end_year": 2030.25, "meta.steps_per_year": 4})
    assert spec.meta.end_year == 2030.25
    with pytest.raises(ScenarioError) as info:
        load_scenario(BASELINE, {"meta.end_year": 2030.3})
    assert info.value.lines() == [
        "error: overrides: meta.end_year: 2030.3 is not a whole number of steps from "
        "meta.start_year 2023.0 at 12 steps a year (the nearest ends are 2030.25 and 2030.3333)"]
    labs = [{"name": f"l{i}"} for i in range(1000)]
    assert len(load_scenario(BASELINE, {"labs": labs, "networks.spillover.edges": [],
                                        "meta.end_year": 2048.0}).labs) == 1000  # 300,000 exactly
    with pytest.raises(ScenarioError, match=r"labs: 1000 labs x 312 steps = 312,000 lab-steps "
                                            r"exceeds the supported 300,000"):
        load_scenario(BASELINE, {"labs": labs, "networks.spillover.edges": [],
                                 "meta.end_year": 2049.0})


def test_extends_chains_of_the_limit_load_and_aliases_of_one_file_are_a_loop(tmp_path):
    from ixsim.sim.scenario import MAX_EXTENDS_DEPTH

    for i in range(MAX_EXTENDS_DEPTH):
        (tmp_path / f"c{i}.toml").write_text(f'extends = "c{i + 1}.toml"\n')
    (tmp_path / f"c{MAX_EXTENDS_DEPTH}.toml").write_text("[meta]\nname = 'end'\n")
    assert load_scenario(tmp_path / "c0.toml").meta.name == "end"
    (tmp_path / "alias.toml").symlink_to(tmp_path / "self.toml")
    (tmp_path / "self.toml").write_text('extends = "alias.toml"\n')
    (line,) = _errors_of(tmp_path / "self.toml")
    assert line.endswith("self.toml: extends: scenarios extend each other in a loop "
                         "(got 'alias.toml')"), line


def _errors_of(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value.lines()
