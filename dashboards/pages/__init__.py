"""The dashboard's pages, in menu order. Each is a module with ``SLUG`` (its ``?page=`` value),
``TITLE`` and ``build(ctx: AppContext) -> panel Viewable`` (a fresh object per session).

Modules are imported when a page is first shown, and tolerantly: a page that is missing or
fails to import (or to build) shows its error in the page instead of taking the app down.
"""

from __future__ import annotations

import importlib
import traceback
from dataclasses import dataclass
from types import ModuleType

__all__ = ["PAGES", "Page", "page_for", "DEFAULT_SLUG"]


@dataclass(frozen=True)
class Page:
    """One entry of the menu: the URL slug, the module that builds it, and its menu title (the
    module's TITLE wins once it is imported)."""

    slug: str
    module: str
    title: str

    def load(self) -> ModuleType:
        """Import the page's module (ImportError, SyntaxError, ... propagate)."""
        return importlib.import_module(f"{__name__}.{self.module}")


PAGES: tuple[Page, ...] = (
    Page("explorer", "explorer", "Explorer"),
    Page("timelines", "timelines", "Successor-training timelines"),
    Page("early_warning", "early_warning", "Early warning"),
    Page("sensitivity", "sensitivity", "Sensitivity"),
    Page("compare", "compare", "Compare"),
    Page("calibration", "calibration", "Calibration"),
    Page("sweeps", "sweeps", "Sweeps"),
)
DEFAULT_SLUG = PAGES[0].slug


def page_for(slug: str | None) -> Page:
    """The page named by ``slug`` (a URL value); the first page for anything unknown."""
    for page in PAGES:
        if page.slug == slug:
            return page
    return PAGES[0]


def failure_text(page: Page, exc: BaseException) -> str:
    """The one-line notice shown in place of a page that could not be imported or built."""
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return f"The {page.title} page could not be shown: {last}"
