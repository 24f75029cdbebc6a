"""Sweeps started from the dashboard: one background thread per sweep folder running the same
engine as ``ixsim sweep`` (``ixsim.analysis.sweep.run_sweep`` on a Dask LocalCluster), with
its progress kept here for any page or session to show.

Jobs are keyed by the sweep's folder (inside the store: ``AppContext.sweep``), so a reloaded
page finds the sweep it started still running. Cancel stops at the next chunk boundary: the
chunks already written stay, the manifest stays incomplete, and Resume runs the missing ones
(``run_sweep(..., resume=True)``). A folder that another writer holds is refused by the
engine's own lock.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Job", "start", "job_for", "Cancelled", "running_jobs"]


class Cancelled(Exception):
    """Raised from the progress callback to stop the engine between chunks."""


@dataclass
class Job:
    """One sweep run from the page. ``state``: starting, running, done, failed, cancelled."""

    name: str
    path: Path
    resume: bool
    state: str = "starting"
    to_run: int = 0
    already: int = 0
    done: int = 0
    message: str = ""
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        return self.state in ("starting", "running")

    @property
    def fraction(self) -> float:
        if self.state == "done":
            return 1.0
        return self.done / self.to_run if self.to_run else 0.0

    def cancel(self) -> None:
        self.cancel_event.set()
        if self.active:
            self.message = "cancelling: stops after the chunk in progress"

    def describe(self) -> str:
        seconds = (self.finished or time.monotonic()) - self.started
        rate = f", {self.done / seconds:,.1f} runs/s" if self.done and seconds > 0 else ""
        head = {"starting": "starting the Dask workers", "running": "running",
                "done": "finished", "failed": "failed", "cancelled": "cancelled"}[self.state]
        resumed = f" ({self.already:,} already there)" if self.already else ""
        text = (f"{self.name}: {head}: {self.done:,} of {self.to_run:,} runs{resumed}, "
                f"{seconds:.0f} s{rate}")
        return f"{text}. {self.message}" if self.message else text


_JOBS: dict[str, Job] = {}
_LOCK = threading.Lock()


def job_for(path: Path) -> Job | None:
    with _LOCK:
        return _JOBS.get(str(path))


def running_jobs() -> list[Job]:
    with _LOCK:
        return [j for j in _JOBS.values() if j.active]


def start(sweep: Any, name: str, path: Path, *, resume: bool, workers: int) -> Job:
    """Start ``sweep`` into ``path`` in a background thread; ValueError (one line) when a job
    from this app is already running there."""
    key = str(path)
    with _LOCK:
        current = _JOBS.get(key)
        if current is not None and current.active:
            raise ValueError(f"{name}: a sweep is already running there")
        job = Job(name=name, path=path, resume=resume)
        _JOBS[key] = job
    job.thread = threading.Thread(target=_run, args=(job, sweep, workers), daemon=True,
                                  name=f"ixsim-sweep-{name}")
    job.thread.start()
    return job


def _run(job: Job, sweep: Any, workers: int) -> None:
    from ixsim.analysis.files import OutputError
    from ixsim.analysis.sweep import SweepRunError, SweepStoreError, run_sweep

    def on_start(to_run: int, already: int) -> None:
        if job.cancel_event.is_set():
            raise Cancelled()
        job.to_run, job.already, job.state = to_run, already, "running"

    def on_chunk(runs: int) -> None:
        job.done += runs
        if job.cancel_event.is_set():
            raise Cancelled()

    try:
        outcome = run_sweep(sweep, job.path, resume=job.resume, scheduler="local",
                            workers=workers, on_start=on_start, on_chunk=on_chunk)
    except Cancelled:
        job.state = "cancelled"
        job.message = "the chunks written so far stay; Resume runs the rest"
    except (SweepStoreError, SweepRunError, OutputError) as exc:
        job.state = "failed"
        job.message = " ".join(str(exc).split())[:300]
    except Exception as exc:  # the page must hear of anything else, in one line
        job.state = "failed"
        job.message = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
    else:
        job.state = "done"
        failed = outcome.status.get("failed", 0)
        job.message = (f"{outcome.status.get('ok', 0):,} ok, {failed:,} failed"
                       + ("" if outcome.ran else "; nothing left to run"))
    finally:
        job.finished = time.monotonic()
