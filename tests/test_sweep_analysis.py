"""Sweep-store analysis: read-only SQL over the store (ixsim query), quantiles with censoring,
P(successor training by year) with Wilson intervals, Sobol indices that match Ishigami's
analytic values, Morris effects of a linear function, PRIM boxes, and the command line's
one-line errors. Stores are written in the engine's layout by tests/sweep_store.py."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ixsim.analysis import query as q
from ixsim.analysis import sensitivity as sa
from ixsim.cli.app import main
from tests.sweep_store import (ISHIGAMI, ISHIGAMI_S1, ISHIGAMI_ST, ishigami_store, manifest_for,
                               rows_for, write_store)

END = 2030.0


def tiny_store(directory):
    """Six runs of two lever sets: successor dates with two censored runs, one failed run."""
    names = ("software.returns_r",)
    unit = np.array([[0.1], [0.5], [0.9]])
    values = 0.5 + unit
    dates = {(0, 0): 2027.5, (1, 0): 2028.2, (2, 0): math.nan,
             (0, 1): 2028.9, (1, 1): math.nan, (2, 1): 2029.4}

    def outcome(x, seed_index, lever_set):
        sample = int(round((x[0] - 0.5) / 0.4))
        date = dates[(sample, lever_set)]
        return {"successor_training_year": None if math.isnan(date) else date,
                "censored_at": END if math.isnan(date) else None,
                "incidents_per_year": 2.0 + sample, "takeoff_years": 1.5}

    lever_sets = ({"policy.pause": False}, {"policy.pause": True})
    rows = rows_for(names, unit, values, outcome, lever_sets=lever_sets)
    rows[-1].update(status="failed", error="boom", successor_training_year=None)
    rows.append({**rows[0], "run_id": 6, "sample_id": 0, "seed_index": 1})  # seed 1 of sample 0
    manifest = manifest_for("monte-carlo", names, unit, lever_sets=lever_sets)
    return write_store(directory, manifest, rows)


@pytest.fixture
def tiny(tmp_path):
    return tiny_store(tmp_path / "store")


# --- query ---------------------------------------------------------------------------------

def test_query_reads_the_runs_view_with_dotted_columns_and_censored_as_null(tiny):
    result = q.run_query(tiny, 'SELECT lever_set, count(*) AS n, '
                               'count(successor_training_year) AS reached, '
                               'max("software.returns_r") AS r FROM runs '
                               "WHERE status = 'ok' GROUP BY lever_set ORDER BY lever_set")
    assert result.columns == ["lever_set", "n", "reached", "r"]
    assert result.rows == [(0, 4, 3, pytest.approx(1.4)), (1, 2, 1, pytest.approx(1.0))]
    described = q.run_query(tiny, "DESCRIBE runs")
    assert "u:software.returns_r" in [row[0] for row in described.rows]
    assert q.run_query(tiny, "SUMMARIZE runs").rows
    with_cte = q.run_query(tiny, "WITH a AS (SELECT run_id FROM runs) SELECT count(*) FROM a")
    assert with_cte.rows == [(7,)]


def test_nan_in_a_chunk_reads_as_null(tmp_path):
    names = ("a.x",)
    unit = np.array([[0.2], [0.8]])
    store = write_store(tmp_path / "s", manifest_for("monte-carlo", names, unit),
                        rows_for(names, unit, unit, lambda x, s, l: {
                            "successor_training_year": math.nan if x[0] > 0.5 else 2028.0}))
    rows = q.run_query(store, "SELECT successor_training_year IS NULL, "
                              "successor_training_year < 2029 FROM runs ORDER BY run_id").rows
    assert rows == [(False, True), (True, None)]


@pytest.mark.parametrize("sql", [
    "CREATE TABLE t AS SELECT * FROM runs", "DROP VIEW runs", "INSERT INTO runs VALUES (1)",
    "COPY runs TO 'out.csv'", "ATTACH 'x.db'", "SET threads = 1", "PRAGMA version",
    "SELECT 1; DROP VIEW runs", "UPDATE runs SET seed = 0", "EXPORT DATABASE 'x'",
    "INSTALL httpfs", "CALL pragma_version()",
])
def test_statements_that_are_not_a_single_select_are_refused(tiny, sql):
    with pytest.raises(q.QueryError, match="read-only|one statement"):
        q.run_query(tiny, sql)


def test_a_select_cannot_read_files_outside_the_store(tiny, tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text("a\n1\n")
    with pytest.raises(q.QueryError, match="disabled by configuration"):
        q.run_query(tiny, f"SELECT * FROM read_csv('{outside}')")


def test_bad_sql_and_a_folder_that_is_not_a_store_are_errors(tiny, tmp_path):
    with pytest.raises(q.QueryError, match="syntax error"):
        q.run_query(tiny, "SELEC 1")
    with pytest.raises(q.QueryError, match="nope"):
        q.run_query(tiny, "SELECT nope FROM runs")
    with pytest.raises(q.StoreError, match="no manifest.json"):
        q.run_query(tmp_path, "SELECT 1")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "manifest.json").write_text("{}")
    with pytest.raises(q.StoreError, match="no runs yet"):
        q.run_query(tmp_path / "empty", "SELECT 1")


def test_condition_mask_counts_censored_as_false(tiny):
    _, runs = q.load_runs(tiny)
    hit = q.condition_mask(runs, "successor_training_year < 2029")
    assert hit.tolist() == [True, True, False, True, False, False, True]
    with pytest.raises(q.QueryError, match="true or false"):
        q.condition_mask(runs, "successor_training_year + 1")
    with pytest.raises(q.QueryError, match="not found|nope"):
        q.condition_mask(runs, "nope < 3")
    with pytest.raises(q.QueryError):
        q.condition_mask(runs, "1) FROM runs; DROP VIEW runs; SELECT (1")


# --- distributions and P(by year) ------------------------------------------------------------

def test_wilson_interval_matches_the_closed_form():
    low, high = sa.wilson_interval(1, 4)
    assert (low, high) == (pytest.approx(0.0456, abs=1e-4), pytest.approx(0.6994, abs=1e-4))
    assert sa.wilson_interval(0, 10)[0] == 0.0 and sa.wilson_interval(10, 10)[1] == 1.0


def test_p_by_year_counts_censored_runs_as_not_yet_and_stops_at_the_end():
    dates = np.array([2027.5, 2028.2, np.nan, np.nan])
    rows = sa.p_by_year(dates, np.full(4, END))
    assert [r["year"] for r in rows] == [2027, 2028, 2029]  # 2030 ends after the runs do
    assert [r["p"] for r in rows] == [0.25, 0.5, 0.5]
    assert rows[0]["low"] == pytest.approx(0.0456, abs=1e-4)


def test_quantiles_of_censored_dates_read_later_than_the_end():
    dates = np.array([2027.5, 2028.2, np.nan, np.nan, 2029.0])
    s = sa.metric_summary(dates, np.full(5, END), censored=True)
    assert s["n"] == 5 and s["censored"] == 2
    assert s["q10"] == 2027.5 and s["q50"] == 2029.0 and s["q90"] == "> 2030"
    assert s["mean"] == f"> {(2027.5 + 2028.2 + 2029.0 + 2 * END) / 5:.6g}"
    plain = sa.metric_summary(np.array([1.0, np.nan, 3.0]), np.full(3, END), censored=False)
    assert plain["n"] == 2 and plain["mean"] == 2.0 and "censored" not in plain


def test_analysis_per_lever_set_leaves_failed_runs_out(tiny):
    manifest, runs = q.load_runs(tiny)
    doc = sa.analyze(runs, manifest)
    assert doc["metrics"] == ["successor_training_year", "takeoff_years", "incidents_per_year"]
    first, second = doc["distributions"]["by_lever_set"]
    assert first["levers"] == {"policy.pause": False} and first["n_ok"] == 4
    assert second["n_ok"] == 2 and second["n_failed"] == 1
    s = first["metrics"]["successor_training_year"]
    assert s["censored"] == 1 and s["q50"] == 2027.5 and s["q90"] == "> 2030"
    by_year = doc["successor_by_year"]["by_lever_set"]
    assert [r["p"] for r in by_year[0]["years"]] == [0.5, 0.75, 0.75]
    assert [r["p"] for r in by_year[1]["years"]] == [0.0, 0.5, 0.5]
    assert doc["sensitivity"] is None and doc["prim"] is None
    assert doc["end_year"] == END
    json.dumps(doc, allow_nan=False)


# --- sensitivity ---------------------------------------------------------------------------

def test_sobol_indices_of_ishigami_match_the_analytic_values(tmp_path):
    store = ishigami_store(tmp_path / "ishigami", n=2048)
    manifest, runs = q.load_runs(store)
    assert len(runs) == 2048 * 5 and len(list((store / "runs").iterdir())) == 3
    doc = sa.analyze(runs, manifest)
    result = doc["sensitivity"]["by_lever_set"][0]["outputs"]["y"]
    assert [p["name"] for p in result["parameters"]] == list(ISHIGAMI)
    for p, s1, st in zip(result["parameters"], ISHIGAMI_S1, ISHIGAMI_ST):
        assert p["S1"] == pytest.approx(s1, abs=0.03)
        assert p["ST"] == pytest.approx(st, abs=0.03)
        assert 0.0 < p["S1_conf"] < 0.1 and 0.0 < p["ST_conf"] < 0.1


def test_sobol_averages_the_seeds_of_each_sample(tmp_path):
    one = ishigami_store(tmp_path / "one", n=256)
    two = ishigami_store(tmp_path / "two", n=256, seeds=2, seed_offset=5.0)
    results = []
    for store in (one, two):
        manifest, runs = q.load_runs(store)
        results.append(sa.sobol_indices(runs, manifest, "y"))
    for a, b in zip(results[0]["parameters"], results[1]["parameters"]):
        assert b["S1"] == pytest.approx(a["S1"], abs=1e-9)
        assert b["ST"] == pytest.approx(a["ST"], abs=1e-9)


def test_a_broken_saltelli_design_is_reported_not_analysed(tmp_path):
    store = ishigami_store(tmp_path / "s", n=64)
    manifest, runs = q.load_runs(store)
    runs.loc[runs["sample_id"] == 3, "status"] = "failed"
    out = sa.sensitivity(runs, manifest, ["y"])["by_lever_set"][0]["outputs"]["y"]
    assert "1 of 320 samples have no value" in out["error"]


def test_morris_effects_of_a_linear_function(tmp_path):
    from SALib.sample import morris

    names = ("m.a", "m.b", "m.c")
    problem = {"num_vars": 3, "names": list(names), "bounds": [[0.0, 1.0]] * 3}
    unit = morris.sample(problem, 30, num_levels=4, seed=3)
    store = write_store(tmp_path / "m", manifest_for("morris", names, unit),
                        rows_for(names, unit, 10.0 * unit,
                                 lambda x, s, l: {"y": 0.2 * x[0] + 0.1 * x[1]}))
    manifest, runs = q.load_runs(store)
    out = sa.morris_indices(runs, manifest, "y")
    assert out["levels"] == 4 and out["trajectories"] == 30
    mu_star = [p["mu_star"] for p in out["parameters"]]  # per unit of the unit cube
    assert mu_star == [pytest.approx(2.0), pytest.approx(1.0), pytest.approx(0.0, abs=1e-12)]
    assert all(p["sigma"] == pytest.approx(0.0, abs=1e-9) for p in out["parameters"])
    assert all(p["sigma_conf"] == pytest.approx(0.0, abs=1e-9) for p in out["parameters"])


# --- PRIM ------------------------------------------------------------------------------------

def prim_store(directory, n=2000):
    names = ("a.x1", "a.x2", "a.x3")
    unit = np.random.default_rng(11).uniform(size=(n, 3))

    def outcome(x, seed_index, lever_set):  # successor training before 2029 iff x1 > 0.7
        return {"successor_training_year": 2028.0 + (0.7 - x[0]) if x[0] > 0.7 else
                (2035.0 if x[0] > 0.3 else None), "censored_at": None if x[0] > 0.3 else 2040.0}

    return write_store(directory, manifest_for("monte-carlo", names, unit),
                       rows_for(names, unit, unit, outcome))


def test_prim_finds_the_box_where_the_condition_holds(tmp_path):
    manifest, runs = q.load_runs(prim_store(tmp_path / "p"))
    condition = "successor_training_year < 2029"
    hit = q.condition_mask(runs, condition)
    assert hit.sum() == (runs["a.x1"] > 0.7).sum()
    prim = sa.analyze(runs, manifest, condition=condition, hit=hit)["prim"]
    assert prim["threshold"] == sa.PRIM_THRESHOLD and prim["inputs"] == ["a.x1", "a.x2", "a.x3"]
    box = prim["boxes"][0]
    assert box["coverage"] > 0.95 and box["density"] > 0.95
    (limit,) = box["limits"]
    assert limit["name"] == "a.x1" and limit["max"] is None
    assert limit["min"] == pytest.approx(0.7, abs=0.02)
    assert limit["qp_min"] < 1e-6


def test_prim_without_cases_of_interest_reports_no_box(tmp_path):
    manifest, runs = q.load_runs(prim_store(tmp_path / "p", n=200))
    hit = q.condition_mask(runs, "successor_training_year < 2000")
    prim = sa.prim_boxes(runs, manifest, hit)
    assert prim["boxes"] == [] and prim["note"] == "no run meets the condition"


# --- the command line ----------------------------------------------------------------------

def one_error_line(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_query_command_prints_a_table_or_csv(tiny, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["query", str(tiny), 'SELECT run_id, "software.returns_r", '
                 "successor_training_year FROM runs ORDER BY run_id LIMIT 3"]) == 0
    out = capsys.readouterr().out
    assert "software.returns_r" in out and "2027.5" in out and "NULL" in out
    assert "3 rows" in out and max(len(line) for line in out.splitlines()) <= 80
    assert main(["query", str(tiny), "SELECT run_id, successor_training_year FROM runs "
                 "ORDER BY run_id LIMIT 3", "--csv"]) == 0
    assert capsys.readouterr().out == ("run_id,successor_training_year\n0,2027.5\n1,2028.2\n2,\n")


def test_query_command_shows_a_wide_result_one_block_per_row_at_80_columns(tiny, capsys,
                                                                         monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["query", str(tiny), "SELECT * FROM runs ORDER BY run_id LIMIT 2"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "row 2" in out and "u:software.returns_r" in out and "2028.2" in out


def test_query_command_errors_are_one_line(tiny, tmp_path, capsys):
    assert "no manifest.json" in one_error_line(capsys, ["query", str(tmp_path), "SELECT 1"])
    assert "syntax error" in one_error_line(capsys, ["query", str(tiny), "SELEC 1"])
    assert "read-only" in one_error_line(capsys, ["query", str(tiny), "DROP VIEW runs"])


def test_analyze_command_writes_the_document_and_prints_the_tables(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    store = prim_store(tmp_path / "p", n=600)
    out = tmp_path / "analysis.json"
    assert main(["analyze", str(store), "--condition", "successor_training_year < 2029",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert set(doc) >= {"store", "runs", "distributions", "successor_by_year", "sensitivity",
                        "prim"}
    assert doc["prim"]["boxes"][0]["limits"][0]["name"] == "a.x1"
    for text in ("outcomes, lever set 0", "P(successor training", "Wilson", "box 1: coverage",
                 "a.x1", f"wrote {out}"):
        assert text in printed
    tables = [line for line in printed.splitlines()
              if not line.startswith(("ixsim analyze:", "PRIM on", "wrote "))]
    assert max(len(line) for line in tables) <= 80


def test_analyze_command_prints_sobol_indices(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    store = ishigami_store(tmp_path / "s", n=256)
    assert main(["analyze", str(store), "--out", str(tmp_path / "a.json")]) == 0
    printed = capsys.readouterr().out
    assert "Sobol indices" in printed and "ishigami.x3" in printed and "ST" in printed


def test_analyze_command_errors_are_one_line(tiny, tmp_path, capsys):
    out = str(tmp_path / "a.json")
    assert "--condition" in one_error_line(capsys, ["analyze", str(tiny), "--condition",
                                                    "nope < 2029", "--out", out])
    assert "--condition" in one_error_line(capsys, ["analyze", str(tiny), "--condition",
                                                    "successor_training_year <", "--out", out])
    assert "--metric" in one_error_line(capsys, ["analyze", str(tiny), "--metric", "nope",
                                                 "--out", out])
    assert "no manifest.json" in one_error_line(capsys, ["analyze", str(tmp_path), "--out", out])
    assert "--out" in one_error_line(capsys, ["analyze", str(tiny), "--out", str(tmp_path)])
    assert not (tmp_path / "a.json").exists()
