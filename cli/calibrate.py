"""``ixsim calibrate``: run experiments A, B and C and write the calibration file.

Bad options and unwritable output paths fail fast with one ``error:`` line and exit status 2
(the contract of ``ixsim.cli.errors``; a failed run exits 1, an interrupted one 130).
Results are written only at the very end, atomically (plots first, the JSON last), so an
interrupted or failed run leaves an earlier calibration untouched. ``--out`` goes through the
one writer's checks (``ixsim.analysis.files.check_file``: never a device, pipe or folder), and
while a calibrate runs it holds the lock ``.NAME.lock`` beside its output, so a second one
writing the same file is refused rather than mixing its plots with the first one's JSON.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

from ixsim.cli.errors import EXIT_FAILED, EXIT_INTERRUPTED, fail

DEFAULT_OUT = Path("scenarios/calibration/measured.json")
DEVICES = ("cpu", "gpu")


def _check_writable(out: str | Path) -> Path:
    """Exit 2 unless ``out`` and the plots beside it may be written (``check_file``: not a
    folder, device or pipe, no parent that is a file) and a file can be created next to it;
    creates missing parents. Returns ``out`` as a Path."""
    from ixsim.analysis.files import OutputError, check_file

    try:
        check_file(out)
        target = Path(out)
        for path in (*_plot_paths(target).values(), _failed_path(target)):
            check_file(path)
    except OutputError as exc:
        fail(f"--out: {exc}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                     suffix=".probe")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        fail(f"--out: {out}: cannot write there ({exc.strerror or exc.__class__.__name__})")
    return target


def _failed_path(out: Path) -> Path:
    """Where results that fail validation go, beside ``out``."""
    return out.with_name(out.name + ".failed")


def _plot_paths(out: Path) -> dict[str, Path]:
    stem = out.with_suffix("")
    return {kind: stem.with_name(f"{stem.name}.{kind}.png") for kind in ("scaling", "recipes", "returns")}


def _configure_jax(device: str) -> str:
    """Select the JAX platform; return a description of the device used."""
    try:
        import jax
    except ImportError:
        fail("calibrate needs JAX, Optax, Flax and Optuna: pip install 'ixsim[train]'")
    try:
        jax.config.update("jax_platforms", "cpu" if device == "cpu" else "cuda")
        devices = jax.devices()
    except Exception as exc:  # JAX raises RuntimeError or, with no backend left, AssertionError
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "JAX found no backend"
        fail(f"--device {device}: no usable {device.upper()} found ({first})")
    if device == "gpu" and devices[0].platform != "gpu":
        fail("--device gpu: no GPU found")
    d = devices[0]
    if d.platform == "cpu":
        return f"cpu: {os.cpu_count()} cores ({_cpu_model()})"
    return f"{d.platform}: {len(devices)} x {d.device_kind}"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _versions() -> dict:
    import flax
    import jax
    import jaxlib
    import numpy
    import optax
    import optuna
    import scipy

    from ixsim import __version__

    return {
        "ixsim_version": __version__,
        "python_version": platform.python_version(),
        "jax_version": jax.__version__,
        "jaxlib_version": jaxlib.__version__,
        "optax_version": optax.__version__,
        "flax_version": flax.__version__,
        "optuna_version": optuna.__version__,
        "numpy_version": numpy.__version__,
        "scipy_version": scipy.__version__,
    }


def _run(budget_name: str, seed: int, device_description: str, started: float) -> tuple[dict, dict]:
    """All three experiments; returns (calibration dict, PNG bytes by plot kind)."""
    from ixsim.training import plots
    from ixsim.training.budgets import BUDGETS
    from ixsim.training.experiments import (
        open_session,
        recipe_experiment,
        scaling_experiment,
        search_experiment,
    )
    from ixsim.training.progress import training_progress

    budget = BUDGETS[budget_name]
    with training_progress() as progress:
        session = open_session(budget, seed, progress)
        scaling = scaling_experiment(session)
        gains, baseline_description, baseline = recipe_experiment(session)
        returns = search_experiment(session, baseline)
    provenance = {
        **_versions(),
        "platform": platform.platform(),
        "device": device_description,
        "budget": budget_name,
        "budget_config": budget.to_dict(),
        "corpus": session.corpus.provenance(budget.validation_fraction),
        "seeds": {"base": seed, "scaling": [seed], "recipes": list(session.recipe_seeds),
                  "search_sampler": seed, "bootstrap": seed},
        "tokens_trained": session.tokens,
        "tokens_per_second": session.tokens / max(session.train_seconds, 1e-9),
        "train_seconds": session.train_seconds,
        "compile_seconds": session.compile_seconds,
        "per_experiment": session.per_experiment,
        "wall_seconds": time.perf_counter() - started,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "command": f"ixsim calibrate --budget {budget_name} --seed {seed}",
    }
    result = {
        "schema_version": 1,
        "scaling": scaling,
        "recipe_gains": gains,
        "recipe_baseline": baseline_description,
        "returns_r": returns,
        "provenance": provenance,
    }
    pngs = {
        "scaling": plots.scaling_plot(scaling),
        "recipes": plots.recipes_plot(gains, baseline_description),
        "returns": plots.returns_plot(returns),
    }
    return result, pngs


def _json_safe(value):
    """Non-finite floats become null (validation then names the field)."""
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item"):  # numpy scalar
        return _json_safe(value.item())
    return value


def _summary(result: dict, out: Path) -> str:
    s, r, p = result["scaling"], result["returns_r"], result["provenance"]

    def est(x: dict) -> str:
        return f"{x['value']:.3g} ({x['low']:.3g}-{x['high']:.3g})"

    lines = [
        f"wrote {out} ({p['budget']} budget, {p['wall_seconds']:.0f} s, {p['tokens_per_second']:,.0f} tokens/s)",
        f"scaling: E {est(s['E'])}, A {est(s['A'])}, B {est(s['B'])}, alpha {est(s['alpha'])}, beta {est(s['beta'])}",
        f"allocation: N_opt ~ C^{est(s['allocation']['a'])}, D_opt ~ C^{est(s['allocation']['b'])}",
        "recipe gains: " + ", ".join(f"{g['name']} {g['gain']:.2f}x ({g['low']:.2f}-{g['high']:.2f})"
                                     for g in result["recipe_gains"]),
        f"returns r: {est(r)}; {r['comparison']}",
    ]
    return "\n".join(lines)


def calibrate_command(
    budget: Annotated[str, typer.Option(help="Compute budget: smoke (tests, ~30 s), cpu (~10 min on 2 cores) "
                                             "or gpu (a few minutes on one H100).")] = "cpu",
    device: Annotated[str, typer.Option(help="JAX platform: cpu or gpu.")] = "cpu",
    seed: Annotated[int, typer.Option(help="Base seed for initialisation, data order, search and bootstrap.")] = 0,
    out: Annotated[str | None, typer.Option(help=f"Output JSON (default {DEFAULT_OUT}); PNG plots go next to it.",
                                            metavar="FILE", show_default=False)] = None,
) -> None:
    """Train small transformer LMs and measure scaling, recipe gains and returns to research."""
    from ixsim.analysis.files import OutputError, exclusive
    from ixsim.cli.launch import cleanup_on_interrupt
    from ixsim.sim.measured import BUDGET_NAMES

    started = time.perf_counter()
    if budget not in BUDGET_NAMES:
        fail(f"--budget must be one of {', '.join(BUDGET_NAMES)} (got {budget!r})")
    if device not in DEVICES:
        fail(f"--device must be one of {', '.join(DEVICES)} (got {device!r})")
    with contextlib.ExitStack() as stack:
        # files in flight from here (probe, lock, temporaries): a Ctrl-C unwinds and cleans up
        stack.enter_context(cleanup_on_interrupt())
        target = _check_writable(DEFAULT_OUT if out is None else out)
        try:  # one calibrate at a time writes these files: a second is refused
            stack.enter_context(exclusive(target))
        except OutputError as exc:
            fail(f"--out: {exc}")
        except OSError as exc:
            fail(f"--out: {target}: cannot write there ({exc.strerror or exc})")
        _calibrate(target, budget, device, seed, default_out=out is None, started=started)


def _calibrate(target: Path, budget: str, device: str, seed: int, default_out: bool,
               started: float) -> None:
    """The run and its outputs (called holding the lock on ``target``)."""
    from ixsim.cli.launch import raise_if_interrupted
    from ixsim.sim.measured import CalibrationFileError, stored_budget, to_json_bytes, validate

    previous = stored_budget(target)
    if budget == "smoke" and default_out and previous in ("cpu", "gpu"):
        fail(f"{target} holds a {previous}-budget calibration; the smoke budget does not overwrite it "
             "(use --out FILE to write elsewhere)")
    device_description = _configure_jax(device)
    try:
        result, pngs = _run(budget, seed, device_description, started)
        raise_if_interrupted()  # one a library swallowed: still nothing written
    except KeyboardInterrupt:
        fail(f"interrupted; {target} left unchanged", code=EXIT_INTERRUPTED)
    except ValueError as exc:  # e.g. a stdlib with too little source for the budget
        fail(str(exc), code=EXIT_FAILED)
    result = _json_safe(result)
    try:
        validate(result, target)
    except CalibrationFileError as exc:
        failed = _failed_path(target)
        _write(failed, to_json_bytes(result))
        fail(f"{exc.field}: {exc.message}; {target} left unchanged, results in {failed}",
             code=EXIT_FAILED)
    for kind, path in _plot_paths(target).items():
        _write(path, pngs[kind])
    _write(target, to_json_bytes(result))
    typer.echo(_summary(result, target))


def _write(path: Path, payload: bytes) -> None:
    """Write one output atomically; a path that cannot be written is one error line, exit 2."""
    from ixsim.analysis.files import OutputError, write_bytes

    try:
        write_bytes(path, payload)
    except OutputError as exc:
        fail(f"--out: {exc}")
    except OSError as exc:
        fail(f"--out: {path}: cannot write ({exc.strerror or exc})")
