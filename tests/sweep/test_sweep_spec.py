"""Sweep specs are checked like scenarios: every problem is one line naming the file, the
field and the problem, exit status 2, before anything runs."""

from __future__ import annotations

import pytest

from ixsim.analysis.sweep import SweepError, load_sweep
from tests.sweep.conftest import SMALL, cli, one_error_line, write_spec


def _bad(tmp_path, capsys, text: str) -> str:
    spec = write_spec(tmp_path, text)
    code, out, err = cli(capsys, "sweep", str(spec), "--out", str(tmp_path / "out"))
    line = one_error_line(code, err)
    assert line.startswith(f"error: {spec}: "), line
    assert not (tmp_path / "out").exists()  # refused before anything was written
    return line


def test_unknown_field_is_one_line_with_a_suggestion(tmp_path, capsys):
    line = _bad(tmp_path, capsys, SMALL.replace("seeds_per_sample = 2", "seeds_per_sampel = 2"))
    assert "sweep.seeds_per_sampel: unknown field; did you mean seeds_per_sample?" in line


def test_unknown_parameter_names_the_uncertainty(tmp_path, capsys):
    line = _bad(tmp_path, capsys, SMALL.replace('"software.returns_r" =', '"software.returns" ='))
    assert "uncertainties.software.returns: not a number of the scenario schema; did you mean " \
           "software.returns_r?" in line


def test_support_outside_the_parameters_range_is_refused(tmp_path, capsys):
    line = _bad(tmp_path, capsys, SMALL.replace("low = -1.0, high = 0.3", "low = -1.0, high = 1.5"))
    assert "uncertainties.software.compute_rho: uniform(low=-1, high=1.5) reaches 1.5" in line
    assert "outside the parameter's range -20..0.9" in line


def test_unbounded_distribution_is_checked_at_its_extreme_quantiles(tmp_path, capsys):
    # lognorm(s=0.5, scale=1.2) has no upper bound: its 1 - 1e-9 quantile, 1.2 e^(0.5 x 6.0),
    # is 24, above returns_r's 10 (the catalogue truncates it for that reason)
    line = _bad(tmp_path, capsys, SMALL.replace("s = 0.2, scale = 1.2", "s = 0.5, scale = 1.2"))
    assert "uncertainties.software.returns_r: lognorm(s=0.5, scale=1.2) reaches 24.0762 (the " \
           "highest value it can draw), outside the parameter's range 0.05..10" in line
    ok = SMALL.replace("s = 0.2, scale = 1.2", "s = 0.5, scale = 1.2, truncate_high = 10.0")
    assert load_sweep(write_spec(tmp_path, ok, "ok.toml")).parameters[0] == "software.returns_r"


def test_bad_sampler_lists_the_samplers(tmp_path, capsys):
    line = _bad(tmp_path, capsys, SMALL.replace('"monte-carlo"', '"montecarlo"'))
    assert "sweep.sampler: input should be 'monte-carlo', 'latin-hypercube', 'sobol', 'morris' " \
           "or 'grid' (got 'montecarlo')" in line


