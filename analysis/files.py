"""The one place that writes files. Every output is checked, staged and published whole.

Targets. A file target must be a regular file or not exist yet; a folder target must be a
folder or not exist yet. Anything else (a device, a pipe, a socket, a folder where a file is
meant, a file where a folder is meant, an empty path, the filesystem root, the current folder
or one that holds it) is refused with ``OutputError`` before anything is written. A target
that is a symbolic link is followed: the file or folder it names is replaced, the link stays.

One file (``staged``, ``write_bytes``, ``write_text``): written to ``.NAME.<random>.tmp``
beside the target, flushed, then renamed over it, so readers and interrupted runs never see
half a file. The writer holds an ``flock`` on its temporary file for as long as it exists; a
later write to the same target removes leftovers of killed writers (those whose lock is free).

One folder (``publish_folder``, ``write_all``): a run's outputs are published together or not
at all. They are written into a staging folder ``.NAME.ixsim-new-<random>`` beside the target
(same filesystem), which is then swapped with the target in one ``renameat2(RENAME_EXCHANGE)``
call: a reader sees the complete old set or the complete new set, never a mix. The old set,
now under the staging name, is then removed. Where the exchange is not supported, the old
folder is renamed aside (``.NAME.ixsim-old-<random>``) and the new one renamed in; a reader
can then find no folder for an instant, but never a mixed one.

While a folder is being written its writer holds an exclusive, non-blocking ``flock`` on
``.NAME.lock`` beside it: a second writer is refused (``another ixsim run is writing there``)
rather than interleaved. Holding that lock, a writer removes the staging folders that killed
writers left behind (nobody else can own them), and removes the lock file when done. A
folder that already holds files ixsim did not write (anything but the names the caller owns)
is refused rather than replaced: the swap replaces the folder whole, so it would delete them.

The model (``sim/model.py``, ``sim/agents``, ``sim/dynamics``) never imports this; commands do.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

LOCK_SUFFIX = ".lock"
STAGING_TAG = ".ixsim-"  # .NAME.ixsim-new-<random> (staging), .NAME.ixsim-old-<random> (aside)
_RANDOM = r"[a-z0-9_]{8}"  # tempfile's random part


class OutputError(Exception):
    """An output path that must not be written: ``path`` as the user gave it, and why."""

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}" if self.path else reason)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _publishable(path: Path, folder: bool = False) -> None:
    """mkstemp/mkdtemp make 0600/0700 entries; give outputs the usual permissions."""
    os.chmod(path, (0o777 if folder else 0o666) & ~_umask())


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def _stat(path: Path) -> os.stat_result | None:
    """stat following links; None if nothing (or a dangling link) is there."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


def _check_parents(path: Path) -> None:
    """Every existing ancestor of ``path`` must be a folder (``somefile/sub`` is refused)."""
    for parent in path.parents:
        try:
            st = os.stat(parent)
        except FileNotFoundError:
            continue  # created later, or reported when it is
        except NotADirectoryError:
            continue  # a higher ancestor is a file: found further up
        if stat.S_ISDIR(st.st_mode):
            return
        kind = "is a file, not a folder" if stat.S_ISREG(st.st_mode) else "is not a folder"
        raise OutputError(parent, kind)


def _followed(path: Path) -> Path:
    """``path``, or the path a symbolic link at ``path`` names (its own links followed too)."""
    st = _lstat(path)
    if st is not None and stat.S_ISLNK(st.st_mode):
        return Path(os.path.realpath(path))
    return path


def check_file(target: str | os.PathLike) -> Path:
    """Raise OutputError unless ``target`` may be written as a file (see the module docstring);
    returns the path to write (a symbolic link followed)."""
    if os.fspath(target) == "":
        raise OutputError("", "empty path")
    path = Path(target)
    _check_parents(path)
    real = _followed(path)
    st = _stat(real)
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise OutputError(path, "is a folder, not a file" if stat.S_ISDIR(st.st_mode)
                          else "exists and is not a regular file")
    return real


