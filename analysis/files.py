"""The one place that writes files: every output goes to a temporary file beside its target and
is renamed over it only when complete, so readers and interrupted runs never see half a file.

The model (``sim/model.py``, ``sim/agents``, ``sim/dynamics``) never imports this; commands do."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _publishable(path: Path) -> None:
    """mkstemp makes 0600 files; give outputs the usual permissions (0666 less the umask)."""
    os.chmod(path, 0o666 & ~_umask())


@contextlib.contextmanager
def staged(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` only on success."""
    target = Path(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        _publishable(tmp_path)
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def write_all(writers: dict[str, Callable[[Path], None]], directory: str | Path) -> list[Path]:
    """Write several files into ``directory`` so that none is replaced unless all were written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    temps: list[tuple[Path, Path]] = []
    try:
        for name, write in writers.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
            os.close(fd)
            temps.append((Path(tmp), directory / name))
            write(Path(tmp))
    except BaseException:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
        raise
    try:
        for tmp, final in temps:
            _publishable(tmp)
            os.replace(tmp, final)
    finally:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
    return [final for _, final in temps]


def write_text(path: str | Path, text: str) -> None:
    """Write a text file atomically."""
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path: str | Path, payload: bytes) -> None:
    """Write bytes atomically, flushed to disk before the rename."""
    with staged(path) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
