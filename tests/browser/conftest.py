"""Browser tests of the dashboards: Playwright driving Debian's Chromium (/usr/bin/chromium,
never a downloaded browser) against a Panel server started in this process on a free port of
127.0.0.1 (one per store, stopped at the end of the session).

Skipped, with the reason, where Chromium or Playwright is missing -- except in CI
(``CI=true``), where a missing browser is a failure, not a skip.

Fixtures: ``browser`` (session-scoped Chromium), ``serve_app`` (start the app on a store, get
its base URL), ``page_errors(page)`` (console and page errors collected as they happen) and
``shot(page, name)`` (a screenshot under pytest's temporary folder, returned as a Path). Safe
under pytest-xdist: every worker has its own servers on its own ports and its own tmp folder.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI") == "true"
CHROMIUM_ARGS = ["--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-dev-shm-usage"]
SERVER_START_S = 60.0  # a cold Panel/Bokeh import and first session can take a while on CI


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found (install Debian's chromium package)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip this folder, with the reason, where the browser is missing -- but never in CI:
    there the ``browser`` fixture fails instead."""
    reason = _missing()
    if reason is None or IN_CI:
        return
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.skip(reason=f"browser tests skipped: {reason}"))


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Chromium from /usr/bin/chromium (``--no-sandbox`` when running as root)."""
    reason = _missing()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"CI must run the browser tests: {reason}")
        pytest.skip(f"browser tests skipped: {reason}")
    from playwright.sync_api import sync_playwright

    args = list(CHROMIUM_ARGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.insert(0, "--no-sandbox")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        try:
            yield chromium
        finally:
            chromium.close()


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(host: str, port: int, deadline: float) -> None:
    """Wait until the server accepts connections (a page request would build a session and
    load the machine that the tests then share)."""
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=2):
                return
        except OSError as exc:  # not listening yet
            last = exc
        time.sleep(0.2)
    raise RuntimeError(f"the dashboard did not start on {host}:{port}: {last}")


@pytest.fixture(scope="session")
def serve_app() -> Iterator[Callable[[Path | None], str]]:
    """``serve_app(store)`` starts the app in this process (a server thread on a free port of
    127.0.0.1) and returns its base URL (``http://127.0.0.1:PORT/``). One server per store for
    the whole session (a second call with the same store reuses it); all are stopped at the
    end of the session."""
    from ixsim.dashboards.app import serve

    servers: dict[Path | None, tuple[object, str]] = {}

    def _start(store: Path | None = None) -> str:
        key = None if store is None else Path(store).resolve()
        if key in servers:
            return servers[key][1]
        port = free_port()
        server = serve(port=port, address="127.0.0.1", store=store, show=False, threaded=True)
        base = f"http://127.0.0.1:{port}/"
        servers[key] = (server, base)
        _wait_until_up("127.0.0.1", port, time.monotonic() + SERVER_START_S)
        return base

    yield _start
    for server, _ in servers.values():
        server.stop()
        server.join(timeout=10)


class PageErrors(list):
    """Console errors and uncaught page errors seen so far, as strings."""


def _ignorable(text: str) -> bool:
    # Chromium's own message for a favicon the app does not serve is not an app error.
    return "favicon.ico" in text


@pytest.fixture
def page_errors() -> Callable[[object], PageErrors]:
    """``errors = page_errors(page)`` starts collecting the page's console errors and page
    errors into the returned list."""

    return _collect


def _collect(page) -> PageErrors:
    errors = PageErrors()

    def on_console(msg) -> None:
        if msg.type == "error" and not _ignorable(msg.text):
            errors.append(f"console: {msg.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    return errors


@pytest.fixture(scope="session")
def shots_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go (pytest's temporary folder, kept for the last few runs)."""
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def shot(shots_dir: Path) -> Callable[[object, str], Path]:
    """``shot(page, name)`` saves a full-page screenshot as ``name.png`` and returns its path."""

    def _shot(page, name: str) -> Path:
        path = shots_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot


@pytest.fixture
def open_page(new_page) -> Callable[[str], object]:
    """``open_page(url)``: a fresh context's page at ``url``, waited until the app's page
    title (rendered by Bokeh once the page is built) is on screen; its errors are collected
    in ``page.ixsim_errors``."""

    def _open(url: str, timeout_ms: int = 60_000):
        page = new_page()
        page.ixsim_errors = _collect(page)
        page.goto(url)
        page.wait_for_selector(".ixsim-page-title", timeout=timeout_ms)
        return page

    return _open


@pytest.fixture
def new_page(browser) -> Iterator[Callable[[], object]]:
    """``new_page()`` opens a page in a fresh browser context (closed at teardown)."""
    contexts = []

    def _new():
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        contexts.append(context)
        return context.new_page()

    yield _new
    for context in contexts:
        context.close()