def check_folder(target: str | os.PathLike, owned: Iterable[str] = ()) -> Path:
    """Raise OutputError unless ``target`` may be replaced by a folder of outputs: it does not
    exist, or is a folder holding only the files named in ``owned`` (regular files) and
    temporaries of theirs. Returns the path to write (a symbolic link followed)."""
    if os.fspath(target) == "":
        raise OutputError("", "empty path")
    path = Path(target)
    real = Path(os.path.realpath(path))
    if real == Path(real.anchor):
        raise OutputError(path, "is the filesystem root")
    here = Path(os.path.realpath(os.getcwd()))
    if real == here:
        raise OutputError(path, "is the current folder; name a folder inside it")
    if real in here.parents:
        raise OutputError(path, "holds the current folder")
    _check_parents(path)
    write = _followed(path)
    st = _stat(write)
    if st is None:
        return write
    if not stat.S_ISDIR(st.st_mode):
        raise OutputError(path, "is a file, not a folder" if stat.S_ISREG(st.st_mode)
                          else "exists and is not a folder")
    owned = set(owned)
    temporary = re.compile(r"\.(?:%s)\.%s\.tmp" % ("|".join(map(re.escape, owned)) or "(?!)",
                                                  _RANDOM))
    unknown = []
    with os.scandir(write) as entries:
        for entry in entries:
            if entry.name in owned:
                if not entry.is_file(follow_symlinks=False):
                    raise OutputError(path / entry.name, "exists and is not a regular file")
            elif not (temporary.fullmatch(entry.name) and entry.is_file(follow_symlinks=False)):
                unknown.append(entry.name)
    if unknown:
        names = ", ".join(sorted(unknown)[:3]) + (", ..." if len(unknown) > 3 else "")
        raise OutputError(path, f"holds files ixsim did not write ({names}); move them or "
                                "write to another folder")
    return write


# --- locks -------------------------------------------------------------------------------

