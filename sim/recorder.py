"""The recorder: an observer that reads the model after each step and keeps one row for the world
and one per lab (no DataCollector: it deep-copies each value). It never writes model state, so
a run without it follows the same trajectory."""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING

import numpy as np

import ixsim
from ixsim.sim.dynamics import capability as cap
from ixsim.sim.dynamics.growth import oom_to_months
from ixsim.sim.events import EVENT_COLUMNS
from ixsim.sim.results import LAB_COLUMNS, WORLD_COLUMNS, RunResult

if TYPE_CHECKING:
    from ixsim.sim.model import TakeoffModel

_S_MAX = WORLD_COLUMNS.index("software_level_max")
_S_LAB = LAB_COLUMNS.index("software_level")
# the lab columns recorded as floats; jurisdiction (a name) and active (a flag) are kept apart
_LAB_FLOATS = LAB_COLUMNS[:LAB_COLUMNS.index("jurisdiction")]
assert LAB_COLUMNS[len(_LAB_FLOATS):] == ("jurisdiction", "active")
# world columns that are a maximum (True) or a sum (False) of a lab column over active labs:
# (world column, lab column, is_max); the others are read from the model (_WORLD_READ)
_LAB_AGGREGATES = tuple(
    (WORLD_COLUMNS.index(world), _LAB_FLOATS.index(lab), is_max) for world, lab, is_max in (
        ("rnd_automation", "rnd_automation", True),
        ("review_automation", "review_automation", True),
        ("rnd_progress_multiplier", "rnd_progress_multiplier", True),
        ("software_level_max", "software_level", True),
        ("economic_automation", "economic_automation", True),
        ("compute_flop_per_s", "compute_flop_per_s", False),
        ("spend_usd_per_year", "spend_usd_per_year", False),
        ("revenue_usd_per_year", "revenue_usd_per_year", False),
        ("ai_researchers", "ai_researchers", False),
        ("human_researchers", "human_researchers", False),
        ("hazard_per_year", "hazard_per_year", False)))
_WORLD_READ = tuple(name for j, name in enumerate(WORLD_COLUMNS)
                    if j not in {at for at, _, _ in _LAB_AGGREGATES})
_WORLD_READ_AT = [WORLD_COLUMNS.index(name) for name in _WORLD_READ]
# events in the result's order: time, then lab, kind and value (Event fields, by position)
_EVENT_ORDER = itemgetter(*(EVENT_COLUMNS.index(c) for c in ("time", "lab", "kind", "value")))


