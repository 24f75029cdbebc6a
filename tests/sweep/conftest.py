"""Sweep test helpers: small specs written into tmp folders, the command line run in-process,
and one reference store (computed once per session) that the engine tests compare against."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ixsim.cli.app import main

# 12 draws x 2 lever sets x 2 seeds = 48 runs to 2035 (about 12 ms each), 16 chunks of 3
SMALL = """
[sweep]
name = "small"
base = "baseline"
sampler = "monte-carlo"
samples = 12
seeds_per_sample = 2
seed = 7
chunk_size = 3
[uncertainties]
"software.returns_r" = { dist = "lognorm", s = 0.2, scale = 1.2 }
"software.compute_rho" = { dist = "uniform", low = -1.0, high = 0.3 }
[levers]
"strategies.frontier.race_response" = [0.0, 1.0]
[constants]
"meta.end_year" = 2035.0
[outputs]
series = ["frontier_horizon_minutes", "rnd_automation"]
per_run_series = true
"""
SMALL_RUNS = 48


def write_spec(folder: Path, text: str = SMALL, name: str = "spec.toml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def cli(capsys, *args: str) -> tuple[int, str, str]:
    """``ixsim ARGS`` in this process: (exit status, stdout, stderr)."""
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_error_line(code: int, err: str) -> str:
    """The contract for bad input: exit 2, exactly one ``error: ...`` line, no traceback."""
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


def tables(store: Path) -> dict[str, pa.Table]:
    """Every table of a store, runs and series in run order."""
    runs = sorted((store / "runs").glob("chunk-*.parquet"))
    out = {"runs": pa.concat_tables([pq.read_table(p) for p in runs]),
           "series_quantiles": pq.read_table(store / "series_quantiles.parquet")}
    series = sorted((store / "series").glob("chunk-*.parquet"))
    if series:
        out["series"] = pa.concat_tables([pq.read_table(p) for p in series])
    return out


def assert_same_store(a: Path, b: Path) -> None:
    """Row for row, the same runs, per-run series and quantiles; chunk files byte-identical."""
    ta, tb = tables(a), tables(b)
    assert set(ta) == set(tb)
    for name in ta:
        assert ta[name].equals(tb[name]), name
    for kind in ("runs", "series"):
        names = sorted(p.name for p in (a / kind).iterdir()) if (a / kind).exists() else []
        assert names == sorted(p.name for p in (b / kind).iterdir()) if names else True
        for name in names:
            assert (a / kind / name).read_bytes() == (b / kind / name).read_bytes(), name
    assert not [p for p in b.rglob(".*")], "temporaries or scratch left behind"


@pytest.fixture(scope="session")
def small_spec(tmp_path_factory) -> Path:
    return write_spec(tmp_path_factory.mktemp("spec"))


@pytest.fixture(scope="session")
def reference(tmp_path_factory, small_spec) -> Path:
    """The small sweep run once, uninterrupted, with 2 local workers."""
    from ixsim.analysis.sweep import load_sweep, run_sweep

    out = tmp_path_factory.mktemp("reference") / "store"
    outcome = run_sweep(load_sweep(small_spec), out, workers=2)
    assert outcome.status == {"ok": SMALL_RUNS}
    return out
