"""Typed events of a run: a kind from a closed set and structured fields, so metrics read fields,
never the display text."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

WORLD = -1  # the ``lab`` index of world and regulator events


class EventKind(StrEnum):
    """What happened; ``Event.value`` holds the number named after each kind."""

    EXPORT_CONTROLS = "export_controls"  # price multiplier on ``jurisdiction``
    LAB_ENTERED = "lab_entered"  # the lab's compute stock, FLOP/s
    TRAINING_RUN_STARTED = "training_run_started"  # planned physical FLOP after any cap
    TRAINING_RUN_FINISHED = "training_run_finished"  # physical FLOP of the run
    RUN_REPORTED = "run_reported"  # planned FLOP reported to ``jurisdiction``'s regulator
    SOFTWARE_OOM = "software_oom"  # the power of ten of S just reached
    RND_AUTOMATION = "rnd_automation"  # the automation milestone reached (0.2, 0.5, 1.0)
    SUCCESSOR_TRAINING = "successor_training"  # effective FLOP of the system that can
    INCIDENT_MINOR = "incident_minor"  # the lab's hazard, 1/year
    INCIDENT_MAJOR = "incident_major"  # the lab's hazard, 1/year
    POLICY_CHANGE = "policy_change"  # the policy level now in force in ``jurisdiction``
    POLICY_REPEAL = "policy_repeal"  # the policy level after the repeal
    TREATY = "treaty"  # share of world compute held by the members; ``level`` its rule
    RULE_RESPONSE = "rule_response"  # expected months of progress the choice costs
    RELOCATION_STARTED = "relocation_started"  # months the move takes
    RELOCATED = "relocated"  # 0; ``jurisdiction`` is the new home
    EVASION = "evasion"  # planned FLOP of the run that ignores the rules
    EVASION_DETECTED = "evasion_detected"  # share of compute seized
    WEIGHTS_ADOPTED = "weights_adopted"  # effective FLOP of the released system a lab deploys


POLICY_EVENTS = (EventKind.POLICY_CHANGE, EventKind.POLICY_REPEAL)


class Event(NamedTuple):
    """One event: decimal year, kind, lab index (``WORLD`` for none), its value, the
    jurisdiction it concerns ("" if none), a policy level (-1 if none), and display text."""

    time: float
    kind: EventKind
    lab: int
    value: float
    jurisdiction: str = ""
    level: int = -1
    detail: str = ""


EVENT_COLUMNS = Event._fields