def _same_file(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd`` (a lock file not removed since)."""
    st = _lstat(path)
    mine = os.fstat(fd)
    return st is not None and (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)


@contextlib.contextmanager
def exclusive(target: str | os.PathLike, shown: str | os.PathLike | None = None) -> Iterator[None]:
    """Hold the advisory lock ``.NAME.lock`` beside ``target`` (created, and removed on exit);
    raise OutputError at once if another process holds it. The parent folder must exist."""
    target = Path(target)
    lock = target.with_name(f".{target.name}{LOCK_SUFFIX}")
    flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
    while True:
        fd = os.open(lock, flags, 0o666 & ~_umask())
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OutputError(target if shown is None else shown,
                              "another ixsim run is writing there") from None
        except BaseException:
            os.close(fd)
            raise
        if _same_file(fd, lock):
            break
        os.close(fd)  # the holder removed it between our open and our lock: take a fresh one
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)  # still ours: a newcomer on the old file sees it gone and retries
        os.close(fd)


@contextlib.contextmanager
def _deferred_interrupts() -> Iterator[None]:
    """Hold back SIGINT (Ctrl-C) for the few calls that must not be cut in two (a swap and
    its clean-up); the interrupt is raised right after. Only the main thread handles signals."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous):  # SIG_IGN or SIG_DFL: nothing would be raised here anyway
        yield
        return
    caught: list[tuple[int, object]] = []
    signal.signal(signal.SIGINT, lambda signum, frame: caught.append((signum, frame)))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            previous(*caught[0])


# --- one file ------------------------------------------------------------------------------

def _remove_dead_temporaries(folder: Path, name: str) -> None:
    """Remove ``.NAME.<random>.tmp`` files in ``folder`` whose writer is gone (lock free)."""
    pattern = re.compile(r"\.%s\.%s\.tmp" % (re.escape(name), _RANDOM))
    try:
        entries = [e.name for e in os.scandir(folder) if pattern.fullmatch(e.name)]
    except OSError:
        return
    for entry in entries:
        path = folder / entry
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live writer
            if _same_file(fd, path):
                os.unlink(path)
        except OSError:
            continue
        finally:
            os.close(fd)


def _locked_temporary(folder: Path, name: str) -> tuple[int, Path]:
    """A new ``.NAME.<random>.tmp`` in ``folder``, open and flock'ed (so it is never taken for
    a dead writer's leftover)."""
    while True:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # a cleaner may hold it for an instant
            if _same_file(fd, Path(tmp)):
                return fd, Path(tmp)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        os.close(fd)  # a cleaner removed it before we locked it: make another


@contextlib.contextmanager
def staged(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` only on success.
    Raises OutputError if ``target`` must not be written (see ``check_file``)."""
    shown = target
    target = check_file(target)
    _remove_dead_temporaries(target.parent, target.name)
    fd, tmp_path = _locked_temporary(target.parent, target.name)
    try:
        yield tmp_path
        check_file(shown)  # still a regular file (or nothing) just before the rename
        _publishable(tmp_path)
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write a text file atomically."""
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path: str | os.PathLike, payload: bytes) -> None:
    """Write bytes atomically, flushed to disk before the rename."""
    with staged(path) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())


# --- one folder -------------------------------------------------------------------------------

def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        import ctypes

        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError, ImportError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), os.fspath(b))


def _remove_dead_staging(parent: Path, name: str) -> None:
    """Staging and set-aside folders of ``name`` left by killed writers (call holding the lock)."""
    pattern = re.compile(r"\.%s%s(?:new|old)-%s" % (re.escape(name), re.escape(STAGING_TAG),
                                                    _RANDOM))
    for entry in os.scandir(parent):
        if pattern.fullmatch(entry.name):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _sync_folder(folder: Path) -> None:
    """Flush each file of ``folder`` and the folder itself to disk before it is published."""
    for entry in os.scandir(folder):
        if entry.is_file(follow_symlinks=False):
            fd = os.open(entry.path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _swap_in(staging: Path, target: Path) -> None:
    """Make ``staging`` the folder at ``target``; what was there ends under the staging name
    (or the set-aside name) and is removed."""
    if _lstat(target) is None:
        os.rename(staging, target)
        return
    if _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}{STAGING_TAG}old-", dir=target.parent))
    os.rename(target, aside)  # a folder renamed over an empty folder replaces it
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(aside, target)
        raise
    shutil.rmtree(aside, ignore_errors=True)


@contextlib.contextmanager
def publish_folder(target: str | os.PathLike, owned: Iterable[str] = ()) -> Iterator[Path]:
    """Lock ``target`` (a folder), check it (``check_folder``), and yield an empty staging
    folder beside it; on success the staging folder replaces ``target`` whole. On failure or
    interrupt nothing is replaced and nothing is left behind. ``owned``: the file names a
    previous writer of this folder may have left there (they are replaced, not kept).

    Raises OutputError for a target that must not be written or is being written."""
    shown = target
    owned = set(owned)
    target = check_folder(target, owned)
    target.parent.mkdir(parents=True, exist_ok=True)
    with exclusive(target, shown):
        _remove_dead_staging(target.parent, target.name)
        staging: Path | None = None
        try:
            staging = Path(tempfile.mkdtemp(prefix=f".{target.name}{STAGING_TAG}new-",
                                            dir=target.parent))
            yield staging
            check_folder(shown, owned)  # again, holding the lock: nothing else changed it
            _publishable(staging, folder=True)
            _sync_folder(staging)
            with _deferred_interrupts():
                _swap_in(staging, target)
                _fsync_dir(target.parent)
        finally:
            if staging is not None:
                with _deferred_interrupts():
                    shutil.rmtree(staging, ignore_errors=True)


def write_all(writers: dict[str, Callable[[Path], None]], directory: str | os.PathLike,
              owned: Iterable[str] = ()) -> list[Path]:
    """Write several files as one folder, ``directory``, published whole (``publish_folder``):
    ``writers`` maps each file name to a function that writes that file at the path it gets.
    ``owned``: further names an earlier writer may have left there (replaced with the rest)."""
    directory = Path(directory)
    with publish_folder(directory, set(writers) | set(owned)) as staging:
        for name, write in writers.items():
            write(staging / name)
    return [directory / name for name in writers]
