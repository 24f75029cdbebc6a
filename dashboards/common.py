"""What every dashboard page shares: the plain-words caption under a figure, PNG and CSV
downloads rendered on the server, and the URL query string that holds a page's widgets.

Pages import only this module (and ``ixsim.dashboards.context``) from the app; nothing here
knows about a particular page. PNGs are drawn with matplotlib on the server (a matplotlib
Figure, or a HoloViews object rendered with its matplotlib backend): never a browser export.
"""

from __future__ import annotations

import io
import json
import logging
import math
import re
from collections.abc import Callable
from typing import Any

import panel as pn
import param

log = logging.getLogger(__name__)

__all__ = ["caption", "png_download", "csv_download", "url_sync", "notice", "error_lines",
           "downloads", "figure_png", "safe_filename", "PNG_DPI"]

PNG_DPI = 120  # downloaded figures: ~1000 px wide at the default 8-inch figure width


def caption(text: str) -> pn.pane.Markdown:
    """The one sentence in plain words under a figure, saying what it shows."""
    return pn.pane.Markdown(text, css_classes=["ixsim-caption"], sizing_mode="stretch_width",
                            styles={"color": "#444", "font-size": "0.92em",
                                    "margin-top": "-6px"})


def notice(text: str, kind: str = "info") -> pn.pane.Alert:
    """A one-line message in the page (``kind``: info, warning, danger, success)."""
    return pn.pane.Alert(text, alert_type=kind, sizing_mode="stretch_width")


def without_store(intro: pn.viewable.Viewable, purpose: str) -> pn.Column:
    """A store page's body when the app was started without --store: its intro and how to
    start it with one (``purpose``, e.g. "to see sweeps")."""
    return pn.Column(intro, notice("The app was started without --store: start it with "
                                   f"`ixsim serve --store DIR` {purpose}.", "warning"),
                     sizing_mode="stretch_width")


def sync_and_poll(pairs: tuple[tuple[Any, str], ...], poll: Callable[[], None],
                  period_ms: int) -> None:
    """``url_sync`` each (widget, name) in ``pairs``, then call ``poll`` every ``period_ms``
    while a browser session is open (store pages refresh as sweeps write)."""
    for widget, name in pairs:
        url_sync(widget, name)
    if pn.state.curdoc is not None:
        pn.state.add_periodic_callback(poll, period=period_ms)


def error_lines(lines: list[str]) -> str:
    """Error lines (``error: FILE: field: problem``) as Markdown for an Alert pane."""
    return "\n".join(f"- `{line}`" if "`" not in line else f"- {line}" for line in lines)


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_filename(name: str, default: str = "figure") -> str:
    """A download name made of letters, digits, '_', '.', '-' (anything else becomes '-')."""
    cleaned = _UNSAFE.sub("-", name or "").strip(".-") or default
    return cleaned[:100]


def figure_png(obj: Any, dpi: int = PNG_DPI) -> bytes:
    """PNG bytes of a matplotlib Figure, or of a HoloViews object drawn with the matplotlib
    backend (the page's Bokeh styling is dropped; the data are the same)."""
    from matplotlib.figure import Figure

    if not isinstance(obj, Figure):
        import holoviews as hv

        import holoviews.plotting.mpl  # noqa: F401  (registers the matplotlib renderer only)

        obj = hv.render(obj, backend="matplotlib")
    buf = io.BytesIO()
    obj.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def _width(label: str) -> int:
    return max(90, 9 * len(label) + 40)


def png_download(make_figure: Callable[[], Any], filename: str,
                 label: str = "PNG") -> pn.widgets.FileDownload:
    """A button that downloads ``make_figure()`` (a matplotlib Figure or a HoloViews object)
    as a PNG drawn on the server when clicked."""
    filename = safe_filename(filename, "figure.png")
    if not filename.endswith(".png"):
        filename += ".png"

    def _callback() -> io.BytesIO:
        return io.BytesIO(figure_png(make_figure()))

    return pn.widgets.FileDownload(callback=_callback, filename=filename, label=f"⬇ {label}",
                                   color="light", embed=False, width=_width(label), height=32,
                                   margin=(0, 4))


