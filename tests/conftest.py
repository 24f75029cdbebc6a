"""Shared fixtures: paths and small scenario helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
BASELINE = SCENARIOS / "baseline.toml"
SOFTWARE_ONLY = SCENARIOS / "validation" / "software_only.toml"


@pytest.fixture
def root() -> Path:
    return ROOT
