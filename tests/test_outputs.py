"""Outputs (issue 8, items 1, 8, 9 and 11's "parent is a file"): the one writer never writes
over what is not a regular file (a folder for a run), never into "" or /, publishes a run's
files together or not at all, refuses a second writer, cleans up after killed runs, and Ctrl-C
in any phase ends in ``error: interrupted``, exit 130, with no partial output.

Non-regular targets are made in tmp_path (a named pipe, a link to one): real devices are never
touched. Every test writes only inside its tmp directory."""

from __future__ import annotations

import fcntl
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ixsim.analysis import files
from ixsim.analysis.files import OutputError, exclusive, publish_folder, write_all, write_bytes
from ixsim.cli.app import main
from tests.conftest import ROOT

LAUNCHER = Path(sys.executable).with_name("ixsim")  # the console script (ixsim.cli.launch)


def ixsim_command(*args: str) -> list[str]:
    if LAUNCHER.is_file():
        return [str(LAUNCHER), *args]
    return [sys.executable, "-c", "from ixsim.cli.launch import entry; entry()", *args]


def start(*args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen(ixsim_command(*args), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": "120", **env})


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def one_error_line(code: int, capsys) -> str:
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


@pytest.fixture
def pipe(tmp_path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


def is_fifo(path: Path) -> bool:
    return stat.S_ISFIFO(os.lstat(path).st_mode)


@pytest.fixture(scope="module")
def short_result():
    from ixsim import load_scenario, simulate

    return simulate(load_scenario("baseline", {"meta.end_year": 2024.0}), seed=0)


# --- item 1: the writer refuses what is not a regular file, "" and / ----------------------------

@pytest.mark.parametrize("kind", ["pipe", "link to a pipe", "folder"])
def test_the_writer_never_writes_over_what_is_not_a_regular_file(kind, tmp_path, pipe):
    target = {"pipe": pipe, "link to a pipe": tmp_path / "link", "folder": tmp_path / "dir"}[kind]
    if kind == "link to a pipe":
        target.symlink_to(pipe)
    if kind == "folder":
        target.mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    reason = "is a folder, not a file" if kind == "folder" else "exists and is not a regular file"
    for write in (lambda: write_bytes(target, b"x"), lambda: files.write_text(target, "x")):
        with pytest.raises(OutputError) as exc:
            write()
        assert str(exc.value) == f"{target}: {reason}"
    with pytest.raises(OutputError):
        with files.staged(target):
            pytest.fail("staged() must refuse before yielding")
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing added or replaced
    assert is_fifo(pipe)
    if kind == "link to a pipe":
        assert os.readlink(target) == str(pipe)


def test_a_link_to_a_regular_file_is_written_through(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    files.write_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "real.json"]


def test_empty_root_and_current_folder_are_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputError, match="^empty path$"):
        write_bytes("", b"x")
    with pytest.raises(OutputError, match="^/: is a folder, not a file$"):
        write_bytes("/", b"x")
    for target, reason in [("", "empty path"), ("/", "/: is the filesystem root"),
                           ("//", "//: is the filesystem root"),
                           (".", ".: is the current folder; name a folder inside it"),
                           ("..", "..: holds the current folder")]:
        with pytest.raises(OutputError) as exc:
            with publish_folder(target):
                pytest.fail("publish_folder() must refuse before yielding")
        assert str(exc.value) == reason
    assert list(tmp_path.iterdir()) == []


def test_a_parent_that_is_a_file_is_named(tmp_path):
    somefile = tmp_path / "somefile"
    somefile.write_text("x")
    for write in (lambda: write_bytes(somefile / "sub" / "x.json", b"x"),
                  lambda: write_all({"a": lambda p: p.write_text("a")}, somefile / "sub")):
        with pytest.raises(OutputError) as exc:
            write()
        assert (exc.value.path, exc.value.reason) == (str(somefile), "is a file, not a folder")
    assert somefile.read_text() == "x" and sorted(tmp_path.iterdir()) == [somefile]


def _backtest(out: str) -> list[str]:
    return ["backtest", "--until", "2025", "--out", out]


def _calibrate(out: str) -> list[str]:
    return ["calibrate", "--budget", "smoke", "--out", out]


def _run(out: str) -> list[str]:
    return ["run", "baseline", "--until", "2024", "--no-plot", "--out", out]


@pytest.mark.parametrize("command", [_backtest, _calibrate, _run],
                         ids=["backtest", "calibrate", "run"])
@pytest.mark.parametrize("case", ["pipe", "link to a pipe", "wrong kind", "empty", "root",
                                  "parent is a file"])
def test_every_command_refuses_a_bad_out_with_one_line(command, case, tmp_path, pipe,
                                                       monkeypatch, capsys):
    """`ixsim backtest --out /dev/null` replaced the device with a file (as root); `--out ""`
    and `--out /` wrote into the current folder and the filesystem root."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "link").symlink_to(pipe)
    (tmp_path / "dir").mkdir()
    (tmp_path / "somefile").write_text("x")
    before = sorted(p.name for p in tmp_path.iterdir())
    folder = command is _run
    out, line = {
        "pipe": ("pipe", "pipe: exists and is not a " + ("folder" if folder else "regular file")),
        "link to a pipe": ("link", "link: exists and is not a "
                           + ("folder" if folder else "regular file")),
        "wrong kind": (("somefile", "somefile: is a file, not a folder") if folder
                       else ("dir", "dir: is a folder, not a file")),
        "empty": ("", "empty path"),
        "root": ("/", "/: is the filesystem root" if folder else "/: is a folder, not a file"),
        "parent is a file": ("somefile/sub", "somefile: is a file, not a folder"),
    }[case]
    assert one_error_line(main(command(out)), capsys) == f"error: --out: {line}"
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert is_fifo(pipe) and (tmp_path / "somefile").read_text() == "x"


def test_run_into_the_current_folder_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    line = one_error_line(main(_run(".")), capsys)
    assert line == "error: --out: .: is the current folder; name a folder inside it"
    assert list(tmp_path.iterdir()) == []


# --- item 8: a run folder is published whole, by one writer at a time ---------------------------

def _run_files(result, folder: Path, figure: bytes | None = b"figure") -> list[Path]:
    from ixsim.analysis.store import write_run

    also = {"trajectory.png": lambda p: p.write_bytes(figure)} if figure is not None else None
    return write_run(result, folder, also=also)


def test_store_and_command_line_agree_on_the_run_files():
    from ixsim.analysis.store import RUN_FILES
    from ixsim.cli.app import RUN_FILES as CLI_RUN_FILES

    assert CLI_RUN_FILES == RUN_FILES


def test_a_run_folder_is_replaced_whole(short_result, tmp_path):
    out = tmp_path / "out"
    _run_files(short_result, out)
    assert {p.name for p in out.iterdir()} == {"summary.json", "world.parquet", "labs.parquet",
                                               "events.parquet", "network.json", "trajectory.png"}
    _run_files(short_result, out, figure=None)  # no figure this time: the old one goes too
    assert "trajectory.png" not in {p.name for p in out.iterdir()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging, lock or temp


def test_a_summary_json_that_is_a_folder_fails_before_anything_is_replaced(short_result,
                                                                          tmp_path, capsys):
    """It replaced four files before the error."""
    out = tmp_path / "out"
    _run_files(short_result, out)
    (out / "summary.json").unlink()
    (out / "summary.json").mkdir()
    (out / "summary.json" / "keep").write_text("keep")
    before = {p.name: (p.read_bytes() if p.is_file() else None) for p in out.iterdir()}
    with pytest.raises(OutputError) as exc:
        _run_files(short_result, out)
    assert str(exc.value) == f"{out}/summary.json: exists and is not a regular file"
    line = one_error_line(main(["run", "baseline", "--until", "2024", "--out", str(out)]), capsys)
    assert line == f"error: --out: {out}/summary.json: exists and is not a regular file"
    assert {p.name: (p.read_bytes() if p.is_file() else None) for p in out.iterdir()} == before
    assert (out / "summary.json" / "keep").read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_folder_holding_files_ixsim_did_not_write_is_refused_not_replaced(short_result,
                                                                           tmp_path, capsys):
    out = tmp_path / "out"
    _run_files(short_result, out)
    (out / "notes.txt").write_text("mine")
    before = snapshot(out)
    with pytest.raises(OutputError, match="holds files ixsim did not write \\(notes.txt\\)"):
        _run_files(short_result, out)
    line = one_error_line(main(_run(str(out))), capsys)
    assert line == (f"error: --out: {out}: holds files ixsim did not write (notes.txt); move "
                    "them or write to another folder")
    assert snapshot(out) == before


def test_a_failed_write_leaves_the_old_folder_and_nothing_else(tmp_path):
    out = tmp_path / "out"
    write_all({"a": lambda p: p.write_text("old a"), "b": lambda p: p.write_text("old b")}, out)

    def broken(path: Path) -> None:
        path.write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_all({"a": lambda p: p.write_text("new a"), "b": broken}, out)
    assert snapshot(out) == {"a": b"old a", "b": b"old b"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_the_swap_without_renameat2_still_publishes_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "_exchange", lambda a, b: False)
    out = tmp_path / "out"
    write_all({"a": lambda p: p.write_text("1")}, out)
    write_all({"a": lambda p: p.write_text("2"), "b": lambda p: p.write_text("2")}, out, ["a"])
    assert snapshot(out) == {"a": b"2", "b": b"2"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_second_writer_is_refused_while_one_holds_the_folder(tmp_path, capsys):
    out = tmp_path / "out"
    with publish_folder(out) as staging:
        (staging / "a").write_text("first")
        with pytest.raises(OutputError) as exc:
            write_all({"a": lambda p: p.write_text("second")}, out)
        assert str(exc.value) == f"{out}: another ixsim run is writing there"
        line = one_error_line(main(_run(str(out))), capsys)
        assert line == f"error: --out: {out}: another ixsim run is writing there"
    assert snapshot(out) == {"a": b"first"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # the lock file is gone too


def test_leftovers_of_killed_writers_are_removed_by_the_next_write(tmp_path):
    """A stale ``.tmp`` stayed after SIGKILL; staging folders and a lock file likewise."""
    out = tmp_path / "out"
    for leftover in (".out.ixsim-new-abcd1234", ".out.ixsim-old-x_y_z_12"):
        (tmp_path / leftover).mkdir()
        (tmp_path / leftover / "summary.json").write_text("{}")
    (tmp_path / ".out.lock").write_text("")  # its holder was killed: the lock is free
    (tmp_path / ".other.ixsim-new-abcd1234").mkdir()  # another target's: not ours to remove
    write_all({"a": lambda p: p.write_text("a")}, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.ixsim-new-abcd1234", "out"]

    target = tmp_path / "b.json"
    dead = tmp_path / ".b.json.deadbeef.tmp"
    dead.write_text("half")
    live = tmp_path / ".b.json.a1ive_12.tmp"  # a writer still at work holds its lock
    live.write_text("half")
    other = tmp_path / ".c.json.deadbeef.tmp"
    other.write_text("half")
    fd = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        files.write_text(target, "new")
    finally:
        os.close(fd)
    assert target.read_text() == "new"
    assert not dead.exists() and live.exists() and other.exists()


def test_a_held_lock_is_not_broken_by_removing_its_file(tmp_path):
    """The lock file goes when its holder is done; one that raced for the old file retries."""
    with exclusive(tmp_path / "x"):
        with pytest.raises(OutputError):
            with exclusive(tmp_path / "x"):
                pass
    assert list(tmp_path.iterdir()) == []
    with exclusive(tmp_path / "x"):
        assert (tmp_path / ".x.lock").exists()


# --- item 8 end to end: SIGKILL mid-write, two runs at once -------------------------------------

pytest_slow = pytest.mark.slow


@pytest.fixture(scope="module")
def reference_runs(tmp_path_factory) -> dict[int, dict[str, bytes]]:
    """The complete outputs of `ixsim run baseline` for seeds 1 and 2."""
    folders = {seed: tmp_path_factory.mktemp(f"ref{seed}") / "out" for seed in (1, 2)}
    procs = {seed: start("run", "baseline", "--seed", str(seed), "--out", str(folder))
             for seed, folder in folders.items()}
    for seed, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    refs = {seed: snapshot(folder) for seed, folder in folders.items()}
    assert refs[1] != refs[2] and len(refs[1]) == 6
    return refs


def _staging(parent: Path, name: str) -> list[Path]:
    return [p for p in parent.glob(f".{name}.ixsim-new-*") if p.is_dir()]


def _start_and_wait_for_writing(parent: Path, *args: str) -> subprocess.Popen | None:
    """Start a run and return once its staging folder holds a data file (mid-write), or None
    if it finished first."""
    proc = start(*args)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if any((s / "world.parquet").exists() for s in _staging(parent, "out")):
            return proc
        time.sleep(0.002)
    proc.communicate()
    return None


@pytest_slow
def test_a_run_killed_mid_write_leaves_the_old_set_and_the_next_run_cleans_up(
        reference_runs, tmp_path):
    """An interrupted run left new data files beside the previous run's trajectory.png."""
    out = tmp_path / "out"
    _previous_run(reference_runs[1], out)
    for _ in range(5):  # until one dies mid-write
        proc = _start_and_wait_for_writing(tmp_path, "run", "baseline", "--seed", "2",
                                           "--out", str(out))
        if proc is not None:
            proc.kill()
            proc.communicate()
            break
    else:
        pytest.fail("no run could be caught writing")
    assert snapshot(out) in (reference_runs[1], reference_runs[2])  # one complete set
    assert _staging(tmp_path, "out")  # what the killed run left
    proc = start("run", "baseline", "--seed", "2", "--out", str(out))
    assert proc.wait(timeout=300) == 0, proc.communicate()[1]
    assert snapshot(out) == reference_runs[2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def _previous_run(files_: dict[str, bytes], folder: Path) -> None:
    """A complete earlier run in ``folder``."""
    folder.mkdir()
    for name, data in files_.items():
        (folder / name).write_bytes(data)


@pytest_slow
def test_two_runs_to_one_folder_never_mix(reference_runs, tmp_path):
    """Two concurrent runs mixed one run's data with the other's figure (both exit 0)."""
    out = tmp_path / "out"
    procs = {seed: start("run", "baseline", "--seed", str(seed), "--out", str(out))
             for seed in (1, 2)}
    results = {seed: (proc.wait(timeout=300), proc.communicate()[1])
               for seed, proc in procs.items()}
    succeeded = [seed for seed, (code, _) in results.items() if code == 0]
    assert succeeded, results
    for seed, (code, err) in results.items():
        if code != 0:
            assert (code, err) == (2, f"error: --out: {out}: another ixsim run is writing there\n")
    final = snapshot(out)
    assert final in [reference_runs[seed] for seed in succeeded]  # one run's files, all of them
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# --- item 9: Ctrl-C in any phase --------------------------------------------------------------

needs_sigint = pytest.mark.skipif(signal.getsignal(signal.SIGINT) is signal.SIG_IGN,
                                  reason="started with SIGINT ignored (nohup): so is ixsim")


def interrupted_run(delay: float, out: Path) -> tuple[int, str]:
    """Start `ixsim run baseline`, send SIGINT after ``delay`` seconds; (exit status, stderr).

    Before the interpreter has imported ixsim.cli.launch (its own start-up, site, the editable
    install's finder, the ``ixsim`` package: about 0.04 s on an idle machine, more when the
    cores are shared) a signal is outside any program's reach. So the child logs its imports
    (PYTHONPROFILEIMPORTTIME, read as they come) and the signal goes at ``delay`` or, if the
    launcher is not imported by then, just after it is. A try whose traceback shows the signal
    still came before ``entry`` ran is repeated."""
    for _ in range(3):
        proc = start("run", "baseline", "--out", str(out), PYTHONPROFILEIMPORTTIME="1")
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
        reader.start()
        started = time.monotonic()
        time.sleep(delay)
        while not any(line.rstrip().endswith(" ixsim.cli.launch") for line in list(lines)):
            if proc.poll() is not None or time.monotonic() - started > 60:
                break
            time.sleep(0.001)
        else:
            if time.monotonic() - started > delay + 0.001:
                time.sleep(0.01)  # it came late: let entry() start
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
        reader.join(timeout=60)
        err = "".join(line for line in lines if not line.startswith("import time:"))
        if not ("Traceback" in err and ", in entry" not in err):
            return proc.returncode, err
    pytest.fail("the signal always came before ixsim.cli.launch.entry ran")


@pytest_slow
@needs_sigint
@pytest.mark.parametrize("delay", [0.05, 0.15, 0.5, 1.0])
def test_ctrl_c_at_any_moment_is_one_line_exit_130_and_no_output(delay, tmp_path):
    """Ctrl-C during `run` exited 130 with nothing on stderr, or with a KeyboardInterrupt
    traceback in the first 0.15 s (while importing): 0.05 s falls in the command line's
    imports, 0.15 s in the model's, 0.5 s and 1.0 s in the model's and the run."""
    assert interrupted_run(delay, tmp_path / "out") == (130, "error: interrupted\n")
    assert list(tmp_path.iterdir()) == []


@pytest_slow
@needs_sigint
def test_ctrl_c_while_writing_keeps_the_previous_run(reference_runs, tmp_path):
    out = tmp_path / "out"
    _previous_run(reference_runs[1], out)
    proc = _start_and_wait_for_writing(tmp_path, "run", "baseline", "--seed", "2",
                                       "--out", str(out))
    assert proc is not None, "the run finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert (proc.returncode, err) == (130, "error: interrupted\n")
    assert snapshot(out) == reference_runs[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_the_console_entry_point_takes_over_ctrl_c_before_heavy_imports():
    """ixsim.cli.launch imports only signal and sys before it installs its handler."""
    code = ("import sys; before = set(sys.modules); import ixsim.cli.launch; "
            "print(sorted(m for m in set(sys.modules) - before if not m.startswith('ixsim')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "typer" not in proc.stdout and "rich" not in proc.stdout, proc.stdout
    if LAUNCHER.is_file():
        assert "from ixsim.cli.launch import entry" in LAUNCHER.read_text()
