"""The uncertainty catalogue: a prior distribution for every contested scenario parameter.

``data/priors.toml`` holds one ``[[prior]]`` per parameter (a dotted scenario name, a
``scipy.stats`` distribution and its parameters, the CAL row(s) it comes from or the assumption
it is, and a one-line why) and one ``[[correlation]]`` per pair whose dependence the sources
imply (its Gaussian-copula rho and how it was derived). ``load_priors`` reads it through the one
bounded reader (``ixsim.sim.inputfiles``) and checks every entry; problems are one line each,
``error: FILE: prior[3] (software.returns_r).s: must be a number (got 'x')``.

Parameters of a distribution are scipy's own (its shape names, ``loc``, ``scale``), except:

    uniform, loguniform   low, high              the support [low, high]
    truncnorm             loc, scale, low, high  a normal(loc, scale) cut to [low, high]

and any distribution takes ``truncate_low`` and/or ``truncate_high``: the distribution cut to
that interval and renormalised (for a tail the schema range or the physics rules out).

``Priors.ppf(u)`` maps points of the unit cube to parameter values through a Gaussian copula
(z = Phi^-1(u), z' = z L^T with L the Cholesky factor of the correlation matrix, u' = Phi(z'),
x_j = F_j^-1(u'_j)); ``sample(n, seed)`` is Monte Carlo on top of it. ``render_markdown`` writes
``docs/priors.md`` (``make priors-doc``).
"""

from __future__ import annotations

import difflib
import math
import os
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from ixsim.sim.inputfiles import InputFileError, read_toml
from ixsim.sim.scenario import schema_key
from ixsim.sim.sources import DATA_DIR, cited_row_ids, resolve_citation

__all__ = ["PRIORS_PATH", "MAX_PRIORS_BYTES", "EPS", "PriorsError", "Prior", "Correlation",
           "Priors", "load_priors", "render_markdown"]

PRIORS_PATH = DATA_DIR / "priors.toml"
MAX_PRIORS_BYTES = 1_000_000  # hand-written, a few KB: 1 MB is surely a wrong file
# ppf is evaluated on [EPS, 1 - EPS]: the unit cube's faces (and Phi(z') rounding to 0 or 1)
# map to the 1e-9 quantiles, so every value lies inside support().
EPS = 1e-9

_CONTINUOUS = sorted(n for n in dir(stats) if isinstance(getattr(stats, n), stats.rv_continuous))
_ENTRY_KEYS = ("name", "dist", "source", "assumption", "why", "truncate_low", "truncate_high")
_CORRELATION_KEYS = ("a", "b", "rho", "how", "source", "assumption")
_TOP_KEYS = ("title", "intro", "prior", "correlation")


class PriorsError(Exception):
    """A priors file that cannot be used. ``str()`` is one line for people:
    ``error: FILE: prior[2] (software.beta).dist: unknown distribution 'lognormal'``."""

    def __init__(self, path: str | os.PathLike, field: str, message: str):
        self.path, self.field, self.message = str(path), field, message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}: {self.field}" if self.field else self.path
        return f"error: {where}: {self.message}"


class _Truncated(stats.rv_continuous):
    """``base`` (a frozen continuous distribution) cut to [low, high] and renormalised: a
    scipy distribution of its own, so it freezes, pickles and answers ppf/cdf/median."""

    def __init__(self, base: Any, low: float, high: float, **kw: Any):
        self._base, self._low, self._high = base, float(low), float(high)
        self._cdf_low = float(base.cdf(self._low))
        self._mass = float(base.cdf(self._high)) - self._cdf_low
        kw.update(a=self._low, b=self._high)
        kw.setdefault("name", f"truncated {base.dist.name}")
        super().__init__(**kw)

    def _updated_ctor_param(self) -> dict:
        params = super()._updated_ctor_param()
        params.update(base=self._base, low=self._low, high=self._high)
        return params

    def _pdf(self, x):
        return self._base.pdf(x) / self._mass

    def _cdf(self, x):
        return (self._base.cdf(x) - self._cdf_low) / self._mass

    def _ppf(self, q):
        return self._base.ppf(self._cdf_low + q * self._mass)


