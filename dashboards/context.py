"""What every dashboard page is given: the sweep store the app was started on (``--store``).

Pages resolve sweep folders only through :meth:`AppContext.sweep`, so a name that comes from a
page (a URL, a text box) can never read or write outside the store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ixsim.analysis.query import MANIFEST

SWEEP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class StorePathError(ValueError):
    """A sweep name from a page that is not a plain folder name inside the store."""


@dataclass(frozen=True)
class AppContext:
    """The app's one shared input: ``store`` holds one folder per sweep (each with a
    manifest.json), or is None when the app runs without a store (model pages only)."""

    store: Path | None = None

    def sweeps(self) -> list[str]:
        """Names of the sweep folders in the store that have a manifest, sorted; [] without one."""
        if self.store is None or not self.store.is_dir():
            return []
        return sorted(p.name for p in self.store.iterdir()
                      if p.is_dir() and not p.is_symlink() and SWEEP_NAME.match(p.name)
                      and (p / MANIFEST).is_file())

    def sweep(self, name: str) -> Path:
        """The folder of sweep ``name`` inside the store (it may not exist yet); StorePathError
        for anything but a plain name (no separators, no '..', no links out of the store)."""
        if self.store is None:
            raise StorePathError("the app was started without --store")
        if not SWEEP_NAME.match(name or "") or name in {".", ".."}:
            raise StorePathError(f"{name!r}: a sweep name is letters, digits, '_', '.', '-' "
                                 "(at most 64, no path separators)")
        root = self.store.resolve()
        path = (root / name)
        if path.is_symlink() or path.resolve().parent != root:
            raise StorePathError(f"{name!r}: not a folder inside the store")
        return path
