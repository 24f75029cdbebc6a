"""The local training corpus: the Python standard library's own source, as bytes.

Tokens are bytes (vocabulary 256). The corpus is the concatenation of the stdlib's ``*.py``
files, cut to a fixed number of bytes; the last ``validation_fraction`` of it is the
validation split. Files are ordered by the SHA-256 of their relative path: a fixed order that
does not depend on the file system, like sorted order, but which mixes packages. (In sorted
order the first few MB are packages a-e and about a quarter of them is the near-identical
charmap tables of ``encodings/``; the last 10% of a 4 MB cut was almost all such tables, which
made validation loss fall to implausibly low values.) Different Python versions ship different
stdlib sources, so the SHA-256 of the exact bytes and the Python version go into provenance.
"""

from __future__ import annotations

import hashlib
import platform
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import numpy as np

VOCAB_SIZE = 256  # byte-level tokens
# Third-party code installed under the stdlib directory differs between machines: skip it.
_SKIPPED_TOP_DIRS = frozenset({"site-packages", "dist-packages"})


@dataclass(frozen=True)
class Corpus:
    """Token arrays (uint8, one token per byte) and where they came from."""

    train: np.ndarray
    validation: np.ndarray
    sha256: str
    n_bytes: int
    n_files: int
    root: str

    def provenance(self, validation_fraction: float) -> dict:
        """JSON-ready description of the exact bytes used."""
        return {
            "source": "python stdlib *.py (site-packages excluded), ordered by sha256 of the relative "
                      "path, concatenated",
            "root": self.root,
            "python_version": platform.python_version(),
            "sha256": self.sha256,
            "bytes": self.n_bytes,
            "files": self.n_files,
            "train_bytes": int(self.train.size),
            "validation_bytes": int(self.validation.size),
            "split": f"first {1 - validation_fraction:.0%} train, last {validation_fraction:.0%} validation",
        }


def _order_key(relative: str) -> str:
    return hashlib.sha256(relative.encode("utf-8")).hexdigest()


def stdlib_files(root: Path | None = None) -> list[Path]:
    """The stdlib's ``*.py`` files in corpus order: by SHA-256 of the relative POSIX path."""
    root = Path(sysconfig.get_paths()["stdlib"]) if root is None else root
    files = [
        p
        for p in root.rglob("*.py")
        if p.relative_to(root).parts[0] not in _SKIPPED_TOP_DIRS and p.is_file()
    ]
    return sorted(files, key=lambda p: _order_key(p.relative_to(root).as_posix()))


def load_corpus(n_bytes: int, validation_fraction: float, root: Path | None = None,
                min_bytes: int | None = None) -> Corpus:
    """Read the first ``n_bytes`` bytes of the stdlib corpus and split it.

    A stdlib with fewer bytes is used whole if it holds at least ``min_bytes`` (default
    ``n_bytes``: no shortfall allowed); otherwise ValueError. Provenance records the bytes used.
    """
    root = Path(sysconfig.get_paths()["stdlib"]) if root is None else root
    chunks: list[bytes] = []
    have = 0
    n_files = 0
    for path in stdlib_files(root):
        if have >= n_bytes:
            break
        data = path.read_bytes()
        chunks.append(data[: n_bytes - have])
        have += len(chunks[-1])
        n_files += 1
    needed = n_bytes if min_bytes is None else min_bytes
    if have < needed:
        raise ValueError(f"the stdlib at {root} has only {have} bytes of *.py source (need {needed})")
    raw = b"".join(chunks)
    tokens = np.frombuffer(raw, dtype=np.uint8)
    n_val = int(round(have * validation_fraction))
    return Corpus(
        train=tokens[: have - n_val],
        validation=tokens[have - n_val :],
        sha256=hashlib.sha256(raw).hexdigest(),
        n_bytes=have,
        n_files=n_files,
        root=str(root),
    )