@dataclass(frozen=True)
class Prior:
    """One parameter's prior: ``dist`` is a frozen scipy.stats distribution."""

    name: str  # dotted scenario name, e.g. "software.returns_r", "regulators[1].lag_years"
    dist: Any
    spec: str  # the distribution as written, e.g. "lognorm(s=0.668, scale=1.2)"
    source: str  # CAL rows, "" when an assumption only
    assumption: str  # "" when the source says it all
    why: str

    @property
    def cited(self) -> str:
        """Source and assumption in one line, for tables."""
        parts = [self.source] if self.source else []
        if self.assumption:
            parts.append(f"assumption: {self.assumption}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Correlation:
    """A Gaussian-copula correlation between two priors and how it was derived."""

    a: str
    b: str
    rho: float
    how: str
    source: str = ""
    assumption: str = ""


class Priors:
    """The catalogue: ``names``, frozen ``dists`` and ``sources`` in file order, and the k x k
    Gaussian-copula ``correlation`` matrix (identity where the file lists no correlation)."""

    def __init__(self, path: str, title: str, intro: str, priors: list[Prior],
                 correlations: list[Correlation], correlation: np.ndarray):
        self.path, self.title, self.intro = path, title, intro
        self.priors = priors
        self.correlations = correlations
        self.names = [p.name for p in priors]
        self.dists = [p.dist for p in priors]
        self.sources = [p.cited for p in priors]
        self.correlation = correlation
        self.correlation.setflags(write=False)
        self._cholesky = np.linalg.cholesky(correlation)
        self._independent = bool(np.array_equal(correlation, np.eye(len(priors))))

    def __len__(self) -> int:
        return len(self.priors)

    def __getitem__(self, name: str) -> Prior:
        return self.priors[self.names.index(name)]

    def ppf(self, u: Any) -> np.ndarray:
        """Parameter values (n, k) of unit-cube points ``u`` (n, k): through the Gaussian copula
        when correlations exist, each column's own ppf otherwise. ``u`` is clipped to
        [EPS, 1 - EPS], so every value lies inside ``support()``."""
        u = np.asarray(u, dtype=float)
        k = len(self.priors)
        if u.ndim != 2 or u.shape[1] != k:
            raise ValueError(f"u must be an (n, {k}) array of unit-cube points (got shape "
                             f"{u.shape})")
        if not np.all((u >= 0.0) & (u <= 1.0)):  # NaN fails too
            raise ValueError("u must lie in [0, 1]")
        u = np.clip(u, EPS, 1.0 - EPS)
        if not self._independent:
            z = stats.norm.ppf(u) @ self._cholesky.T
            u = np.clip(stats.norm.cdf(z), EPS, 1.0 - EPS)
        return np.column_stack([d.ppf(u[:, j]) for j, d in enumerate(self.dists)])

    def sample(self, n: int, seed: int) -> np.ndarray:
        """``n`` Monte Carlo draws (n, k); the same (n, seed) gives the same array."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n must be a whole number >= 0 (got {n!r})")
        rng = np.random.default_rng(seed)
        return self.ppf(rng.random((int(n), len(self.priors))))

    def quantile(self, q: float) -> np.ndarray:
        """Each parameter's own quantile ``q`` (marginal; no copula)."""
        return np.array([float(d.ppf(min(max(q, EPS), 1.0 - EPS))) for d in self.dists])

    def median(self) -> np.ndarray:
        return self.quantile(0.5)

    def support(self) -> list[tuple[float, float]]:
        """Per parameter, the (low, high) values ``ppf`` can return: the distribution's bounds
        where it has them (within 1e-9 of its mass), its 1e-9 and 1 - 1e-9 quantiles where it
        has none."""
        return [(float(d.ppf(EPS)), float(d.ppf(1.0 - EPS))) for d in self.dists]


# --- loading ---------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    """A finite float from a TOML number; None for anything else (booleans included)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    x = float(value)
    return x if math.isfinite(x) else None


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _hint(word: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1)
    return f"; did you mean {close[0]}?" if close else ""


def _schema_names() -> set[str]:
    from ixsim.sim.scenario import field_table

    return {row["name"] for row in field_table()}


_NAME = re.compile(r"[a-z_][a-z0-9_]*(\[[0-9]+\])?(\.[A-Za-z_][A-Za-z0-9_]*(\[[0-9]+\])?)+")


def _params(dist_name: str, raw: dict[str, float]) -> dict[str, float]:
    """scipy's keyword arguments from the file's parameters (the small mapping of the module
    docstring)."""
    if dist_name in ("uniform", "loguniform"):
        low, high = raw["low"], raw["high"]
        if dist_name == "uniform":
            return {"loc": low, "scale": high - low}
        return {"a": low, "b": high}
    if dist_name == "truncnorm":
        loc, scale = raw.get("loc", 0.0), raw.get("scale", 1.0)
        return {"a": (raw["low"] - loc) / scale if scale > 0 else math.nan,
                "b": (raw["high"] - loc) / scale if scale > 0 else math.nan,
                "loc": loc, "scale": scale}
    return dict(raw)


def _param_names(dist_name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(required, optional) parameter names of a distribution as the file writes them."""
    if dist_name in ("uniform", "loguniform"):
        return ("low", "high"), ()
    if dist_name == "truncnorm":
        return ("low", "high"), ("loc", "scale")
    shapes = getattr(stats, dist_name).shapes
    required = tuple(s.strip() for s in shapes.split(",")) if shapes else ()
    return required, ("loc", "scale")


def _spec_text(dist_name: str, raw: dict[str, float], low: float | None,
               high: float | None) -> str:
    args = ", ".join(f"{k}={v:g}" for k, v in raw.items())
    text = f"{dist_name}({args})"
    if low is not None and high is not None:
        text += f" truncated to [{low:g}, {high:g}]"
    elif low is not None:
        text += f" truncated below {low:g}"
    elif high is not None:
        text += f" truncated above {high:g}"
    return text


def _check_citations(path: str, field: str, text: str) -> None:
    for row_id in cited_row_ids(text):
        if not resolve_citation(row_id):
            raise PriorsError(path, field, f"CAL-{row_id} is not a row of data/calibration.toml")


def _text(path: str, field: str, value: Any, required: bool) -> str:
    if value is None:
        if required:
            raise PriorsError(path, field, "missing")
        return ""
    if not isinstance(value, str):
        raise PriorsError(path, field, f"must be text (got {_shown(value)})")
    text = value.strip()
    if required and not text:
        raise PriorsError(path, field, "must not be empty")
    if "\n" in text:
        raise PriorsError(path, field, "must be one line")
    return text


def _prior(path: str, i: int, entry: Any, schema: set[str]) -> Prior:
    where = f"prior[{i}]"
    if not isinstance(entry, dict):
        raise PriorsError(path, where, "must be a table ([[prior]])")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise PriorsError(path, f"{where}.name", "missing" if name is None else
                          f"must be a dotted parameter name (got {_shown(name)})")
    where = f"prior[{i}] ({name})"
    if not _NAME.fullmatch(name) or schema_key(name) not in schema:
        raise PriorsError(path, f"{where}.name", "unknown scenario parameter"
                          + _hint(schema_key(name), sorted(schema)))
    dist_name = entry.get("dist")
    if not isinstance(dist_name, str):
        raise PriorsError(path, f"{where}.dist", "missing" if dist_name is None else
                          f"must be a scipy.stats distribution name (got {_shown(dist_name)})")
    if dist_name not in _CONTINUOUS:
        raise PriorsError(path, f"{where}.dist", f"unknown distribution {dist_name!r} (a "
                          "continuous scipy.stats distribution)" + _hint(dist_name, _CONTINUOUS))
    required, optional = _param_names(dist_name)
    raw: dict[str, float] = {}
    for key, value in entry.items():
        if key in _ENTRY_KEYS:
            continue
        if key not in required and key not in optional:
            allowed = [*required, *optional, *_ENTRY_KEYS]
            raise PriorsError(path, f"{where}.{key}", f"not a parameter of {dist_name} (it takes "
                              f"{', '.join([*required, *optional])})" + _hint(key, allowed))
        x = _number(value)
        if x is None:
            raise PriorsError(path, f"{where}.{key}", f"must be a finite number (got "
                              f"{_shown(value)})")
        raw[key] = x
    for key in required:
        if key not in raw:
            raise PriorsError(path, f"{where}.{key}", f"missing (a {dist_name} prior needs "
                              f"{', '.join(required)})")
    cut: list[float | None] = []
    for key in ("truncate_low", "truncate_high"):
        value = entry.get(key)
        x = None if value is None else _number(value)
        if value is not None and x is None:
            raise PriorsError(path, f"{where}.{key}", f"must be a finite number (got "
                              f"{_shown(value)})")
        cut.append(x)
    low, high = cut
    try:
        with np.errstate(all="ignore"):
            dist = getattr(stats, dist_name)(**_params(dist_name, raw))
            checks = dist.ppf([EPS, 0.5, 1.0 - EPS])
    except (TypeError, ValueError, ZeroDivisionError) as exc:
        raise PriorsError(path, where, f"bad parameters for {dist_name}: {exc}") from None
    if not np.all(np.isfinite(checks)) or not checks[0] < checks[2]:
        raise PriorsError(path, where, f"bad parameters for {dist_name}: "
                          f"{_spec_text(dist_name, raw, None, None)} is not a distribution "
                          "with finite quantiles")
    if low is not None or high is not None:
        lo = float(dist.support()[0]) if low is None else low
        hi = float(dist.support()[1]) if high is None else high
        with np.errstate(all="ignore"):
            mass = float(dist.cdf(hi) - dist.cdf(lo)) if lo < hi else 0.0
        if not mass > 1e-6:
            raise PriorsError(path, f"{where}.truncate_low", f"the interval [{lo:g}, {hi:g}] "
                              f"holds no mass of {dist_name} (the truncation is empty)")
        dist = _Truncated(dist, lo, hi)()
    source = _text(path, f"{where}.source", entry.get("source"), False)
    assumption = _text(path, f"{where}.assumption", entry.get("assumption"), False)
    if not source and not assumption:
        raise PriorsError(path, f"{where}.source", "missing: cite the CAL row(s) it comes from "
                          "(source = \"CAL-7b\") or say why it is an assumption "
                          "(assumption = \"...\")")
    if source and not cited_row_ids(source):
        raise PriorsError(path, f"{where}.source", f"cites no CAL row (got {_shown(source)}); "
                          "an unpublished number is an assumption = \"...\"")
    _check_citations(path, f"{where}.source", source)
    _check_citations(path, f"{where}.assumption", assumption)
    why = _text(path, f"{where}.why", entry.get("why"), True)
    _check_citations(path, f"{where}.why", why)
    return Prior(name, dist, _spec_text(dist_name, raw, low, high), source, assumption, why)


def _correlation(path: str, i: int, entry: Any, names: list[str]) -> Correlation:
    where = f"correlation[{i}]"
    if not isinstance(entry, dict):
        raise PriorsError(path, where, "must be a table ([[correlation]])")
    for key in entry:
        if key not in _CORRELATION_KEYS:
            raise PriorsError(path, f"{where}.{key}", "unknown key (a correlation takes "
                              f"{', '.join(_CORRELATION_KEYS)})" + _hint(key, _CORRELATION_KEYS))
    ends = []
    for key in ("a", "b"):
        value = entry.get(key)
        if not isinstance(value, str):
            raise PriorsError(path, f"{where}.{key}", "missing" if value is None else
                              f"must be a prior's name (got {_shown(value)})")
        if value not in names:
            raise PriorsError(path, f"{where}.{key}", f"no prior named {value!r} in the file"
                              + _hint(value, names))
        ends.append(value)
    if ends[0] == ends[1]:
        raise PriorsError(path, f"{where}.b", f"a parameter cannot correlate with itself "
                          f"({ends[0]})")
    rho = _number(entry.get("rho"))
    if rho is None or not -1.0 < rho < 1.0:
        raise PriorsError(path, f"{where}.rho", "missing" if entry.get("rho") is None else
                          f"must be a number strictly between -1 and 1 (got "
                          f"{_shown(entry.get('rho'))})")
    how = _text(path, f"{where}.how", entry.get("how"), True)
    source = _text(path, f"{where}.source", entry.get("source"), False)
    assumption = _text(path, f"{where}.assumption", entry.get("assumption"), False)
    for key, text in (("how", how), ("source", source), ("assumption", assumption)):
        _check_citations(path, f"{where}.{key}", text)
    return Correlation(ends[0], ends[1], rho, how, source, assumption)


def load_priors(path: str | os.PathLike | None = None) -> Priors:
    """Read and check a priors file (default ``data/priors.toml``); PriorsError, one line naming
    the file, the entry's field and the problem, for: an unreadable or non-TOML file, an unknown
    scenario parameter or one listed twice, an unknown distribution, missing or bad parameters,
    no source or assumption (or a CAL row that does not exist), correlations naming unknown
    priors, out of (-1, 1), given twice, or a matrix that is not positive definite."""
    path = PRIORS_PATH if path is None else path
    shown = str(path)
    try:
        data, _ = read_toml(path, MAX_PRIORS_BYTES, "priors file")
    except InputFileError as exc:
        raise PriorsError(exc.path, "", exc.message) from None
    for key in data:
        if key not in _TOP_KEYS:
            raise PriorsError(shown, key, f"unknown key (the file holds {', '.join(_TOP_KEYS)})"
                              + _hint(key, _TOP_KEYS))
    entries = data.get("prior")
    if not isinstance(entries, list) or not entries:
        raise PriorsError(shown, "prior", "missing: the file needs at least one [[prior]]")
    schema = _schema_names()
    priors: list[Prior] = []
    for i, entry in enumerate(entries):
        prior = _prior(shown, i, entry, schema)
        if prior.name in (p.name for p in priors):
            raise PriorsError(shown, f"prior[{i}] ({prior.name}).name", "listed twice")
        priors.append(prior)
    names = [p.name for p in priors]
    raw_corr = data.get("correlation", [])
    if not isinstance(raw_corr, list):
        raise PriorsError(shown, "correlation", "must be an array of tables ([[correlation]])")
    correlations: list[Correlation] = []
    matrix = np.eye(len(priors))
    for i, entry in enumerate(raw_corr):
        corr = _correlation(shown, i, entry, names)
        a, b = names.index(corr.a), names.index(corr.b)
        if matrix[a, b] != 0.0:
            raise PriorsError(shown, f"correlation[{i}]", f"the pair {corr.a}, {corr.b} is "
                              "given twice")
        matrix[a, b] = matrix[b, a] = corr.rho
        correlations.append(corr)
    smallest = float(np.linalg.eigvalsh(matrix)[0])
    if smallest <= 1e-10:
        raise PriorsError(shown, "correlation", "the correlation matrix is not positive definite "
                          f"(smallest eigenvalue {smallest:.3g}): these rhos cannot hold together")
    title = _text(shown, "title", data.get("title"), False) or "Priors"
    intro = data.get("intro", "")
    if not isinstance(intro, str):
        raise PriorsError(shown, "intro", f"must be text (got {_shown(intro)})")
    return Priors(shown, title, intro.strip(), priors, correlations, matrix)


# --- rendering -------------------------------------------------------------------------------


def _g(x: float) -> str:
    """Three significant figures, plain where short."""
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e5:
        return f"{x:.3g}"
    return f"{x:.2e}".replace("e+0", "e").replace("e-0", "e-").replace("e+", "e")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(priors: Priors | None = None) -> str:
    """docs/priors.md: every prior (distribution, median, 5-95%, source or assumption, why) and
    every correlation with how it was derived."""
    priors = load_priors() if priors is None else priors
    q05, q50, q95 = priors.quantile(0.05), priors.median(), priors.quantile(0.95)
    out = [
        "<!-- Generated from data/priors.toml by `make priors-doc` "
        "(ixsim.analysis.priors.render_markdown); do not edit by hand. -->",
        "",
        f"# {priors.title}",
        "",
    ]
    if priors.intro:
        out += [priors.intro, ""]
    out += ["| Parameter | Distribution | Median | 5% - 95% | Source / assumption | Why |",
            "|---|---|---|---|---|---|"]
    for p, lo, mid, hi in zip(priors.priors, q05, q50, q95):
        cells = (f"`{p.name}`", p.spec, _g(mid), f"{_g(lo)} - {_g(hi)}", p.cited, p.why)
        out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    out += ["", "## Correlations (Gaussian copula)", ""]
    if priors.correlations:
        out += ["Rank dependence between priors, as the correlation of their normal scores "
                "(Phi^-1 of each one's quantile); every pair not listed is independent.", "",
                "| A | B | rho | How derived |", "|---|---|---|---|"]
        for c in priors.correlations:
            how = c.how + (f" ({c.source})" if c.source else "") + (
                f" Assumption: {c.assumption}" if c.assumption else "")
            out.append(f"| `{c.a}` | `{c.b}` | {c.rho:+.2f} | {_cell(how)} |")
    else:
        out.append("None: the priors are independent.")
    return "\n".join(out) + "\n"
