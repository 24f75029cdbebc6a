"""The dashboard app: one Panel server, a menu of pages (``ixsim.dashboards.pages``), the active
page in the URL (``?page=explorer``) with that page's widgets beside it in the query string, so a
copied link restores the view.

``serve(port, address, store)`` is what ``ixsim serve`` runs; ``build_app(ctx)`` makes one
session's view (tests and notebooks can call it). Each browser session gets fresh objects; the
only thing shared between sessions is the read-only ``AppContext``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import panel as pn

from ixsim.dashboards.context import AppContext
from ixsim.dashboards.pages import PAGES, Page, failure_text, page_for

log = logging.getLogger(__name__)

__all__ = ["build_app", "serve", "TITLE", "allowed_origins"]

TITLE = "ixsim dashboards"
INTRO = ("ixsim simulates how fast AI could speed up AI research itself. Pick a page on the "
         "left; every page says in plain words what each figure shows, and the address bar "
         "always holds a link to exactly what you see.")

_CSS = """
.ixsim-caption p { margin-top: 0; }
.ixsim-nav a { text-decoration: none; }
"""

_extension_loaded = False


def _load_extension() -> None:
    global _extension_loaded
    if not _extension_loaded:
        pn.extension("tabulator", raw_css=[_CSS], notifications=False,
                     sizing_mode="stretch_width")
        _extension_loaded = True


def _nav(active: Page) -> pn.pane.Markdown:
    lines = []
    for page in PAGES:
        title = _title(page)
        lines.append(f"- **{title}**" if page is active else f"- [{title}](?page={page.slug})")
    return pn.pane.Markdown("\n".join(lines), css_classes=["ixsim-nav"])


def _title(page: Page) -> str:
    try:
        return getattr(page.load(), "TITLE", page.title)
    except Exception:
        return page.title


def build_page(page: Page, ctx: AppContext) -> Any:
    """The page's view, or a one-line notice saying why it cannot be shown."""
    try:
        module = page.load()
        view = module.build(ctx)
    except ModuleNotFoundError as exc:
        log.warning("page %s is not installed: %s", page.slug, exc)
        return pn.pane.Alert(failure_text(page, exc), alert_type="warning")
    except Exception as exc:
        log.exception("page %s failed", page.slug)
        return pn.pane.Alert(failure_text(page, exc), alert_type="danger")
    return view


def build_app(ctx: AppContext, slug: str | None = None) -> pn.template.BaseTemplate:
    """One session's app: the menu and the page named by ``slug`` (default: the URL's
    ``page``, else the explorer)."""
    _load_extension()
    if slug is None:
        args = pn.state.session_args or {}
        raw = args.get("page", [b""])[0]
        slug = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    page = page_for(slug)
    if pn.state.location is not None:  # the page's slug in the URL, once the browser is
        location = pn.state.location  # connected (earlier changes are overwritten by its own)
        pn.state.onload(lambda: location.update_query(page=page.slug))
    title = pn.pane.Markdown(f"# {_title(page)}", css_classes=["ixsim-page-title"],
                             margin=(0, 10))
    body = build_page(page, ctx)
    store = (f"Sweep store: `{ctx.store}`" if ctx.store is not None
             else "No sweep store (start with `ixsim serve --store DIR` for the sweep pages).")
    template = pn.template.BootstrapTemplate(
        title=TITLE, sidebar_width=250,
        sidebar=[pn.pane.Markdown("### Pages"), _nav(page),
                 pn.pane.Markdown(INTRO + "\n\n" + store, styles={"font-size": "0.9em"})],
        main=[pn.Column(title, body, sizing_mode="stretch_width")],
    )
    return template


def allowed_origins(address: str, port: int) -> list[str]:
    """The hosts whose pages may open the app's websocket: the address served, and localhost."""
    hosts = {address, "localhost", "127.0.0.1"}
    if address in {"0.0.0.0", "::", ""}:
        return ["*"]  # serving every interface was asked for explicitly
    return sorted(f"{h}:{port}" for h in hosts)


def serve(port: int = 5006, address: str = "127.0.0.1", store: Path | None = None, *,
          show: bool = False, threaded: bool = False, start: bool = True) -> Any:
    """Serve the app on ``address:port`` (127.0.0.1 unless told otherwise).

    ``threaded=True`` returns at once with the server running in a thread (``.stop()`` ends
    it; tests use this); ``start=False`` returns the bound, unstarted Bokeh server (the command
    line reports a port in use before it starts); otherwise this blocks until interrupted.
    ``store`` is the sweep store the store pages read (None: model pages only)."""
    _load_extension()
    ctx = AppContext(store=None if store is None else Path(store))

    def session() -> pn.template.BaseTemplate:
        return build_app(ctx)

    return pn.serve({"/": session}, port=port, address=address,
                    websocket_origin=allowed_origins(address, port), show=show, start=start,
                    threaded=threaded, title=TITLE, verbose=start and not threaded,
                    check_unused_sessions=5_000, unused_session_lifetime=15_000)
