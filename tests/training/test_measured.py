"""sim/measured.py: the calibration-file loader, its one-line errors and the atomic writer."""

import json
import subprocess
import sys

import pytest

from ixsim.analysis.files import write_bytes
from ixsim.sim.measured import (BUDGET_NAMES, CalibrationFileError, load_measured, stored_budget,
                               validate)


def _est(value: float) -> dict:
    return {"value": value, "low": value * 0.8, "high": value * 1.2}


def minimal_calibration(budget: str = "cpu") -> dict:
    return {
        "scaling": {**{k: _est(v) for k, v in {"E": 0.9, "A": 30.0, "B": 200.0, "alpha": 0.3, "beta": 0.3}.items()},
                    "allocation": {"a": _est(0.5), "b": _est(0.5)}},
        "recipe_gains": [{"name": "all_combined", "gain": 2.0, "low": 1.5, "high": 2.5}],
        "returns_r": _est(0.9),
        "provenance": {k: "x" for k in ("ixsim_version", "python_version", "jax_version", "optax_version",
                                         "flax_version", "optuna_version", "device", "corpus", "seeds",
                                         "wall_seconds", "tokens_per_second", "created_utc")}
        | {"budget": budget},
    }


def _write(tmp_path, data) -> str:
    path = tmp_path / "measured.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def test_valid_file_loads(tmp_path):
    assert load_measured(_write(tmp_path, minimal_calibration()))["returns_r"]["value"] == 0.9


def test_missing_file_is_a_one_line_error(tmp_path):
    path = tmp_path / "nope.json"
    with pytest.raises(CalibrationFileError) as info:
        load_measured(path)
    assert str(info.value) == f"error: {path}: file not found"


def test_text_that_is_not_json_names_the_file(tmp_path):
    path = _write(tmp_path, "{ not json")
    with pytest.raises(CalibrationFileError) as info:
        load_measured(path)
    assert str(info.value).startswith(f"error: {path}: not valid JSON")
    assert "\n" not in str(info.value)


def test_missing_returns_r_value_names_the_field(tmp_path):
    data = minimal_calibration()
    del data["returns_r"]["value"]
    path = _write(tmp_path, data)
    with pytest.raises(CalibrationFileError) as info:
        load_measured(path)
    assert str(info.value) == f"error: {path}: returns_r.value: missing"
    assert (info.value.path, info.value.field, info.value.message) == (path, "returns_r.value", "missing")


def test_nan_literal_is_rejected(tmp_path):
    text = json.dumps(minimal_calibration()).replace('"value": 0.3,', '"value": NaN,', 1)
    with pytest.raises(CalibrationFileError, match="not valid JSON"):
        load_measured(_write(tmp_path, text))


def test_null_estimate_is_rejected_with_its_field(tmp_path):
    data = minimal_calibration()
    data["scaling"]["alpha"]["high"] = None
    with pytest.raises(CalibrationFileError, match=r"scaling\.alpha\.high: must be a number \(got null\)"):
        load_measured(_write(tmp_path, data))


def test_non_finite_gain_is_rejected_in_memory():
    data = minimal_calibration()
    data["recipe_gains"][0]["gain"] = float("inf")
    with pytest.raises(CalibrationFileError, match=r"recipe_gains\[0\]\.gain: must be finite"):
        validate(data)


def test_missing_provenance_budget_is_rejected(tmp_path):
    data = minimal_calibration()
    del data["provenance"]["budget"]
    with pytest.raises(CalibrationFileError, match="provenance.budget: missing"):
        load_measured(_write(tmp_path, data))


def test_unknown_budget_is_rejected():
    with pytest.raises(CalibrationFileError, match="budget: must be one of smoke, cpu, gpu"):
        validate(minimal_calibration("tpu"))
    for budget in BUDGET_NAMES:
        validate(minimal_calibration(budget))


def test_stored_budget_reads_provenance(tmp_path):
    assert stored_budget(_write(tmp_path, minimal_calibration("gpu"))) == "gpu"
    assert stored_budget(tmp_path / "absent.json") is None


def test_failed_atomic_write_keeps_the_old_file_and_no_temp_files(tmp_path, monkeypatch):
    path = tmp_path / "measured.json"
    path.write_text("old")

    def broken_replace(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr("ixsim.analysis.files.os.replace", broken_replace)
    with pytest.raises(KeyboardInterrupt):
        write_bytes(path, b"new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["measured.json"]


def test_loading_a_calibration_does_not_import_jax_or_the_training_loop():
    code = ("import sys, ixsim.sim.measured, ixsim.sim.calibration, ixsim.sim.scenario; "
            "print('jax' in sys.modules, any(m.startswith('ixsim.training') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_huge_integers_and_reversed_intervals_name_the_field(tmp_path):
    text = json.dumps(minimal_calibration()).replace('"value": 0.9', '"value": ' + "9" * 400, 1)
    with pytest.raises(CalibrationFileError, match=r"scaling\.E\.value: must be a finite number "
                                                   r"\(got an integer of 400 digits\)"):
        load_measured(_write(tmp_path, text))
    data = minimal_calibration()
    data["returns_r"] = {"value": 1.0, "low": 2.0, "high": 0.5}
    with pytest.raises(CalibrationFileError, match=r"returns_r: low \(2\) is above high \(0\.5\)"):
        validate(data)
    data = minimal_calibration()
    data["recipe_gains"][0].update(low=3.0, high=1.0)
    with pytest.raises(CalibrationFileError, match=r"recipe_gains\[0\]: low \(3\) is above high"):
        validate(data)


def test_only_regular_files_within_the_limit_are_read(tmp_path):
    import os

    from ixsim.sim.measured import MAX_CALIBRATION_BYTES

    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)  # never written: opening it for a blocking read would hang
    with pytest.raises(CalibrationFileError, match="is a named pipe, not a calibration file"):
        load_measured(fifo)
    assert stored_budget(fifo) is None
    with pytest.raises(CalibrationFileError, match="is a device"):
        load_measured("/dev/zero")
    big = tmp_path / "big.json"
    with open(big, "wb") as fh:
        fh.truncate(MAX_CALIBRATION_BYTES + 1)
    with pytest.raises(CalibrationFileError, match="file is too large"):
        load_measured(big)
    deep = _write(tmp_path, "[" * 100_000 + "]" * 100_000)
    with pytest.raises(CalibrationFileError, match="nested deeper than 64 levels"):
        load_measured(deep)
