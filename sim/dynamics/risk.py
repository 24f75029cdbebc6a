"""Risk laws: oversight overload from the pace of progress, alignment assurance from safety
effort, and the incident hazard of a lab's deployed system."""

from __future__ import annotations


def oversight_overload(pace_oom_per_year: float, oversight_oom_per_year: float,
                       exponent: float) -> float:
    """How far the frontier's pace exceeds what oversight absorbs, raised to ``exponent`` (>= 1)."""
    return max(1.0, pace_oom_per_year / oversight_oom_per_year) ** exponent


def alignment_assurance(safety_share: float, half_share: float, overload: float) -> float:
    """Assurance 0..1: safety compute share against the share that gives one half, which scales
    with the overload."""
    half = half_share * overload
    return safety_share / (safety_share + half) if safety_share + half > 0 else 0.0


def incident_hazard(base_per_year: float, growth_per_oom: float, oom_above_reference: float,
                    overload: float, assurance: float, unreviewed_weight: float,
                    unreviewed_share: float) -> float:
    """Incident hazard (1/year): rises with capability (per OOM of effective compute above the
    reference), with overload, with missing assurance and with unreviewed R&D decisions.

    At the reference capability, no overload and assurance 0.5 it equals ``base_per_year``."""
    capability = growth_per_oom ** oom_above_reference
    return (base_per_year * capability * overload * 2.0 * (1.0 - assurance)
            * (1.0 + unreviewed_weight * unreviewed_share))
