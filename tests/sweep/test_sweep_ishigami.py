"""The pipeline proved on a function with known answers: Ishigami's function (the ``ishigami``
sweep model) through the real Sobol sampler, the Dask executor, the store and ``ixsim analyze``
gives Sobol indices within 0.03 of the closed form; a spec for it is checked like any other."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ixsim.analysis.sweep import load_sweep, plan_for, run_sweep
from ixsim.analysis.sweep.models import ishigami, ishigami_indices
from tests.sweep.conftest import cli, one_error_line, write_spec

ISHIGAMI_SPEC = Path(__file__).with_name("ishigami.toml")
TOLERANCE = 0.03  # the issue's: SALib's estimate at N = 4096 is within ~0.003 of the truth
# The closed form, as the issue states it (Saltelli et al. 2008, section 4.8)
S1 = (0.314, 0.442, 0.0)
ST = (0.558, 0.442, 0.244)


def test_the_closed_form_is_the_textbooks():
    s1, st = ishigami_indices()
    assert s1 == pytest.approx(S1, abs=1e-3) and st == pytest.approx(ST, abs=1e-3)
    assert ishigami(1.0, 0.5, 2.0) == pytest.approx(
        0.8414709848 + 7 * 0.4794255386 ** 2 + 0.1 * 16 * 0.8414709848)


@pytest.mark.slow
def test_ishigami_through_sampler_executor_store_and_analyze_matches_the_closed_form(
        tmp_path, capsys):
    from dask.distributed import Client, LocalCluster

    sweep = load_sweep(ISHIGAMI_SPEC)
    n_runs = plan_for(sweep).n_runs
    assert n_runs == 4096 * (3 + 2)
    store = tmp_path / "ishigami"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=None, silence_logs=40) as cluster, \
            Client(cluster, set_as_default=False) as client:
        outcome = run_sweep(sweep, store, client=client)
    assert outcome.status == {"ok": n_runs}
    manifest = json.loads((store / "manifest.json").read_text())
    assert (manifest["model"], manifest["base_scenario"], manifest["complete"]) == (
        "ishigami", None, True)
    assert manifest["outputs"]["metrics"] == ["y"]

    code, out, err = cli(capsys, "analyze", str(store), "--json", "--out",
                         str(tmp_path / "analysis.json"))
    assert code == 0, err
    (entry,) = json.loads(out)["sensitivity"]["by_lever_set"]
    indices = entry["outputs"]["y"]
    assert indices["samples"] == n_runs
    assert [p["name"] for p in indices["parameters"]] == ["x1", "x2", "x3"]
    for p, s1, st in zip(indices["parameters"], S1, ST):
        assert abs(p["S1"] - s1) < TOLERANCE, p
        assert abs(p["ST"] - st) < TOLERANCE, p
        # SALib's bootstrap treats the quasi-random points as random: its intervals (about
        # 0.03 here) are wider than the estimate's real error
        assert 0 < p["S1_conf"] < 0.1 and 0 < p["ST_conf"] < 0.1, p


def test_a_run_of_the_ishigami_store_is_the_function_at_its_row(tmp_path):
    from dask.distributed import Client, LocalCluster

    from ixsim.analysis.query import load_runs

    sweep = load_sweep(write_spec(tmp_path, SPEC_TEXT))
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None,
                      silence_logs=40) as cluster, Client(cluster, set_as_default=False) as client:
        run_sweep(sweep, tmp_path / "s", client=client)
    _, runs = load_runs(tmp_path / "s")
    assert len(runs) == 8 * 2
    for row in runs.itertuples():
        assert row.y == ishigami(row.x1, row.x2, 1.0)
    assert sorted(set(runs["x2"])) == [0.0, 1.5]  # a lever of the model's parameters


SPEC_TEXT = """
[sweep]
name = "ishigami-small"
model = "ishigami"
samples = 8
chunk_size = 5
[uncertainties]
x1 = { dist = "uniform", low = -3.0, high = 3.0 }
[levers]
x2 = [0.0, 1.5]
[constants]
x3 = 1.0
"""


def _bad(tmp_path, capsys, text: str) -> str:
    spec = write_spec(tmp_path, text)
    code, _, err = cli(capsys, "sweep", str(spec), "--out", str(tmp_path / "out"))
    line = one_error_line(code, err)
    assert line.startswith(f"error: {spec}: "), line
    assert not (tmp_path / "out").exists()
    return line


@pytest.mark.parametrize("change, expected", [
    (('model = "ishigami"', 'model = "ishigame"'),
     "sweep.model: unknown model 'ishigame'; did you mean ishigami? (known: ixsim, ishigami)"),
    (("x1 = {", "x4 = {"), "uncertainties.x4: not a parameter of the ishigami model (it takes "
                           "x1, x2, x3)"),
    (("x3 = 1.0", "software.returns_r = 1.0"), "constants.software.returns_r: not a parameter "
                                               "of the ishigami model"),
    (("x3 = 1.0", ""), "sweep.model: the ishigami model takes x3 too: give each as an "
                       "uncertainty, a lever or a constant"),
    (('model = "ishigami"', 'model = "ishigami"\nbase = "baseline"'),
     "sweep.base: the ishigami model runs no scenario: leave base out"),
    (("[constants]", '[outputs]\nseries = ["rnd_automation"]\n[constants]'),
     "outputs.series: the ishigami model has no world series"),
    (("x2 = [0.0, 1.5]", 'x2 = ["a", "b"]'), "levers.x2: the ishigami model takes numbers"),
    (('x1 = { dist = "uniform", low = -3.0, high = 3.0 }', "from_catalogue = true"),
     "uncertainties: the catalogue's parameters are a scenario's"),
    (('model = "ishigami"', ""), "sweep.base: required field is missing"),
])
def test_a_model_spec_problem_is_one_line(tmp_path, capsys, change, expected):
    old, new = change
    assert old in SPEC_TEXT
    assert expected in _bad(tmp_path, capsys, SPEC_TEXT.replace(old, new))


def test_the_default_model_keeps_the_spec_hash(tmp_path):
    from tests.sweep.conftest import SMALL

    plain = load_sweep(write_spec(tmp_path, SMALL, "plain.toml"))
    named = load_sweep(write_spec(tmp_path, SMALL.replace('name = "small"',
                                                          'name = "small"\nmodel = "ixsim"'),
                                  "named.toml"))
    assert plain.model == named.model == "ixsim"
    assert plain.spec_hash == named.spec_hash and "model" not in plain.spec["sweep"]