def csv_download(make_frame: Callable[[], Any], filename: str,
                 label: str = "CSV") -> pn.widgets.FileDownload:
    """A button that downloads ``make_frame()`` (a pandas DataFrame) as CSV when clicked."""
    filename = safe_filename(filename, "data.csv")
    if not filename.endswith(".csv"):
        filename += ".csv"

    def _callback() -> io.BytesIO:
        frame = make_frame()
        return io.BytesIO(frame.to_csv(index=False).encode("utf-8"))

    return pn.widgets.FileDownload(callback=_callback, filename=filename, label=f"⬇ {label}",
                                   color="light", embed=False, width=_width(label), height=32,
                                   margin=(0, 4))


def downloads(make_figure: Callable[[], Any] | None, make_frame: Callable[[], Any] | None,
              stem: str) -> pn.Row:
    """The PNG and CSV buttons of one figure, in a row (either may be None)."""
    items = []
    if make_figure is not None:
        items.append(png_download(make_figure, f"{stem}.png"))
    if make_frame is not None:
        items.append(csv_download(make_frame, f"{stem}.csv"))
    return pn.Row(*items, margin=(0, 0, 8, 0))


MAX_URL_VALUE = 4000  # characters of one query value the page will consider


def _query_value(name: str) -> str | None:
    """The value of ``name`` in the query string the session was opened with (None if absent)."""
    args = pn.state.session_args or {}
    raw = args.get(name)
    if not raw:
        return None
    value = raw[0]
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _url_text(value: Any) -> str:
    """A widget value as the URL holds it: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def parse_url_value(widget: Any, parameter: str, raw: str) -> tuple[bool, Any]:
    """``(True, value)`` if ``raw`` (from a URL) is a value the widget can hold: one of its
    options, a finite number within its bounds, a string of sane length; else ``(False,
    None)``. Values are parsed as JSON or plain text, never evaluated."""
    if raw is None or len(raw) > MAX_URL_VALUE:
        return False, None
    current = getattr(widget, parameter)
    options = getattr(widget, "options", None) if parameter == "value" else None
    if options is not None:
        allowed = list(options.values()) if isinstance(options, dict) else list(options)
        if isinstance(current, list):  # multiple choice: a JSON list of options
            try:
                items = json.loads(raw)
            except ValueError:
                return False, None
            ok = isinstance(items, list) and all(i in allowed for i in items)
            return (True, items) if ok else (False, None)
        for option in allowed:
            if _url_text(option) == raw or str(option) == raw:
                return True, option
        return False, None
    if isinstance(current, bool):
        return (True, raw == "true") if raw in ("true", "false") else (False, None)
    if isinstance(current, (int, float)) or current is None and hasattr(widget, "start"):
        try:
            number = float(raw)
        except ValueError:
            return False, None
        if not math.isfinite(number):
            return False, None
        if isinstance(widget.param[parameter], param.Integer):
            if number != int(number):
                return False, None
            number = int(number)
        low, high = getattr(widget, "start", None), getattr(widget, "end", None)
        if (low is not None and number < low) or (high is not None and number > high):
            return False, None
        return True, number
    if isinstance(current, str):
        return True, raw
    try:
        return True, json.loads(raw)
    except ValueError:
        return False, None


def url_sync(widget: Any, name: str, parameter: str = "value") -> None:
    """Keep ``widget.<parameter>`` in the URL query string as ``name``: a link with
    ``?name=...`` sets the widget when the page opens (if the value is one the widget can hold:
    anything else is ignored and the widget keeps its default), and changing the widget
    updates the address bar. A value the widget cannot hold yet when this is called (options
    filled in later) is tried again once the browser has connected. Does nothing outside a
    served session (tests, notebooks without a server)."""
    location = pn.state.location
    if location is None:
        return
    raw = _query_value(name)

    def _apply() -> bool:
        ok, value = parse_url_value(widget, parameter, raw)
        if not ok:
            return False
        try:
            widget.param.update({parameter: value})
        except Exception as exc:  # refused by the widget after all: keep the default
            log.info("URL value %s=%r refused: %s", name, raw, exc)
            return False
        return True

    applied = raw is not None and _apply()

    def _write(event: Any) -> None:
        try:
            location.update_query(**{name: _url_text(event.new)})
        except Exception as exc:  # the address bar is a convenience: never break the page
            log.info("cannot write %s to the URL: %s", name, exc)

    def _connected() -> None:
        if raw is not None and not applied:
            _apply()

    widget.param.watch(_write, parameter)
    if raw is not None and not applied:
        pn.state.onload(_connected)


class BackgroundJob:
    """Long work (an ensemble) off the page's event loop: one job at a time per page, a newer
    start cancels the older one, progress and results are applied on the session's own
    thread (Bokeh's ``add_next_tick_callback``), so the page never freezes.

    ``start(work, done)``: ``work(progress, should_stop)`` runs in a thread, calling
    ``progress(done, total)`` as it goes and returning early once ``should_stop()``;
    ``done(result)`` then runs in the session. Without a served session it all runs inline."""

    def __init__(self, progress: pn.indicators.Progress, status: pn.pane.Markdown):
        import threading

        self.progress = progress
        self.status = status
        self._lock = threading.Lock()
        self._generation = 0
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            pn.state.on_session_destroyed(lambda _ctx: self.cancel())  # a closed tab stops it

    def cancel(self) -> None:
        with self._lock:
            self._generation += 1

    @property
    def running(self) -> bool:
        return self.progress.visible

    def start(self, work: Callable[..., Any], done: Callable[[Any], None], what: str) -> None:
        import threading
        import time

        from panel.io.state import set_curdoc

        with self._lock:
            self._generation += 1
            generation = self._generation
        doc = pn.state.curdoc
        started = time.perf_counter()
        last = [0.0]
        finished = [False]  # progress arriving after the result is dropped

        def current() -> bool:
            return generation == self._generation

        def later(fn: Callable[..., None], *args: Any) -> None:
            def _run() -> None:
                if current():
                    with set_curdoc(doc):
                        fn(*args)
            if doc is None or not getattr(doc, "session_context", None):
                _run()
            else:
                doc.add_next_tick_callback(_run)

        def show_progress(n: int, total: int) -> None:
            if finished[0]:
                return
            self.progress.max = max(total, 1)
            self.progress.value = n
            self.status.object = f"{what}: {n} of {total} done"

        def on_progress(n: int, total: int) -> None:
            now = time.perf_counter()
            if n == total or now - last[0] > 0.25:  # at most four updates a second
                last[0] = now
                later(show_progress, n, total)

        def finish(result: Any) -> None:
            finished[0] = True
            with pn.io.hold():  # the "done" line and what ``done`` draws arrive together
                self.progress.visible = False
                self.status.object = f"{what}: done in {time.perf_counter() - started:.1f} s"
                done(result)

        def fail(message: str) -> None:
            finished[0] = True
            self.progress.visible = False
            self.status.object = f"{what} failed: {message}"

        def run() -> None:
            try:
                result = work(on_progress, lambda: not current())
            except Exception as exc:  # shown in the page, never a traceback
                log.exception("background job failed")
                later(fail, f"{type(exc).__name__}: {exc}".splitlines()[0][:300])
                return
            later(finish, result)

        self.progress.value = 0
        self.progress.visible = True
        self.status.object = f"{what}: starting"
        if doc is None:
            run()
        else:
            threading.Thread(target=run, name="ixsim-job", daemon=True).start()


def fan_cells(charts: dict[str, Any], views: dict[str, Any], current: Callable[[], dict[str, Any]],
              captions: dict[str, str], prefix: str) -> list[Any] | None:
    """Fan charts shown as Bokeh views: on the first call a cell per chart (figure, caption,
    PNG/CSV downloads of ``current()[key]``) is returned and its view kept in ``views``; later
    calls update those views in place and return None."""
    from ixsim.dashboards import plots

    if views:
        for key, chart in charts.items():
            views[key].update(chart)
        return None
    cells = []
    for key, chart in charts.items():
        views[key] = view = plots.BokehChart(chart, height=300)
        cells.append(pn.Column(
            pn.pane.Bokeh(view.figure, sizing_mode="stretch_width"), caption(captions.get(key, "")),
            downloads(lambda k=key: plots.matplotlib_figure(current()[k]),
                      lambda k=key: current()[k].frame(), f"{prefix}-{key}"),
            sizing_mode="stretch_width"))
    return cells
