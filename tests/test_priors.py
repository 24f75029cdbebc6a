"""The uncertainty catalogue (data/priors.toml): it loads, bad files get one line naming the file
and field, the copula holds its correlations, draws are reproducible, every prior's support is
inside its schema range and the baseline runs at each prior's 5% and 95% quantile, every CAL row
it cites exists, the horizon-fit entries agree with their derivation, and docs/priors.md is
current."""

from __future__ import annotations

import math
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from ixsim.analysis import horizon_fit
from ixsim.analysis.priors import (EPS, PRIORS_PATH, PriorsError, load_priors,
                                   render_markdown)
from ixsim.sim import sources
from ixsim.sim.model import simulate
from ixsim.sim.scenario import field_table, load_scenario, with_overrides
from tests.conftest import ROOT

PRIORS_DOC = ROOT / "docs" / "priors.md"

# The parameters the issue names as contested (issue 10); the file may hold more.
CONTESTED = (
    "software.returns_r", "software.compute_rho", "software.beta", "software.labour_weight",
    "software.ceiling_oom", "capability.oom_per_horizon_doubling",
    "capability.reference_horizon_minutes", "capability.automation_reliability",
    "labour.review_ratio", "labour.task_rho", "labour.ai_parallel_exponent",
    "labour.handover_efolds_per_year", "investment.spend_growth_per_year",
    "investment.max_spend_share_of_gwp", "investment.value_capture_share",
    "investment.automated_task_productivity", "investment.max_spend_growth_per_year",
    "hardware.price_performance_growth_per_year", "hardware.price_performance_ceiling_oom",
    "regulators[0].lag_years", "regulators[1].lag_years", "regulators[2].lag_years",
    "regulators[3].lag_years", "regulators[4].lag_years",
)

# Priors whose median is not the baseline's value, and why (every other median is).
OFF_CENTRE = {
    "software.ceiling_oom": "uniform over CAL-7b's 6-16 OOM: median 11, baseline 10",
    "software.compute_rho": "truncated asymmetrically to -3..0.5: median -0.4, baseline 0",
    "investment.max_spend_growth_per_year": "cut below at 3.1: median 4.6, baseline 4",
    "regulators[2].lag_years": "uniform over CAL-11f's 3-6 months: median 0.375, baseline 0.4",
    "regulators[3].lag_years": "loguniform 1-4.3: median 2.07, baseline 2.0",
}


@pytest.fixture(scope="module")
def priors():
    return load_priors()


@pytest.fixture(scope="module")
def baseline():
    return load_scenario("baseline")


def _value(spec, name: str) -> float:
    node = spec
    for part in name.replace("]", "").split("."):
        key, _, index = part.partition("[")
        node = getattr(node, key)
        if index:
            node = node[int(index)]
    return float(node)


# --- the shipped catalogue ---------------------------------------------------------------------


def test_shipped_priors_cover_every_contested_parameter(priors):
    assert set(CONTESTED) <= set(priors.names)
    k = len(priors.names)
    assert len(priors.dists) == len(priors.sources) == k == len(set(priors.names))
    assert all(isinstance(d, stats.distributions.rv_frozen) for d in priors.dists)
    assert all(priors.sources), "every prior cites a CAL row or states an assumption"
    c = priors.correlation
    assert c.shape == (k, k) and np.array_equal(c, c.T) and np.all(np.diag(c) == 1.0)
    assert np.linalg.eigvalsh(c)[0] > 0.0


def test_baseline_regulators_are_the_ones_the_lag_priors_name(baseline):
    # the file's header: regulators[i] are the baseline's 0 US, 1 EU, 2 CN, 3 UK, 4 RoW
    assert [r.jurisdiction for r in baseline.regulators] == ["US", "EU", "CN", "UK", "RoW"]


def test_medians_are_the_baseline_values_except_where_stated(priors, baseline):
    for name, median in zip(priors.names, priors.median()):
        value = _value(baseline, name)
        if name in OFF_CENTRE:
            assert not math.isclose(median, value, rel_tol=0.01, abs_tol=1e-9), name
        else:
            assert math.isclose(median, value, rel_tol=0.01, abs_tol=1e-9), (name, median, value)


