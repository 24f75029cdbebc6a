"""budgets.py: every budget describes runs the training loop accepts."""

import math
import re
from pathlib import Path

import pytest

from ixsim.sim.measured import BUDGET_NAMES
from ixsim.training.budgets import BUDGETS
from ixsim.training.config import improvements
from ixsim.training.experiments import _curve_steps


@pytest.mark.parametrize("name", sorted(BUDGETS))
def test_budget_step_counts_fit_the_chunk_size(name):
    b = BUDGETS[name]
    assert all(steps % b.chunk_steps == 0 for steps in b.scaling_steps)
    assert b.recipe_steps % b.chunk_steps == 0
    curve = _curve_steps(b.recipe_steps, b.old_curve_factor, b.chunk_steps)
    assert all(s % b.chunk_steps == 0 for s in curve)
    assert curve[-1] == b.recipe_steps * b.old_curve_factor and b.recipe_steps in curve


@pytest.mark.parametrize("name", sorted(BUDGETS))
def test_budget_names_known_improvements_and_doubling_trials(name):
    b = BUDGETS[name]
    known = {r.name for r in improvements()}
    assert b.improvements is None or set(b.improvements) <= known
    assert math.log2(b.search_trials).is_integer() and b.search_trials >= 4
    assert len(b.scaling_sizes) * len(b.scaling_steps) >= 6  # five fitted parameters
    assert all(s.d_model % s.n_heads == 0 and s.context == b.context for s in b.scaling_sizes)


def test_cpu_budget_has_at_least_five_sizes_and_three_data_budgets():
    b = BUDGETS["cpu"]
    assert len(b.scaling_sizes) >= 5 and len(b.scaling_steps) >= 3


def test_one_list_of_budget_names():
    assert tuple(BUDGETS) == BUDGET_NAMES
    root = Path(__file__).resolve().parents[2]
    listed = re.compile(r"""["']smoke["'],\s*["']cpu["'],\s*["']gpu["']""")
    defining = sorted(str(path.relative_to(root))
                      for folder in ("sim", "training", "cli", "analysis", "ixsim")
                      for path in (root / folder).rglob("*.py") if listed.search(path.read_text()))
    assert defining == ["sim/measured.py"]
