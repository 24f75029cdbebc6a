"""``ixsim serve [--port 5006] [--address 127.0.0.1] [--store DIR]``: the Panel dashboards.

Binds to 127.0.0.1 unless told otherwise. A bad option (a store that is not a folder, a port
out of range or in use, an address that cannot be bound) is one ``error:`` line, exit 2; Ctrl-C
stops the server with ``error: interrupted``, exit 130 (``ixsim.cli.launch``).

Registered in cli/app.py as ``app.command("serve")(serve_command)``; Panel, Bokeh and the model
load inside the command, so ``ixsim --help`` stays fast.
"""

from __future__ import annotations

import errno
import os
import signal
from pathlib import Path
from typing import Annotated

import typer

from ixsim.cli.errors import fail

DEFAULT_PORT = 5006
DEFAULT_ADDRESS = "127.0.0.1"


def check_store(store: Path) -> Path:
    """The store folder, or exit 2 with one line saying what is wrong with it."""
    if not store.exists():
        fail(f"--store: {store}: no such folder")
    if not store.is_dir():
        fail(f"--store: {store}: not a folder")
    if not os.access(store, os.R_OK | os.X_OK):
        fail(f"--store: {store}: cannot be read")
    if (store / "manifest.json").is_file():
        fail(f"--store: {store}: is one sweep; give the folder that holds the sweeps "
             f"(--store {store.parent})")
    return store.resolve()


def serve_command(
    port: Annotated[int, typer.Option("--port", min=1, max=65535, metavar="PORT",
                                      help="TCP port to listen on")] = DEFAULT_PORT,
    address: Annotated[str, typer.Option(
        "--address", metavar="ADDRESS",
        help="address to bind (127.0.0.1: this machine only; 0.0.0.0 opens it to the "
             "network)")] = DEFAULT_ADDRESS,
    store: Annotated[Path | None, typer.Option(
        "--store", metavar="DIR", help="folder of sweep stores (ixsim sweep --out) for the "
                                       "timelines, early-warning, sensitivity and sweeps "
                                       "pages")] = None,
) -> None:
    """Serve the dashboards until interrupted (Ctrl-C)."""
    if not address.strip():
        fail("--address: must not be empty")
    root = check_store(store) if store is not None else None
    from ixsim.dashboards.app import serve

    ours = signal.getsignal(signal.SIGINT)  # Panel installs its own; ixsim.cli.launch's wins
    try:
        server = serve(port=port, address=address, store=root, show=False, start=False)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            fail(f"--port: {port} is already in use on {address}")
        if exc.errno in (errno.EACCES, errno.EPERM):
            fail(f"--port: {port}: permission denied (ports below 1024 need privileges)")
        fail(f"--address: cannot listen on {address}:{port} "
             f"({exc.strerror or type(exc).__name__})")
    finally:
        signal.signal(signal.SIGINT, ours)
    shown = f"[{address}]" if ":" in address else address
    typer.echo(f"ixsim serve: http://{shown}:{port}/ (store: {root or 'none'}; Ctrl-C stops)")
    server.start()
    server.io_loop.start()
