"""No cliffs from smooth inputs: along every shipped scenario a lab's research input changes by at
most MAX_MONTHLY_FACTOR between consecutive months, except in a month holding a named discrete
event that moves compute or the lab itself (entry, a move abroad, seized compute, a pause that
stops experiments and so research)."""

from __future__ import annotations

import numpy as np
import pytest

from ixsim.sim.events import EventKind
from ixsim.sim.model import simulate
from ixsim.sim.scenario import load_scenario, scenario_names

# Before, one month took research input 1,900-fold (review automation 0.9966 -> 1.0 at a
# deployment). With the review and last R&D tasks handed over smoothly and at most e-fold a month
# (labour.handover_efolds_per_year), the shipped scenarios move at most ~4.3x in a month, at
# deployments included; 6 leaves room for seeds, not for a cliff.
MAX_MONTHLY_FACTOR = 6.0
DISCRETE = {EventKind.LAB_ENTERED, EventKind.RELOCATION_STARTED, EventKind.RELOCATED,
            EventKind.EVASION_DETECTED}


@pytest.mark.parametrize("name", scenario_names())
def test_research_input_has_no_cliff(name):
    result = simulate(load_scenario(name), seed=0)
    labs, events = result.labs, result.events
    jumps = {(lab, round(t * 12)) for t, kind, lab in
             zip(events["time"], events["kind"], events["lab"]) if kind in DISCRETE}
    for lab in result.lab_names:
        rows = (labs["lab"] == lab) & labs["active"]
        x, t = np.asarray(labs["research_input"][rows], float), labs["time"][rows]
        for i in range(1, len(x)):
            if (lab, round(t[i] * 12)) in jumps or (lab, round(t[i - 1] * 12)) in jumps:
                continue
            if x[i] == 0.0 or x[i - 1] == 0.0:
                continue  # a pause in force idles experiments: research stops (a policy event)
            factor = max(x[i] / x[i - 1], x[i - 1] / x[i])
            assert factor <= MAX_MONTHLY_FACTOR, (
                f"{name}: {lab} research input x{factor:.3g} from {t[i - 1]:.3f} to {t[i]:.3f}")
