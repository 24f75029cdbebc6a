"""The ``ixsim`` console entry point, kept tiny: it takes over Ctrl-C before anything heavy loads.

A Ctrl-C at any moment ends the same way: ``error: interrupted`` on stderr, exit status 130, no
traceback, no partial output. How depends on what the command is doing:

* Importing, reading input, computing (no file of ours in flight): the handler writes the
  line and exits at once (``os._exit``). Nothing can swallow the interrupt (a
  ``KeyboardInterrupt`` raised inside a weakref callback or a library's bare ``except`` would
  be lost, and the run would go on), and there is nothing to clean up.
* Inside ``cleanup_on_interrupt()`` (a command holding a lock, a staging folder or a temporary
  file): the handler raises ``KeyboardInterrupt`` so that ``ixsim.analysis.files`` removes its
  temporaries as it unwinds; Typer turns it into status 130 and ``ixsim.cli.app.main`` prints
  the line. ``raise_if_interrupted()`` just before publishing acts on an interrupt that a
  library swallowed.

Only the first Ctrl-C counts; later ones are ignored so the clean-up is not cut short. Only the
interpreter's own start-up (before this module runs) is outside our reach. When ``main`` is
called in-process (tests, other programs) nothing here is installed and both helpers do nothing.

Imports only ``os``, ``signal`` and ``sys``; ``ixsim.cli.app`` loads inside ``entry``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys

EXIT_INTERRUPTED = 130  # as ixsim.cli.errors.EXIT_INTERRUPTED (not imported: it loads typer)
MESSAGE = b"error: interrupted\n"

_in_charge = False  # entry() installed the handler
_requested = False  # a Ctrl-C arrived
_cleanup_depth = 0  # inside cleanup_on_interrupt(): raise rather than exit


def _exit_interrupted() -> None:
    os.write(2, MESSAGE)
    os._exit(EXIT_INTERRUPTED)


def _on_sigint(signum: int, frame: object) -> None:
    global _requested
    if _requested:
        return  # only the first counts
    _requested = True
    if _cleanup_depth:
        raise KeyboardInterrupt
    _exit_interrupted()


@contextlib.contextmanager
def cleanup_on_interrupt():
    """While files are in flight: a Ctrl-C raises KeyboardInterrupt (so temporaries are removed)
    instead of ending the process at once."""
    global _cleanup_depth
    _cleanup_depth += 1
    try:
        yield
    finally:
        _cleanup_depth -= 1


def raise_if_interrupted() -> None:
    """Raise KeyboardInterrupt if a Ctrl-C arrived (and some library swallowed it)."""
    if _in_charge and _requested:
        raise KeyboardInterrupt


def entry() -> None:
    """Run the command line (``ixsim.cli.app.main``) and exit with its status."""
    global _in_charge
    try:
        if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # started ignoring it
            signal.signal(signal.SIGINT, _on_sigint)  # (nohup, `&` in a script): keep so
            _in_charge = True
        from ixsim.cli.app import main

        code = main()
    except KeyboardInterrupt:  # before the handler, or raised outside Typer
        os.write(2, MESSAGE)
        code = EXIT_INTERRUPTED
    if _requested and code == 0:  # interrupted, but a library swallowed it and the run went on
        os.write(2, MESSAGE)
        code = EXIT_INTERRUPTED
    sys.exit(code)


if __name__ == "__main__":
    entry()
