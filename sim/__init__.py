"""ixsim's model: scenario schema and loading, dynamics, Mesa agents, the takeoff model and its run
result (no I/O beyond reading a scenario or a measured-calibration JSON; no plotting)."""

from ixsim import __version__

__all__ = ["__version__"]
