"""Every run is a pure function of (scenario, seed): byte-identical outputs of the ten named
scenarios across hash seeds and working directories, including the figure of one of them."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

_WRITE_ALL = r"""
import sys
from pathlib import Path
from ixsim.analysis.figures import trajectory_figure
from ixsim.analysis.store import write_run
from ixsim.sim.model import simulate
from ixsim.sim.scenario import load_scenario, scenario_names
out = Path(sys.argv[1])
for name in scenario_names():
    result = simulate(load_scenario(name), seed=3)
    write_run(result, out / name)
    if name == "baseline":
        trajectory_figure(result, out / name / "trajectory.png")
"""


def _digests(folder) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_outputs_are_byte_identical_across_hash_seeds_and_working_directories(tmp_path):
    digests = []
    for hash_seed, cwd in (("0", ROOT), ("12345", tmp_path)):
        out = tmp_path / f"out-{hash_seed}"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", _WRITE_ALL, str(out)], cwd=cwd, env=env,
                       check=True, timeout=300)
        digests.append(_digests(out))
    assert len(digests[0]) == 10 * 5 + 1
    assert digests[0] == digests[1]