def test_published_priors_reproduce_their_rows(priors):
    # CAL-7b: median 1.2, ~60% above 1, range 0.4-3.6 as 5-95%
    r = priors["software.returns_r"].dist
    assert r.median() == pytest.approx(1.2, rel=1e-3)
    assert r.sf(1.0) == pytest.approx(0.61, abs=0.01)
    assert r.ppf([0.05, 0.95]) == pytest.approx([0.4, 3.6], rel=0.01)
    # CAL-2: 8-month halving, 95% CI 5-14 months
    # (lognormal at the published centre with the interval's width in log)
    halving = 12 * math.log(2) / priors["software.rate_per_year"].dist.ppf([0.975, 0.5, 0.025])
    assert halving[1] == pytest.approx(8.0, rel=0.01)
    assert halving[2] / halving[0] == pytest.approx(14.0 / 5.0, rel=0.01)
    # CAL-4a: 2.4x/yr, 95% CI 2.0-3.1 (lognormal at the centre: the ends within 4%)
    assert priors["investment.spend_growth_per_year"].dist.ppf([0.025, 0.5, 0.975]) == \
        pytest.approx([2.0, 2.4, 3.1], rel=0.04)
    # CAL-3a/3b: price-performance doubling 2.1 years, ML GPUs' 95% CI 1.54-3.13 in width
    doubling = math.log(2) / np.log(
        priors["hardware.price_performance_growth_per_year"].dist.ppf([0.975, 0.5, 0.025]))
    assert doubling[1] == pytest.approx(2.1, rel=0.01)
    assert 1 / doubling[0] - 1 / doubling[2] == pytest.approx(1 / 1.54 - 1 / 3.13, rel=0.01)
    # CAL-11b: the EU's three phase-in dates; CAL-11f: 3-6 months; CAL-7b: 6-16 OOM
    assert priors.support()[priors.names.index("regulators[1].lag_years")] == \
        pytest.approx((3.3, 5.3))
    assert priors.support()[priors.names.index("regulators[2].lag_years")] == \
        pytest.approx((0.25, 0.5))
    assert priors.support()[priors.names.index("software.ceiling_oom")] == pytest.approx((6, 16))


def test_utilisation_prior_keeps_the_published_spread_of_compute_growth(priors):
    """CAL-3c: utilisation is CAL-1a's compute growth over spending (CAL-4a) and hardware;
    the file's s and rhos follow from the published intervals, and the product of the three
    priors has CAL-1a's spread."""
    z90, z95 = stats.norm.ppf(0.95), stats.norm.ppf(0.975)
    c, c_lo, c_hi = sources.published_interval("1a")
    _, i_lo, i_hi = sources.published_interval("4a")
    _, p_lo, p_hi = sources.published_interval("3a", "ml_gpus")
    s_c = math.log(c_hi / c_lo) / (2 * z90)
    s_i = math.log(i_hi / i_lo) / (2 * z95)
    s_p = math.log(2) * (1 / p_lo - 1 / p_hi) / (2 * z95)
    s_u = math.sqrt(s_c ** 2 + s_i ** 2 + s_p ** 2)
    names = ("investment.spend_growth_per_year", "hardware.price_performance_growth_per_year",
             "hardware.utilisation_growth_per_year")
    for name, s in zip(names, (s_i, s_p, s_u)):
        assert priors[name].dist.kwds["s"] == pytest.approx(s, rel=0.01), name
    idx = [priors.names.index(n) for n in names]
    rho = priors.correlation
    assert rho[idx[0], idx[2]] == pytest.approx(-s_i / s_u, abs=0.01)
    assert rho[idx[1], idx[2]] == pytest.approx(-s_p / s_u, abs=0.01)
    assert rho[idx[0], idx[1]] == 0.0
    draws = priors.sample(20_000, seed=3)[:, idx]
    log_compute = np.log(draws).sum(axis=1)
    assert np.std(log_compute) == pytest.approx(s_c, rel=0.1)
    assert math.exp(np.median(log_compute)) == pytest.approx(c, rel=0.01)