@pytest.mark.parametrize("change, expected", [
    (('"lognorm"', '"lognormal"'),
     "uncertainties.software.returns_r.dist: unknown distribution (a continuous scipy.stats "
     "distribution); did you mean lognorm?"),
    (("s = 0.2,", "sigma = 0.2,"), "uncertainties.software.returns_r.sigma: not a parameter of "
                                   "lognorm (it takes s, loc, scale)"),
    (('"strategies.frontier.race_response" = [0.0, 1.0]',
      '"strategies.frontier.race_response" = [0.0, 1.5]'),
     "levers.strategies.frontier.race_response[1]: input should be less than or equal to 1"),
    (('"strategies.frontier.race_response" = [0.0, 1.0]', '"meta.end_year" = [2030.0, 2035.0]'),
     "levers.meta.end_year: the time grid (meta.*) is one for the whole sweep"),
    (('"software.compute_rho" = { dist = "uniform", low = -1.0, high = 0.3 }',
      '"strategies.frontier.run_months" = { dist = "uniform", low = 2.0, high = 6.0 }'),
     "uncertainties.strategies.frontier.run_months: is a whole number (months): give it as a "
     "lever"),
    (('sampler = "monte-carlo"\nsamples = 12', 'sampler = "sobol"\nsamples = 12'),
     "sweep.samples: sobol (Saltelli) needs a power of 2 base samples, such as 8 or 16 (got 12)"),
    (('base = "baseline"', 'base = "baselin"'),
     "sweep.base: baselin: no such scenario file or name; did you mean baseline?"),
    (('"meta.end_year" = 2035.0', '"meta.end_year" = 2035.05'),
     "constants: meta.end_year: 2035.05 is not a whole number of steps"),
    (('series = ["frontier_horizon_minutes"', 'series = ["horizon"'),
     "outputs.series: unknown world series 'horizon'"),
])
def test_each_spec_problem_is_one_line(tmp_path, capsys, change, expected):
    old, new = change
    assert old in SMALL
    assert expected in _bad(tmp_path, capsys, SMALL.replace(old, new))


def test_a_lever_set_that_is_no_valid_scenario_is_refused(tmp_path):
    spec = write_spec(tmp_path, SMALL.replace(
        '"strategies.frontier.race_response" = [0.0, 1.0]',
        '"regulators[0].initial_level" = ["reporting", "licensing"]\n'
        '"regulators[0].max_level" = ["evaluations", "pause"]'))
    with pytest.raises(SweepError) as info:
        load_sweep(spec)
    (line,) = info.value.lines()
    assert "levers: the lever set {regulators[0].initial_level = 'licensing', " \
           "regulators[0].max_level = 'evaluations'} is not a valid scenario: " \
           "regulators[0].max_level: must not be below initial_level (licensing)" in line


def test_bad_options_are_one_line(tmp_path, capsys, small_spec):
    code, _, err = cli(capsys, "sweep", str(small_spec), "--out", str(tmp_path / "o"),
                       "--scheduler", "somewhere")
    assert "--scheduler: expected local or an address" in one_error_line(code, err)
    code, _, err = cli(capsys, "sweep", str(small_spec), "--out", str(tmp_path / "o"),
                       "--scheduler", "tcp://127.0.0.1:1", "--workers", "3")
    assert "--workers: only with --scheduler local" in one_error_line(code, err)
    code, _, err = cli(capsys, "sweep", "no-such-sweep", "--out", str(tmp_path / "o"))
    assert "no such sweep spec file or name" in one_error_line(code, err)


def test_a_non_empty_folder_is_refused_without_resume(tmp_path, capsys, small_spec):
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "notes.txt").write_text("mine")
    code, _, err = cli(capsys, "sweep", str(small_spec), "--out", str(tmp_path / "o"))
    assert one_error_line(code, err) == (f"error: {tmp_path / 'o'}: is not empty; --resume "
                                         "continues the sweep there, or name another folder")
    code, _, err = cli(capsys, "sweep", str(small_spec), "--out", str(tmp_path / "o"), "--resume")
    assert "holds no manifest.json: not a sweep to resume" in one_error_line(code, err)


def test_samples_option_replaces_the_specs_and_is_part_of_it(small_spec):
    a, b = load_sweep(small_spec), load_sweep(small_spec, samples=5)
    assert (a.samples, b.samples) == (12, 5)
    assert a.spec_hash != b.spec_hash
    assert load_sweep(small_spec).spec_hash == a.spec_hash  # a pure function of the spec


def test_unquoted_dotted_keys_mean_the_same_parameter(tmp_path, small_spec):
    text = SMALL.replace('"software.returns_r" = { dist = "lognorm", s = 0.2, scale = 1.2 }',
                         'software.returns_r = { dist = "lognorm", s = 0.2, scale = 1.2 }')
    assert load_sweep(write_spec(tmp_path, text)).spec_hash == load_sweep(small_spec).spec_hash
