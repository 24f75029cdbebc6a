"""The bad-input corpus of issue 8: every input is made at test time in tmp_path (deep nesting,
devices, named pipes, symlink loops, NUL names, wrong types, huge integers, huge calibration
files, the misleading-message cases) and run through the real command line. Each must end in
exit 2 with exactly one ``error: FILE: field: problem`` line per problem and no traceback.

Inputs that could hang or fill memory if the reader regressed (devices, pipes) run in a child
process with a 20-second timeout and a 1 GiB address-space limit, so a regression fails the test
instead of hanging it. Nothing is written outside tmp_path (the working folder is tmp_path too).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ixsim.cli.app import main
from ixsim.sim.scenario import MAX_EXTENDS_DEPTH, MAX_LAB_STEPS, load_scenario
from tests.conftest import BASELINE

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="devices, FIFOs and symlinks")


# ---------------------------------------------------------------------------------------------
# Helpers


def _est(value: float) -> dict:
    return {"value": value, "low": value * 0.8, "high": value * 1.2}


def calibration_doc(**changes: dict) -> dict:
    """A valid measured-calibration document; ``changes`` replace whole top-level entries."""
    doc = {
        "scaling": {"E": _est(0.9), "A": _est(20.0), "B": _est(300.0), "alpha": _est(0.31),
                    "beta": _est(0.42), "allocation": {"a": _est(0.57), "b": _est(0.43)}},
        "returns_r": _est(1.7),
        "recipe_gains": [{"name": "adamw", "gain": 2.0, "low": 1.5, "high": 2.5}],
        "provenance": {"ixsim_version": "x", "python_version": "3.12", "jax_version": "x",
                       "optax_version": "x", "flax_version": "x", "optuna_version": "x",
                       "device": "cpu", "corpus": {}, "seeds": [0], "wall_seconds": 1.0,
                       "budget": "smoke", "tokens_per_second": 1.0, "created_utc": "now"},
    }
    doc.update(changes)
    return doc


def _write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def _check(code: int, err: str, expected: list[str | tuple[str, ...]]) -> list[str]:
    """Exit 2, no traceback, one ``error:`` line per expected entry: a needle, or a tuple of
    needles all in that one line; returns the lines."""
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert code == 2, (code, err)
    assert len(lines) == len(expected), err
    assert all(line.startswith("error: ") for line in lines), err
    unmatched = list(lines)
    for entry in expected:
        needles = (entry,) if isinstance(entry, str) else entry
        hit = next((line for line in unmatched if all(n in line for n in needles)), None)
        assert hit is not None, (entry, lines)
        unmatched.remove(hit)
    return lines


def _limit_memory() -> None:  # in the child: reading /dev/zero whole fails fast, not at 100 GB
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def _run_child(tmp_path: Path, argv: list[str]) -> tuple[int, str]:
    proc = subprocess.run(
        [sys.executable, "-c", "from ixsim.cli.app import entry; entry()", *argv],
        capture_output=True, text=True, timeout=20, cwd=tmp_path, preexec_fn=_limit_memory)
    return proc.returncode, proc.stderr


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # anything written by mistake lands in the test's folder


# ---------------------------------------------------------------------------------------------
# The corpus: name -> builder(tmp) returning (argv, one needle per expected error line).
# Builders run inside tmp_path; F(tmp, name) is a file there.

Case = Callable[[Path], tuple[list[str], list[str]]]
CASES: dict[str, Case] = {}


def case(name: str) -> Callable[[Case], Case]:
    def register(fn: Case) -> Case:
        CASES[name] = fn
        return fn
    return register


def F(tmp: Path, name: str) -> str:
    return str(tmp / name)


# item 2: deep nesting, before any parser sees it

@case("600 nested arrays")
def _(tmp):
    _write(tmp / "s.toml", "x = " + "[" * 600 + "]" * 600 + "\n")
    return ["validate", F(tmp, "s.toml")], [f"{F(tmp, 's.toml')}: not valid TOML: nested deeper "
                                            "than 64 levels"]


@case("3,000 nested inline tables")
def _(tmp):
    _write(tmp / "s.toml", "x = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n")
    return ["validate", F(tmp, "s.toml")], [f"{F(tmp, 's.toml')}: not valid TOML: nested deeper"]


@case("5,000-part table header")
def _(tmp):
    _write(tmp / "s.toml", "[" + ".".join(["a"] * 5000) + "]\nx = 1\n")
    return ["validate", F(tmp, "s.toml")], ["table header has more than 64 parts (line 1)"]


@case("20,000-part dotted key")
def _(tmp):
    _write(tmp / "s.toml", "[meta]\nname = 'x'\n" + ".".join(["a"] * 20000) + " = 1\n")
    return ["validate", F(tmp, "s.toml")], [f"{F(tmp, 's.toml')}: not valid TOML: a dotted key "
                                            "or table header has more than 64 parts (line 3)"]


@case("dotted keys inside nested inline tables")
def _(tmp):
    key = ".".join(["a"] * 60)  # under the 64 parts of one key, but 60 of them nest 3,600 deep
    _write(tmp / "s.toml", "x = " + ("{" + key + " = ") * 60 + "1" + "}" * 60 + "\n")
    return ["validate", F(tmp, "s.toml")], [f"{F(tmp, 's.toml')}: not valid TOML: nested deeper "
                                            "than 64 levels of tables, arrays and dotted keys"]


@case("a long header and a long key under it")
def _(tmp):
    key = ".".join(["a"] * 60)
    _write(tmp / "p.toml", f"[{key}]\n{key} = 1\n")
    _write(tmp / "s.toml", f'extends = "p.toml"\n[{key}]\n{key} = 2\n')  # merged with p's
    return ["validate", F(tmp, "s.toml")], [f"{F(tmp, 's.toml')}: not valid TOML: nested deeper "
                                            "than 64 levels of tables, arrays and dotted keys "
                                            "(line 3)"]


@case("deep nesting in a parent")
def _(tmp):
    _write(tmp / "p.toml", "x = " + "[" * 2000 + "]" * 2000 + "\n")
    _write(tmp / "s.toml", 'extends = "p.toml"\n')
    return ["validate", F(tmp, "s.toml")], [f"{F(tmp, 's.toml')}: extends: {F(tmp, 'p.toml')}: "
                                            "not valid TOML: nested deeper"]


@case("--set path of 20,000 parts")
def _(tmp):
    return (["validate", str(BASELINE), "--set", ".".join(["a"] * 20000) + "=1"],
            [("error: --set: a.a.a", "a dotted path has at most 64 parts; this one has 20,000")])


@case("--set value of 3,000 nested arrays")
def _(tmp):
    return (["validate", str(BASELINE), "--set", "meta.name=" + "[" * 3000 + "]" * 3000],
            ["error: --set: meta.name: a value may nest at most 64 levels"])


@case("100,000 [ in a calibration file")
def _(tmp):
    _write(tmp / "c.json", "[" * 100_000 + "]" * 100_000)
    return (["validate", str(BASELINE), "--calibration", F(tmp, "c.json")],
            [f"error: {F(tmp, 'c.json')}: not valid JSON: nested deeper than 64 levels"])


@case("deep objects in a calibration file")
def _(tmp):
    _write(tmp / "c.json", '{"a": ' * 5000 + "1" + "}" * 5000)
    return (["validate", str(BASELINE), "--calibration", F(tmp, "c.json")],
            [f"error: {F(tmp, 'c.json')}: not valid JSON: nested deeper"])


# item 3: not regular files, and too large

@case("a directory as the scenario")
def _(tmp):
    (tmp / "d.toml").mkdir()
    return ["validate", F(tmp, "d.toml")], [f"{F(tmp, 'd.toml')}: is a directory, not a scenario"]


@case("extends a directory")
def _(tmp):
    (tmp / "d").mkdir()
    _write(tmp / "s.toml", 'extends = "d"\n')
    return ["validate", F(tmp, "s.toml")], [f"{F(tmp, 's.toml')}: extends: {tmp / 'd'}: is a "
                                            "directory"]


@case("a directory as the calibration file")
def _(tmp):
    return (["validate", str(BASELINE), "--calibration", str(tmp)],
            [f"error: {tmp}: is a directory, not a calibration file"])


@case("a scenario over 1 MB (sparse)")
def _(tmp):
    with open(tmp / "s.toml", "wb") as fh:
        fh.truncate(50_000_000)
    return ["validate", F(tmp, "s.toml")], ["file is too large (50,000,000 bytes; the limit is "
                                            "1,000,000)"]


@case("a calibration file over 4 MB")
def _(tmp):
    doc = calibration_doc()
    doc["provenance"]["corpus"] = {"padding": "x" * 4_100_000}
    _write(tmp / "c.json", json.dumps(doc))
    return (["validate", str(BASELINE), "--calibration", F(tmp, "c.json")],
            [f"error: {F(tmp, 'c.json')}: file is too large"])


# item 4: extends to what cannot be read

@case("extends a symlink loop")
def _(tmp):
    os.symlink("l2.toml", tmp / "l1.toml")
    os.symlink("l1.toml", tmp / "l2.toml")
    _write(tmp / "s.toml", 'extends = "l1.toml"\n')
    return ["validate", F(tmp, "s.toml")], [f"{F(tmp, 's.toml')}: extends: {F(tmp, 'l1.toml')}: "
                                            "cannot read file: a loop of symbolic links"]


@case("a symlink loop as the scenario")
def _(tmp):
    os.symlink("l1.toml", tmp / "l1.toml")
    return ["validate", F(tmp, "l1.toml")], [f"{F(tmp, 'l1.toml')}: cannot read file: a loop"]


@case("extends a name with a NUL byte")
def _(tmp):
    _write(tmp / "s.toml", 'extends = "a\\u0000b.toml"\n')
    return ["validate", F(tmp, "s.toml")], [f"{F(tmp, 's.toml')}: extends: {tmp}/a\\0b.toml: the "
                                            "file name holds a NUL byte"]


@case("extends a missing file")
def _(tmp):
    _write(tmp / "s.toml", 'extends = "missing.toml"\n')
    return ["validate", F(tmp, "s.toml")], [f"{F(tmp, 's.toml')}: extends: "
                                            f"{F(tmp, 'missing.toml')}: file not found"]


@case("extends an empty name")
def _(tmp):
    _write(tmp / "s.toml", 'extends = ""\n')
    return ["validate", F(tmp, "s.toml")], [f"{F(tmp, 's.toml')}: extends: must be a file name"]


# item 5: strict types, in files and through --set

@case("true, '2023' and '1.2' for numbers in a file")
def _(tmp):
    _write(tmp / "s.toml", "[meta]\nsteps_per_year = true\nstart_year = '2023'\n"
                           "[software]\nreturns_r = '1.2'\n")
    s = F(tmp, "s.toml")
    return ["validate", s], [f"{s}: meta.steps_per_year: input should be a valid integer",
                             f"{s}: meta.start_year: input should be a valid number",
                             f"{s}: software.returns_r: input should be a valid number"]


@case("a TOML string for a number through --set")
def _(tmp):
    return (["validate", str(BASELINE), "--set", "software.returns_r='1.2'"],
            ["error: --set: software.returns_r: input should be a valid number, not a string"])


@case("true for an integer through --set")
def _(tmp):
    return (["validate", str(BASELINE), "--set", "meta.steps_per_year=true"],
            ["error: --set: meta.steps_per_year: input should be a valid integer"])


@case("1 for a boolean")
def _(tmp):
    _write(tmp / "s.toml", "[[tasks]]\nname = 'a'\nreview = 1\n")
    return ["validate", F(tmp, "s.toml")], ["tasks[0].review: input should be a valid boolean"]


@case("a 400-digit integer in a scenario")
def _(tmp):
    _write(tmp / "s.toml", "[meta]\nstart_year = " + "9" * 400 + "\n")
    return ["validate", F(tmp, "s.toml")], [f"{F(tmp, 's.toml')}: meta.start_year: must be a "
                                            "finite number (got an integer of 400 digits)"]


@case("a 5,000-digit integer in a scenario")
def _(tmp):
    _write(tmp / "s.toml", "[meta]\nstart_year = " + "9" * 5000 + "\n")
    return ["validate", F(tmp, "s.toml")], [f"{F(tmp, 's.toml')}: not valid TOML: an integer has "
                                            "more than 4,300 digits"]


# item 10: calibration files, errors against the calibration file and its field

@case("a 400-digit integer in a calibration file")
def _(tmp):
    doc = calibration_doc()
    text = json.dumps(doc).replace('"value": 0.31', '"value": ' + "9" * 400, 1)
    _write(tmp / "c.json", text)
    return (["validate", str(BASELINE), "--calibration", F(tmp, "c.json")],
            [f"error: {F(tmp, 'c.json')}: scaling.alpha.value: must be a finite number (got an "
             "integer of 400 digits)"])


@case("a 5,000-digit integer in a calibration file")
def _(tmp):
    text = json.dumps(calibration_doc()).replace('"value": 0.31', '"value": ' + "9" * 5000, 1)
    _write(tmp / "c.json", text)
    return (["validate", str(BASELINE), "--calibration", F(tmp, "c.json")],
            [f"error: {F(tmp, 'c.json')}: not valid JSON (an integer of 5000 digits)"])


@case("beta 2.1 from the smoke budget")
def _(tmp):
    doc = calibration_doc()
    doc["scaling"]["beta"] = {"value": 2.1, "low": 0.2, "high": 2.5}
    _write(tmp / "x.json", json.dumps(doc))
    return (["validate", str(BASELINE), "--calibration", F(tmp, "x.json")],
            [f"error: {F(tmp, 'x.json')}: scaling.beta.value: 2.1 is outside the scenario's range "
             "0.01..2 for scaling.beta"])


@case("returns r outside the scenario's range")
def _(tmp):
    _write(tmp / "x.json", json.dumps(calibration_doc(returns_r=_est(40.0))))
    return (["validate", str(BASELINE), "--calibration", F(tmp, "x.json")],
            [f"error: {F(tmp, 'x.json')}: returns_r.value: 40 is outside the scenario's range "
             "0.05..10 for software.returns_r"])


@case("low above high")
def _(tmp):
    doc = calibration_doc()
    doc["scaling"]["alpha"] = {"value": 0.3, "low": 0.5, "high": 0.2}
    _write(tmp / "x.json", json.dumps(doc))
    return (["validate", str(BASELINE), "--calibration", F(tmp, "x.json")],
            [f"error: {F(tmp, 'x.json')}: scaling.alpha: low (0.5) is above high (0.2)"])


@case("a scenario asking for a measured file that is missing")
def _(tmp):
    _write(tmp / "s.toml", 'calibration = "measured"\n')
    return (["validate", F(tmp, "s.toml")],
            [f"error: {tmp / 'calibration' / 'measured.json'}: file not found (calibration = "
             '"measured" reads it'])


# item 11: messages that mislead

@case(f"a chain of {MAX_EXTENDS_DEPTH + 1} extends")
def _(tmp):
    n = MAX_EXTENDS_DEPTH + 1
    for i in range(n):
        _write(tmp / f"c{i}.toml", f'extends = "c{i + 1}.toml"\n')
    _write(tmp / f"c{n}.toml", "[meta]\nname = 'end'\n")
    return ["validate", F(tmp, "c0.toml")], [
        f"error: {F(tmp, 'c0.toml')}: extends: the chain of extends is too deep: the limit is "
        f"{MAX_EXTENDS_DEPTH} extends"]


@case("a loop of extends")
def _(tmp):
    _write(tmp / "a.toml", 'extends = "b.toml"\n')
    _write(tmp / "b.toml", 'extends = "./a.toml"\n')
    return ["validate", F(tmp, "a.toml")], ["extends: scenarios extend each other in a loop"]


@case("a --set value holding a second line")
def _(tmp):
    return (["validate", str(BASELINE), "--set", "meta.name='x'\nbogus=1"],
            ["error: --set: meta.name: a value is one TOML literal on one line"])


@case("an Arabic-Indic digit as an index")
def _(tmp):
    return (["validate", str(BASELINE), "--set", "labs[\u0661].name=x"],
            ["error: --set: labs[\u0661].name: not a dotted field path"])


@case("a strategy giving only its training share")
def _(tmp):
    _write(tmp / "s.toml", "[strategies.x.shares]\ntraining = 1.0\n"
                           "[[labs]]\nname = 'a'\nstrategy = 'x'\n")
    return ["validate", F(tmp, "s.toml")], [
        f"error: {F(tmp, 's.toml')}: strategies.x.shares: must sum to 1 (got 1.6: training 1.0 "
        "given; experiments 0.3, internal_inference 0.05, deployment 0.25 from the defaults)"]


@case("a built-in strategy given only its training share")
def _(tmp):
    _write(tmp / "s.toml", "[strategies.rsi_startup.shares]\ntraining = 0.9\n")
    return ["validate", F(tmp, "s.toml")], [
        "strategies.rsi_startup.shares: must sum to 1 (got 1.6: training 0.9 given; experiments "
        "0.35, internal_inference 0.3, deployment 0.05 from the built-in rsi_startup strategy)"]


@case("--until off the step grid")
def _(tmp):
    return (["run", str(BASELINE), "--set", "meta.steps_per_year=1", "--until", "2030.5",
             "--out", F(tmp, "o")],
            ["error: --until: meta.end_year: 2030.5 is not a whole number of steps from "
             "meta.start_year 2023.0 at 1 step a year"])


@case("an end year off the step grid in a file")
def _(tmp):
    _write(tmp / "s.toml", "[meta]\nstart_year = 2023.0\nend_year = 2030.01\n")
    return ["validate", F(tmp, "s.toml")], [
        f"error: {F(tmp, 's.toml')}: meta.end_year: 2030.01 is not a whole number of steps from "
        "meta.start_year 2023.0 at 12 steps a year"]


@case("an empty file")
def _(tmp):
    _write(tmp / "s.toml", "")
    return ["validate", F(tmp, "s.toml")], [f"error: {F(tmp, 's.toml')}: file holds no settings"]


@case("a file holding only a comment")
def _(tmp):
    _write(tmp / "s.toml", "# nothing here\n\n")
    return ["validate", F(tmp, "s.toml")], [f"error: {F(tmp, 's.toml')}: file holds no settings"]


# item 7: the supported scale

@case("1,000 labs at 365 steps a year")
def _(tmp):
    labs = "".join(f"[[labs]]\nname = 'l{i}'\n" for i in range(1000))
    _write(tmp / "s.toml", f"[meta]\nsteps_per_year = 365\n{labs}")
    return ["validate", F(tmp, "s.toml")], [
        f"error: {F(tmp, 's.toml')}: labs: 1000 labs x 8030 steps = 8,030,000 lab-steps exceeds "
        f"the supported {MAX_LAB_STEPS:,}; use fewer labs, fewer meta.steps_per_year or a "
        "shorter span"]


# other kinds found on the way

@case("not UTF-8")
def _(tmp):
    _write(tmp / "s.toml", b"[meta]\nname = '\xff'\n")
    return ["validate", F(tmp, "s.toml")], [f"error: {F(tmp, 's.toml')}: not UTF-8 text (byte 15)"]


@case("a calibration file that is not UTF-8")
def _(tmp):
    _write(tmp / "c.json", b'{"a": "\xfe"}')
    return (["validate", str(BASELINE), "--calibration", F(tmp, "c.json")],
            [f"error: {F(tmp, 'c.json')}: not UTF-8 text"])


@case("an index too large")
def _(tmp):
    return (["validate", str(BASELINE), "--set", "labs[" + "9" * 5000 + "].name=x"],
            [("error: --set: labs[999", "index 99999999999999999999... is too large")])


@case("many problems")
def _(tmp):
    _write(tmp / "s.toml", "".join(f"k{i} = 1\n" for i in range(120)))
    return ["validate", F(tmp, "s.toml")], [
        *(f"k{i}: unknown field" for i in range(50)), "70 more problems not shown"]


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_error_line_per_problem(name, tmp_path, capsys):
    argv, expected = CASES[name](tmp_path)
    code = main(argv)
    _check(code, capsys.readouterr().err, expected)
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------------------------------------
# Inputs that never end or never answer: a child process each, so a regression cannot hang


def _fifo(tmp: Path) -> Path:
    path = tmp / "pipe.toml"
    os.mkfifo(path)  # never opened for writing: reading it would wait forever
    return path


HANG_CASES: dict[str, Callable[[Path], tuple[list[str], str]]] = {
    "/dev/zero as the scenario": lambda tmp: (["validate", "/dev/zero"],
                                              "error: /dev/zero: is a device, not a scenario file"),
    "/dev/urandom as the scenario": lambda tmp: (["validate", "/dev/urandom"],
                                                 "error: /dev/urandom: is a device"),
    "extends /dev/zero": lambda tmp: (
        ["validate", str(_write(tmp / "s.toml", 'extends = "/dev/zero"\n'))],
        f"error: {tmp / 's.toml'}: extends: /dev/zero: is a device, not a scenario file"),
    "extends /dev/urandom": lambda tmp: (
        ["validate", str(_write(tmp / "s.toml", 'extends = "/dev/urandom"\n'))],
        f"error: {tmp / 's.toml'}: extends: /dev/urandom: is a device"),
    "a named pipe as the scenario": lambda tmp: (
        ["validate", str(_fifo(tmp))], f"error: {tmp / 'pipe.toml'}: is a named pipe"),
    "extends a named pipe": lambda tmp: (
        ["validate", str(_write(tmp / "s.toml", f'extends = "{_fifo(tmp).name}"\n'))],
        f"error: {tmp / 's.toml'}: extends: {tmp / 'pipe.toml'}: is a named pipe"),
    "a named pipe as the calibration file": lambda tmp: (
        ["validate", str(BASELINE), "--calibration", str(_fifo(tmp))],
        f"error: {tmp / 'pipe.toml'}: is a named pipe, not a calibration file"),
    "/dev/zero as the calibration file": lambda tmp: (
        ["run", str(BASELINE), "--calibration", "/dev/zero", "--out", str(tmp / "o")],
        "error: /dev/zero: is a device, not a calibration file"),
    "/dev/urandom as the calibration file": lambda tmp: (
        ["validate", str(BASELINE), "--calibration", "/dev/urandom"],
        "error: /dev/urandom: is a device"),
}


@pytest.mark.parametrize("name", list(HANG_CASES))
def test_files_that_never_end_are_refused_at_once(name, tmp_path):
    argv, needle = HANG_CASES[name](tmp_path)
    code, err = _run_child(tmp_path, argv)
    (line,) = _check(code, err, [needle])
    assert line.startswith(needle)
    assert not (tmp_path / "o").exists()


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root reads a chmod 000 file (CI runs as root); the directory and "
                           "symlink-loop cases cover the unreadable parent there")
def test_extends_an_unreadable_file(tmp_path, capsys):
    (tmp_path / "p.toml").write_text("[meta]\nname = 'p'\n")
    (tmp_path / "p.toml").chmod(0)
    (tmp_path / "s.toml").write_text('extends = "p.toml"\n')
    code = main(["validate", str(tmp_path / "s.toml")])
    _check(code, capsys.readouterr().err,
           [f"{tmp_path / 's.toml'}: extends: {tmp_path / 'p.toml'}: cannot read file: "
            "Permission denied"])


# ---------------------------------------------------------------------------------------------
# What the checks must not refuse


def test_brackets_dots_and_quotes_inside_strings_and_comments_are_not_nesting(tmp_path):
    deep = "[" * 500 + "{" * 500 + "." * 500
    path = tmp_path / "s.toml"
    path.write_text(f"# {deep}\n[meta]\nname = 'x'  # {deep}\n"
                    f'description = """{deep}\n"quoted" \\""" {deep}"""\n'
                    f"[strategies.frontier]\nrace_response = 0.25\n"
                    f"[\"strategies\".'rsi_startup']\nopenness = 1.0e-1\n")
    spec = load_scenario(path)
    assert spec.meta.description.startswith(deep) and spec.meta.name == "x"
    assert spec.strategies["rsi_startup"].openness == 0.1


