"""ixsim's model: scenario schema, dynamics, Mesa agents and the takeoff model (no I/O beyond loading a scenario)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ixsim")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+unknown"
