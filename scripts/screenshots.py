"""Screenshots for the README: an ``ixsim report`` HTML file, and the dashboard at a URL.

    python scripts/screenshots.py --report out/demo/report.html --out docs/img/report.png
    python scripts/screenshots.py --dashboard-url http://localhost:5006/ \
        --out docs/img/dashboard.png

Uses Playwright's sync API with the system's Chromium (Debian's /usr/bin/chromium, or
``--chromium PATH``); it never downloads a browser. The report is opened from file:// with the
network blocked (the report must need none). ``--full-page`` captures the whole page rather
than the first screen.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 1600}


def screenshot(url: str, out: Path, *, chromium: str = CHROMIUM, offline: bool = False,
               full_page: bool = False, wait_ms: int = 0, viewport: dict | None = None) -> None:
    """Open ``url`` in headless Chromium and write a PNG of it to ``out``. ``offline``: every
    request that is not file:// or data: is aborted (and reported on stderr)."""
    from playwright.sync_api import sync_playwright

    out.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport=viewport or VIEWPORT, device_scale_factor=1)
            if offline:
                def block(route):
                    print(f"blocked a network request: {route.request.url}", file=sys.stderr)
                    route.abort()
                page.route(lambda u: not u.startswith(("file:", "data:")), block)
            page.goto(url, wait_until="networkidle")
            if wait_ms:
                page.wait_for_timeout(wait_ms)
            page.screenshot(path=str(out), full_page=full_page)
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--report", type=Path, help="an ixsim report HTML file")
    source.add_argument("--dashboard-url", help="the running dashboard's URL")
    parser.add_argument("--out", type=Path, required=True, help="the PNG to write")
    parser.add_argument("--chromium", default=CHROMIUM, help="Chromium executable")
    parser.add_argument("--full-page", action="store_true", help="capture the whole page")
    parser.add_argument("--wait-ms", type=int, default=None,
                        help="wait after loading (default: 0 for a report, 3000 for a dashboard)")
    parser.add_argument("--width", type=int, default=VIEWPORT["width"])
    parser.add_argument("--height", type=int, default=VIEWPORT["height"])
    args = parser.parse_args(argv)
    if not args.out.name.endswith(".png"):
        parser.error("--out must end in .png")
    if not Path(args.chromium).exists():
        print(f"error: --chromium: {args.chromium} not found", file=sys.stderr)
        return 2
    viewport = {"width": args.width, "height": args.height}
    if args.report is not None:
        if not args.report.is_file():
            print(f"error: --report: {args.report}: no such file", file=sys.stderr)
            return 2
        screenshot(args.report.resolve().as_uri(), args.out, chromium=args.chromium,
                   offline=True, full_page=args.full_page, wait_ms=args.wait_ms or 0,
                   viewport=viewport)
    else:
        screenshot(args.dashboard_url, args.out, chromium=args.chromium,
                   full_page=args.full_page,
                   wait_ms=3000 if args.wait_ms is None else args.wait_ms, viewport=viewport)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