def test_the_limits_are_64_levels_and_64_key_parts():
    from ixsim.sim.inputfiles import json_nesting_problem, toml_nesting_problem

    def key(parts: int) -> str:
        return ".".join(["k"] * parts)

    at_limit = [f"{key(64)} = 1", "x = " + "[" * 63 + "]" * 63,
                f"[{key(31)}]\n{key(32)} = 1",  # header 31 (+ 1: [[ ]] could add one) + key 32
                f"x = {{{key(30)} = [" + "[" * 31 + "]" * 32 + "}"]
    over = [f"{key(65)} = 1", "x = " + "[" * 64 + "]" * 64, f"[{key(31)}]\n{key(33)} = 1",
            f"[{key(65)}]"]
    assert [toml_nesting_problem(t) for t in at_limit] == [None] * len(at_limit)
    assert all(toml_nesting_problem(t) is not None for t in over)
    assert json_nesting_problem("[" * 64 + "]" * 64) is None
    assert json_nesting_problem("[" * 65 + "]" * 65) is not None
    assert json_nesting_problem('["' + "[" * 100 + '\\"' + "{" * 100 + '"]') is None


def test_an_integer_is_fine_for_a_float_field_and_set_takes_toml(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("[meta]\nstart_year = 2023\nend_year = 2030\nsteps_per_year = 1\n")
    spec = load_scenario(path, {"software.returns_r": 2})
    assert spec.meta.start_year == 2023.0 and type(spec.meta.start_year) is float
    assert spec.software.returns_r == 2.0 and type(spec.software.returns_r) is float
    assert main(["validate", str(path), "--set", "software.returns_r=1.5",
                 "--set", "meta.name=two words"]) == 0


def test_a_file_that_cannot_be_opened_is_one_line_even_as_root(tmp_path, capsys, monkeypatch):
    """The chmod 000 case where root reads everything: the open itself is refused."""
    import errno

    import ixsim.sim.inputfiles as inputfiles

    real_open = os.open

    def refuse(path, *args, **kwargs):
        if str(path).endswith("p.toml"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(inputfiles.os, "open", refuse)
    (tmp_path / "p.toml").write_text("[meta]\nname = 'p'\n")
    (tmp_path / "s.toml").write_text('extends = "p.toml"\n')
    code = main(["validate", str(tmp_path / "s.toml")])
    _check(code, capsys.readouterr().err,
           [f"{tmp_path / 's.toml'}: extends: {tmp_path / 'p.toml'}: cannot read file: "
            "Permission denied"])
