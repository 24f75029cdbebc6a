"""End to end: the smoke calibration (run once per module), determinism and vmap."""

import json
import math

import numpy as np
import pytest

pytest.importorskip("jax")
pytest.importorskip("optax")
pytest.importorskip("flax")
pytest.importorskip("optuna")

import typer  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from ixsim.training import experiments  # noqa: E402
from ixsim.training.budgets import BUDGETS  # noqa: E402
from ixsim.cli.calibrate import calibrate_command  # noqa: E402
from ixsim.training.config import OLD_RECIPE  # noqa: E402
from ixsim.training.corpus import load_corpus  # noqa: E402
from ixsim.sim.measured import load_measured  # noqa: E402

app = typer.Typer(add_completion=False)
app.command("calibrate")(calibrate_command)
SMOKE = BUDGETS["smoke"]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("calibration") / "measured.json"
    result = CliRunner().invoke(app, ["--budget", "smoke", "--seed", "0", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return {"path": out, "data": json.loads(out.read_text()), "stdout": result.stdout}


@pytest.mark.slow
def test_smoke_calibration_validates_and_has_plots(smoke):
    data = load_measured(smoke["path"])
    assert data["provenance"]["budget"] == "smoke"
    for kind in ("scaling", "recipes", "returns"):
        png = smoke["path"].with_name(f"measured.{kind}.png").read_bytes()
        assert png.startswith(b"\x89PNG")
    assert smoke["stdout"].startswith(f"wrote {smoke['path']}")


@pytest.mark.slow
def test_smoke_losses_fall_with_more_data_and_compute(smoke):
    points = smoke["data"]["scaling"]["points"]
    for n in {p["N"] for p in points}:
        mine = sorted((p for p in points if p["N"] == n), key=lambda p: p["D"])
        assert mine[-1]["loss"] < mine[0]["loss"]
    curve = np.mean(smoke["data"]["recipe_baseline"]["old_curve"]["val_loss_by_seed"], axis=0)
    assert curve[-1] < curve[0] < math.log(256)


@pytest.mark.slow
def test_smoke_fits_are_finite_and_exponents_positive(smoke):
    s = smoke["data"]["scaling"]
    for key in ("E", "A", "B", "alpha", "beta"):
        assert all(math.isfinite(s[key][part]) for part in ("value", "low", "high"))
    assert s["alpha"]["value"] > 0 and s["beta"]["value"] > 0
    assert s["allocation"]["a"]["value"] + s["allocation"]["b"]["value"] == pytest.approx(1.0)
    for gain in smoke["data"]["recipe_gains"]:
        assert 0 < gain["low"] <= gain["gain"] * 1.0001 and gain["gain"] <= gain["high"] * 1.0001
    assert math.isfinite(smoke["data"]["returns_r"]["value"])


@pytest.mark.slow
def test_search_starts_from_the_old_recipe_whose_efficiency_is_one(smoke):
    returns = smoke["data"]["returns_r"]
    assert returns["points"][0]["trials"] == 1
    assert returns["points"][0]["efficiency"] == pytest.approx(1.0, rel=1e-6)
    assert [p["trials"] for p in returns["points"]] == [1, 2, 4]
    assert set(returns["published"]) == {"CAL-7a", "CAL-7b"}
    assert returns["published"]["CAL-7a"]["value"] == 1.4


@pytest.mark.slow
def test_smoke_provenance_records_corpus_versions_and_speed(smoke):
    p = smoke["data"]["provenance"]
    corpus = load_corpus(SMOKE.corpus_bytes, SMOKE.validation_fraction)
    assert p["corpus"]["sha256"] == corpus.sha256
    assert p["corpus"]["bytes"] == SMOKE.corpus_bytes
    assert p["corpus"]["validation_bytes"] == round(SMOKE.corpus_bytes * SMOKE.validation_fraction)
    assert p["tokens_per_second"] > 0 and p["wall_seconds"] > 0
    assert p["created_utc"].endswith("Z")
    for key in ("jax_version", "optax_version", "flax_version", "optuna_version", "ixsim_version"):
        assert p[key]


def _old_recipe_losses(seed: int, seeds: int):
    session = experiments.open_session(SMOKE, seed=seed, progress=None)
    spec = session.spec(SMOKE.recipe_size, OLD_RECIPE, SMOKE.recipe_steps,
                        tuple(seed + i for i in range(seeds)), (SMOKE.recipe_steps,))
    return session.run(spec, None, "test").val_loss


@pytest.mark.slow
def test_same_seed_gives_the_same_losses_and_another_seed_does_not(smoke):
    first, again = _old_recipe_losses(0, 2), _old_recipe_losses(0, 2)
    np.testing.assert_allclose(first, again, rtol=1e-6)
    assert first[0, -1] != first[1, -1]  # the vmapped seeds are different models
    assert not np.allclose(first, _old_recipe_losses(5, 2))


def test_interrupted_calibration_leaves_the_previous_file(tmp_path, monkeypatch):
    out = tmp_path / "measured.json"
    out.write_text('{"previous": true}')

    def interrupt(session):
        raise KeyboardInterrupt

    monkeypatch.setattr(experiments, "scaling_experiment", interrupt)
    result = CliRunner().invoke(app, ["--budget", "smoke", "--out", str(out)])
    assert result.exit_code == 130
    assert "interrupted" in result.stderr and "Traceback" not in result.output
    assert out.read_text() == '{"previous": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["measured.json"]


def test_corpus_is_deterministic_and_split_ninety_ten():
    a, b = load_corpus(100_000, 0.1), load_corpus(100_000, 0.1)
    assert a.sha256 == b.sha256
    assert (a.train.size, a.validation.size) == (90_000, 10_000)
