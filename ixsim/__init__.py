"""ixsim: agent-based simulation of intelligence-explosion dynamics.

The public API, imported lazily so that ``import ixsim`` stays cheap:

    from ixsim import load_scenario, simulate
    result = simulate(load_scenario("baseline", {"software.returns_r": 1.5}), seed=0)
    result.summary()["successor_training_year"]

Sub-packages (one import namespace; the folders of the source tree): ``ixsim.sim`` the model,
``ixsim.analysis`` store, backtest and figures, ``ixsim.dashboards``, ``ixsim.cli`` the command
line, ``ixsim.training`` the JAX training loop (extra ``train``).
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING, Any

_API = {
    "load_scenario": "ixsim.sim.scenario",
    "Scenario": "ixsim.sim.scenario",
    "ScenarioError": "ixsim.sim.scenario",
    "simulate": "ixsim.sim.model",
    "RunResult": "ixsim.sim.results",
}

__all__ = ["__version__", *_API]

if TYPE_CHECKING:
    from ixsim.sim.model import simulate
    from ixsim.sim.results import RunResult
    from ixsim.sim.scenario import Scenario, ScenarioError, load_scenario


@cache
def _version() -> str:
    """The installed distribution's version (read on first use: importlib.metadata is slow)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ixsim")
    except PackageNotFoundError:  # running from a source tree without an install
        return "0.0.0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        return _version()
    if name in _API:
        return getattr(import_module(_API[name]), name)
    raise AttributeError(f"module 'ixsim' has no attribute {name!r}")