class Recorder:
    """World and lab series of one run, one row a step, read from the model."""

    def __init__(self, model: TakeoffModel):
        self.model = model
        # rows of floats extend flat lists; ``result()`` stacks them once at the end (extending
        # by a tuple costs ~0.1 us, writing it into a numpy row ~3 us; a list of row tuples
        # would keep a thousand more objects a run for the cyclic garbage collector to count
        # and scan)
        self.world_values: list[float] = []  # WORLD_COLUMNS, row after row
        self.lab_values: list[float] = []  # the _LAB_FLOATS columns, row after row
        # (first row, each lab's jurisdiction, each lab's active flag), kept only when the
        # model's roster changes (a lab enters or moves); result() repeats each over its rows
        self.rosters: list[tuple[int, list[str], list[bool]]] = []
        self._roster_seen = -1  # the model's roster_changes at the last roster kept
        self.rows = 0
        # the frontier's best effective compute each time it rose (a running maximum), and when
        self._frontier_best: list[float] = []
        self._frontier_time: list[float] = []
        self._loss_for: float | None = None  # memo of the frontier loss (changes rarely)
        self._ranking_seen = -1  # the model's ranking_changes when _rank last ran
        self._ranking: tuple = ()
        self._loss = 0.0

    def _frontier_loss(self, effective_flop: float) -> float:
        """Compute-optimal loss (nats/token) at the frontier's effective compute, memoised."""
        if self._loss_for != effective_flop:
            s = self.model.spec.scaling
            self._loss_for = effective_flop
            self._loss = cap.chinchilla_optimal_loss(effective_flop, s.E, s.A, s.B, s.alpha, s.beta)
        return self._loss

    def _months_behind(self, effective_flop: float) -> float:
        """Months since the frontier first had ``effective_flop``: how far behind a lab with it
        is, in the frontier's own history (finite even when the frontier stands still). Below
        the first recorded frontier, the months the start pace takes to cover the gap are added."""
        i = bisect_left(self._frontier_best, effective_flop)
        m = self.model
        if i > 0 or effective_flop >= self._frontier_best[0]:
            return 12.0 * (m.year - self._frontier_time[i])
        gap = math.log10(self._frontier_best[0] / effective_flop)
        return 12.0 * (m.year - self._frontier_time[0]) + oom_to_months(gap, m.start_pace)

    def _rank(self) -> None:
        """The frontier lab, the runner-up, whether any lab trains its successor, the
        concentration of effective compute and the leader's lead in OOM: what changes only
        when a lab deploys a better system or enters (``model.ranking_changes``)."""
        m = self.model
        frontier = second = None
        total_e = 0.0
        successor = False
        for lab in m.active_labs:
            e = lab.best_effective
            total_e += e
            if frontier is None or e > frontier.best_effective:
                frontier, second = lab, frontier
            elif second is None or e > second.best_effective:
                second = lab
            successor = successor or lab.trains_successor
        hhi = 0.0
        for lab in m.active_labs:
            hhi += (lab.best_effective / total_e) ** 2
        if frontier is not None and (not self._frontier_best
                                     or frontier.best_effective > self._frontier_best[-1]):
            self._frontier_best.append(frontier.best_effective)
            self._frontier_time.append(m.year)
        lead_oom = 0.0
        if second is not None:
            lead_oom = math.log10(frontier.best_effective / second.best_effective)
        self._ranking = (frontier, second, successor, hhi, lead_oom)

    def record(self) -> None:
        """Append one row for the world and one per lab (software levels as ln S; see result).

        Of the world's columns only those a lab row cannot give are read here; the maxima and
        sums over active labs are taken from the lab rows in ``result`` (``_LAB_AGGREGATES``)."""
        m = self.model
        if m.ranking_changes != self._ranking_seen:  # a lab deployed a better system or entered
            self._ranking_seen = m.ranking_changes
            self._rank()
        frontier, second, successor, hhi, lead_oom = self._ranking
        lead_months = 0.0 if second is None else self._months_behind(second.best_effective)
        extend = self.lab_values.extend
        for lab in m.lab_list:
            st = lab.state
            extend((
                st.stock, st.spend_now, st.revenue, st.ln_software, lab.best_physical,
                lab.best_effective, lab.horizon, st.rnd_automation, st.review_automation,
                st.economic_automation, st.multiplier, st.humans, st.ai_researchers, st.research,
                lab.safety_share, st.unreviewed, lab.hazard,
            ))
        if m.roster_changes != self._roster_seen:
            self._roster_seen = m.roster_changes
            self.rosters.append((self.rows, list(map(_JURISDICTION, m.lab_list)),
                                 list(map(_ACTIVE, m.lab_list))))
        self.rows += 1
        if frontier is None:  # no lab has entered yet
            best = horizon = unreviewed = safety = loss = 0.0
        else:
            best, horizon = frontier.best_effective, frontier.horizon
            unreviewed, safety = frontier.state.unreviewed, frontier.safety_share
            loss = self._loss if best == self._loss_for else self._frontier_loss(best)
        self.world_values.extend((
            m.year, m.largest_run, best, horizon, m.world_product,
            -math.expm1(-m.cum_hazard), loss,
            float(successor), unreviewed, safety, lead_oom, lead_months, hhi,
            m.concern, float(m.incident_count), float(m.policy_change_count),
            float(m.max_policy_level()),
        ))

    def result(self) -> RunResult:
        """The run's series, events and networks as a RunResult."""
        m = self.model
        n_labs = len(m.lab_list)
        recorded = _stack(self.world_values, len(_WORLD_READ))
        n_rows = len(recorded)
        lab_array = _stack(self.lab_values, len(_LAB_FLOATS)).reshape(n_rows, n_labs,
                                                                    len(_LAB_FLOATS))
        jurisdictions: list[str] = []
        flags: list[bool] = []
        ends = [start for start, _, _ in self.rosters[1:]] + [n_rows]
        for (start, names_then, active_then), end in zip(self.rosters, ends):
            jurisdictions += names_then * (end - start)
            flags += active_then * (end - start)
        active = np.array(flags, dtype=bool).reshape(n_rows, n_labs)
        world_array = np.empty((n_rows, len(WORLD_COLUMNS)))
        world_array[:, _WORLD_READ_AT] = recorded
        with np.errstate(all="ignore"):  # an inactive lab's values are read, then dropped
            for at, j, is_max in _LAB_AGGREGATES:
                world_array[:, at] = _over_active(lab_array[:, :, j], active, is_max)
        world_array[:, _S_MAX] = np.exp(world_array[:, _S_MAX])  # recorded as ln S
        lab_array[:, :, _S_LAB] = np.exp(lab_array[:, :, _S_LAB])
        # one copy each, column by column (each column a contiguous row of the transpose)
        world = dict(zip(WORLD_COLUMNS, world_array.T.copy()))
        names = [lab.name for lab in m.lab_list]
        labs: dict[str, np.ndarray] = {
            "time": np.repeat(world["time"], n_labs),
            "lab": np.tile(np.array(names, dtype=object), n_rows),
        }
        labs.update(zip(_LAB_FLOATS, lab_array.reshape(n_rows * n_labs, -1).T.copy()))
        labs["jurisdiction"] = np.array(jurisdictions, dtype=object)
        labs["active"] = active.reshape(-1)
        lab_name = [*names, ""]  # index -1 (WORLD): world and regulator events
        ordered = sorted(m.events, key=_EVENT_ORDER)
        if ordered:
            events = {column: list(values) for column, values in zip(EVENT_COLUMNS, zip(*ordered))}
        else:
            events = {column: [] for column in EVENT_COLUMNS}
        events["lab"] = list(map(lab_name.__getitem__, events["lab"]))
        events["kind"] = list(map(str, events["kind"]))
        from ixsim.sim.networks import network_document

        network = network_document(m.spillover_graph, m.coordination_graph,
                                   {lab.name: lab.jurisdiction for lab in m.lab_list})
        spec = m.spec
        meta = {
            "scenario": spec.meta.name,
            "seed": m.seed,
            "start_year": m.t0,
            "calibration": spec.calibration,
            "calibration_source": spec.calibration_source,
            "ixsim_version": ixsim.__version__,
        }
        return RunResult(meta, names, world, labs, events, network)


_JURISDICTION = attrgetter("jurisdiction")
_ACTIVE = attrgetter("active")


def _over_active(values: np.ndarray, active: np.ndarray, is_max: bool) -> np.ndarray:
    """Each row's maximum (from 0) or sum (from 0) over the labs active in it, one lab after
    another in index order: the same operations as a loop over ``active_labs`` (a NaN never
    beats a maximum there, nor here)."""
    out = np.zeros(len(values))
    for j in range(values.shape[1]):
        x, on = values[:, j], active[:, j]
        out = np.where(on & (x > out), x, out) if is_max else np.where(on, out + x, out)
    return out


def _stack(values: list[float], width: int) -> np.ndarray:
    """Rows of floats, flattened, as one (rows x width) array (through ``array.array``, which
    reads a list of floats a fifth faster than np.fromiter and a third faster than np.array)."""
    return np.frombuffer(array("d", values)).reshape(-1, width)