def test_horizon_fit_entries_agree_with_their_derivation(priors):
    """The horizon mapping's s and correlations are what `python -m ixsim.analysis.horizon_fit`
    derives from the backtest's likelihood (re-derive and update the file when this fails)."""
    derived = horizon_fit.derive(priors)
    for name in horizon_fit.FREE:
        dist = priors[name].dist
        base = getattr(dist.dist, "_base", dist)  # a truncated prior: its lognormal before the cut
        kwds = base.kwds
        assert kwds["scale"] == pytest.approx(derived.centre[name])
        assert kwds["s"] == pytest.approx(derived.s[name], rel=0.03), name
    assert derived.birge > 1.0  # the rows scatter a little more than their intervals allow
    listed = {frozenset((c.a, c.b)): c.rho for c in priors.correlations
              if {c.a, c.b} & set(horizon_fit.FREE)}
    expected = {frozenset((a, b)): r for a, b, r in derived.entries()}
    assert set(listed) == set(expected)
    for pair, rho in expected.items():
        assert listed[pair] == pytest.approx(rho, abs=0.02), sorted(pair)


def test_every_cal_row_the_priors_cite_exists(priors):
    text = PRIORS_PATH.read_text(encoding="utf-8")
    cited = sources.cited_row_ids(text)
    assert len(cited) > 20
    assert all(sources.resolve_citation(row) for row in cited), [
        row for row in cited if not sources.resolve_citation(row)]
    for p in priors.priors:
        for row in sources.cited_row_ids(p.source):
            assert row in sources.calibration_rows(), (p.name, row)
    for c in priors.correlations:
        for row in sources.cited_row_ids(" ".join((c.how, c.source, c.assumption))):
            assert sources.resolve_citation(row), (c.a, c.b, row)


# --- the schema holds every prior --------------------------------------------------------------


def test_every_prior_support_is_inside_its_schema_range(priors, baseline):
    ranges = {row["name"]: (row["low"], row["high"]) for row in field_table()}
    for name, (low, high) in zip(priors.names, priors.support()):
        lo, hi = ranges[re.sub(r"\[[0-9]+\]", "[]", name)]
        assert lo <= low < high <= hi, (name, (low, high), (lo, hi))
        for end in (low, high):
            with_overrides(baseline, {name: end}, "priors")  # raises ScenarioError if refused


def test_values_from_the_cube_faces_stay_inside_the_support(priors):
    k = len(priors.names)
    u = np.vstack([np.zeros(k), np.ones(k), np.full(k, 0.5), np.eye(k)[0]])
    x = priors.ppf(u)
    for j, (low, high) in enumerate(priors.support()):
        assert np.all((x[:, j] >= low) & (x[:, j] <= high)), priors.names[j]


@pytest.mark.parametrize("q", [0.05, 0.95])
def test_baseline_runs_to_the_end_at_each_prior_quantile(priors, baseline, q):
    short = with_overrides(baseline, {"meta.end_year": 2030.0})
    for name, value in zip(priors.names, priors.quantile(q)):
        spec = with_overrides(short, {name: float(value)}, "priors")
        world = simulate(spec, seed=0).world
        assert world["time"][-1] == pytest.approx(2030.0), name
        for column in ("frontier_effective_flop", "frontier_horizon_minutes", "rnd_automation"):
            assert np.all(np.isfinite(world[column])), (name, q, column)


# --- ppf, sample, copula -----------------------------------------------------------------------


def test_sample_is_deterministic_in_n_and_seed(priors):
    a = priors.sample(500, seed=11)
    assert a.shape == (500, len(priors.names))
    assert np.array_equal(a, priors.sample(500, seed=11))
    assert not np.array_equal(a, priors.sample(500, seed=12))
    assert np.array_equal(priors.sample(0, seed=1), np.empty((0, len(priors.names))))


def test_copula_recovers_the_correlations_on_20000_draws(priors):
    x = priors.sample(20_000, seed=7)
    scores = np.column_stack([stats.norm.ppf(np.clip(d.cdf(x[:, j]), EPS, 1 - EPS))
                              for j, d in enumerate(priors.dists)])
    measured = np.corrcoef(scores, rowvar=False)
    assert np.max(np.abs(measured - priors.correlation)) < 0.03
    d = priors.names.index("capability.oom_per_horizon_doubling")
    h = priors.names.index("capability.reference_horizon_minutes")
    assert measured[d, h] == pytest.approx(priors.correlation[d, h], abs=0.02)
    assert priors.correlation[d, h] > 0.5  # the joint fit: a slower slope needs a higher level


def _write(tmp_path: Path, text: str, name: str = "priors.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


TWO = """
[[prior]]
name = "software.returns_r"
dist = "lognorm"
s = 0.5
scale = 1.2
source = "CAL-7b"
why = "test"

[[prior]]
name = "software.beta"
dist = "uniform"
low = 0.25
high = 1.0
assumption = "test"
why = "test"
"""


def test_copula_on_a_small_file_gives_its_rho_and_plain_ppf_without_one(tmp_path):
    plain = load_priors(_write(tmp_path, TWO, "plain.toml"))
    u = np.array([[0.1, 0.9], [0.5, 0.5], [0.975, 0.025]])
    expected = np.column_stack([plain.dists[0].ppf(u[:, 0]), plain.dists[1].ppf(u[:, 1])])
    assert np.allclose(plain.ppf(u), expected)
    assert np.array_equal(plain.correlation, np.eye(2))

    joint = load_priors(_write(tmp_path, TWO + """
[[correlation]]
a = "software.returns_r"
b = "software.beta"
rho = -0.6
how = "test"
""", "joint.toml"))
    x = joint.sample(20_000, seed=0)
    z = np.column_stack([stats.norm.ppf(joint.dists[j].cdf(x[:, j])) for j in range(2)])
    assert np.corrcoef(z, rowvar=False)[0, 1] == pytest.approx(-0.6, abs=0.02)
    # Spearman's rho of a Gaussian copula: (6 / pi) asin(rho / 2)
    spearman = stats.spearmanr(x[:, 0], x[:, 1]).statistic
    assert spearman == pytest.approx(6 / math.pi * math.asin(-0.3), abs=0.02)
    # the marginals are untouched by the copula
    assert np.median(x[:, 0]) == pytest.approx(1.2, rel=0.02)
    assert x[:, 1].min() >= 0.25 and x[:, 1].max() <= 1.0
    # a copula point with z = 0 is each marginal's median
    assert np.allclose(joint.ppf([[0.5, 0.5]]), [[1.2, 0.625]])


def test_ppf_refuses_points_outside_the_cube(priors):
    k = len(priors.names)
    with pytest.raises(ValueError, match=rf"\(n, {k}\)"):
        priors.ppf(np.full((3, k - 1), 0.5))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        priors.ppf(np.full((1, k), 1.5))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        priors.ppf(np.full((1, k), np.nan))


def test_truncated_priors_are_frozen_scipy_distributions_that_pickle(priors):
    r = priors["software.returns_r"].dist
    assert isinstance(r, stats.distributions.rv_frozen)
    assert r.support() == (0.05, 10.0)
    assert r.cdf(0.05) == 0.0 and r.cdf(10.0) == pytest.approx(1.0)
    again = pickle.loads(pickle.dumps(priors))
    assert np.array_equal(again.sample(50, seed=2), priors.sample(50, seed=2))


# --- bad files: one line naming the file, the field and the problem ----------------------------


def _entry(**fields) -> str:
    base = {"name": '"software.returns_r"', "dist": '"lognorm"', "s": "0.5", "scale": "1.2",
            "source": '"CAL-7b"', "why": '"test"'}
    base.update(fields)
    return "[[prior]]\n" + "".join(f"{k} = {v}\n" for k, v in base.items() if v is not None)


def _beta_entry() -> str:
    return ('[[prior]]\nname = "software.beta"\ndist = "uniform"\nlow = 0.25\nhigh = 1.0\n'
            'assumption = "test"\nwhy = "test"\n')


def _corr(a: str, b: str, rho: float) -> str:
    return f'[[correlation]]\na = "{a}"\nb = "{b}"\nrho = {rho}\nhow = "test"\n'


BAD_FILES = {
    "unknown dist": (_entry(dist='"lognormal"'), "prior[0] (software.returns_r).dist",
                     "unknown distribution 'lognormal'"),
    "did you mean": (_entry(dist='"lognormal"'), "prior[0] (software.returns_r).dist",
                     "did you mean lognorm?"),
    "negative shape": (_entry(s="-0.5"), "prior[0] (software.returns_r)",
                       "bad parameters for lognorm"),
    "zero-width uniform": (_entry(dist='"uniform"', s=None, scale=None, low="1.0", high="1.0"),
                           "prior[0] (software.returns_r)", "bad parameters for uniform"),
    "missing shape": (_entry(s=None), "prior[0] (software.returns_r).s", "missing"),
    "text parameter": (_entry(s='"wide"'), "prior[0] (software.returns_r).s",
                       "must be a finite number (got 'wide')"),
    "boolean parameter": (_entry(s="true"), "prior[0] (software.returns_r).s",
                          "must be a finite number (got True)"),
    "not a parameter": (_entry(sclae="1.0"), "prior[0] (software.returns_r).sclae",
                        "not a parameter of lognorm"),
    "unknown parameter name": (_entry(name='"software.retuns_r"'),
                               "prior[0] (software.retuns_r).name",
                               "unknown scenario parameter; did you mean software.returns_r?"),
    "not a number field": (_entry(name='"meta.name"'), "prior[0] (meta.name).name",
                           "unknown scenario parameter"),
    "missing name": (_entry(name=None), "prior[0].name", "missing"),
    "missing source and assumption": (_entry(source=None), "prior[0] (software.returns_r).source",
                                      "missing: cite the CAL row(s)"),
    "source without a row": (_entry(source='"Davidson 2025"'),
                             "prior[0] (software.returns_r).source", "cites no CAL row"),
    # the missing row is spelt in two parts so the repository-wide citation check skips it
    "no such row": (_entry(source='"CAL-' + '7z"'), "prior[0] (software.returns_r).source",
                    "CAL-" + "7z is not a row of data/calibration.toml"),
    "missing why": (_entry(why=None), "prior[0] (software.returns_r).why", "missing"),
    "empty truncation": (_entry(truncate_low="20.0", truncate_high="30.0"),
                         "prior[0] (software.returns_r).truncate_low", "holds no mass"),
    "listed twice": (_entry() + _entry(), "prior[1] (software.returns_r).name", "listed twice"),
    "no priors": ('title = "x"\n', "prior", "at least one [[prior]]"),
    "unknown top-level key": ('priors = 1\n' + _entry(), "priors", "unknown key"),
    "unknown correlation name": (_entry() + _beta_entry() + _corr("software.returns_r",
                                                                   "software.bta", 0.5),
                                 "correlation[0].b", "no prior named 'software.bta'"),
    "correlation out of range": (_entry() + _beta_entry() + _corr("software.returns_r",
                                                                   "software.beta", 1.0),
                                 "correlation[0].rho", "strictly between -1 and 1 (got 1.0)"),
    "self correlation": (_entry() + _corr("software.returns_r", "software.returns_r", 0.5),
                         "correlation[0].b", "cannot correlate with itself"),
    "pair twice": (_entry() + _beta_entry() + _corr("software.returns_r", "software.beta", 0.5)
                   + _corr("software.beta", "software.returns_r", 0.4),
                   "correlation[1]", "given twice"),
    "not positive definite": (
        _entry() + _beta_entry() + _entry(name='"software.ceiling_oom"')
        + _corr("software.returns_r", "software.beta", 0.9)
        + _corr("software.beta", "software.ceiling_oom", 0.9)
        + _corr("software.returns_r", "software.ceiling_oom", -0.9),
        "correlation", "not positive definite"),
    "not TOML": ("[[prior]\nname = 1\n", "", "not valid TOML"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_priors_file_gives_one_line_naming_file_and_field(tmp_path, case):
    text, field, problem = BAD_FILES[case]
    path = _write(tmp_path, text)
    with pytest.raises(PriorsError) as info:
        load_priors(path)
    line = str(info.value)
    assert "\n" not in line
    where = f"{path}: {field}: " if field else f"{path}: "
    assert line.startswith(f"error: {where}"), line
    assert problem in line, line


def test_missing_and_non_regular_priors_files_are_one_line(tmp_path):
    with pytest.raises(PriorsError, match=r"^error: .*nope\.toml: file not found$"):
        load_priors(tmp_path / "nope.toml")
    with pytest.raises(PriorsError, match=r"is a directory"):
        load_priors(tmp_path)


# --- the rendered doc ---------------------------------------------------------------------------


def test_priors_doc_is_current(priors):
    assert PRIORS_DOC.read_text(encoding="utf-8") == render_markdown(), (
        "docs/priors.md is stale: run `make priors-doc`")
    doc = render_markdown(priors)
    for p in priors.priors:
        assert f"| `{p.name}` | {p.spec} | " in doc
    for c in priors.correlations:
        assert f"| `{c.a}` | `{c.b}` | {c.rho:+.2f} | " in doc
