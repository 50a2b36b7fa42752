"""Early warnings: what a rule reports when it sees its problem in a run too small to grade.

Every rule has damping: floors (a stage's seconds, an application's task time, bytes
spilled, tasks, pairs, bytes read) below which a problem it detects is too small to matter
in this run. Dropping such a problem would make deanalyze silent on the dev and sample runs
people try it on first, where a fix is cheapest. So a rule that detects its problem below a
floor reports it as an ``info`` finding instead:

* what was seen (the usual title, evidence and recommendation);
* how small it is here: ``evidence["early_warning"]`` names the floors it is below, the
  severity the thresholds would have given (``graded_severity``) and the core-hours or
  billing units it measured (``measured_avoidable``);
* what it becomes at production scale: ``scale_note``, scaled by ``SCALE`` (stated in the
  note, never silently);
* no money: an early warning's avoidable usage is zero, so it claims no saving, and
  ``--fail-on`` never counts it.

``one_early_warning_per_rule`` keeps the largest early warning of one rule on one subject
(the engine applies it to every ``check``): a small run gets at most one per rule, never a
page of them. Rules whose severity grows with a size that scales with the data (pairs of a
nested loop join, bytes per shuffle partition) warn only when the size at ``SCALE`` times
the data would reach their lowest threshold.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence

from analyzer.core.findings import SEVERITIES, Finding

#: The production factor early warnings scale by ("at 100× the data").
SCALE = 100


def damped_by(*floors: tuple[bool, str]) -> list[str]:
    """The sentences of the damping floors a measurement falls below (``(below?, sentence)`` pairs)."""
    return [text for below, text in floors if below]


def early_warning(finding: Finding, graded: str | None, damped: Sequence[str], at_scale: str,
                  lead: str = "Small in this run") -> Finding:
    """``finding`` as an ``info`` early warning: its measured saving moves to the evidence.

    ``graded`` is the severity the rule's thresholds gave (None when only the projection at
    ``SCALE`` reaches one); ``damped`` the floors it is below (or, after another ``lead``, why
    it cannot be graded); ``at_scale`` what the problem becomes at ``SCALE`` times the data (a
    sentence that states the factor).
    """
    measured: dict[str, float] = dict(finding.avoidable_usage)
    if finding.avoidable_core_hours:
        measured["core_hours"] = round(finding.avoidable_core_hours, 6)
    evidence = {**finding.evidence, "early_warning": {
        "graded_severity": graded, "damped_by": list(damped), "scale_factor": SCALE,
        "measured_avoidable": measured}}
    small = f"{lead}: {'; '.join(damped)}. " if damped else ""
    return dataclasses.replace(
        finding, severity="info", evidence=evidence, avoidable_core_hours=0.0, avoidable_usage={},
        estimated_savings_usd=0.0, scale_note=f"{small}{at_scale}")


def _size(finding: Finding) -> tuple[int, float]:
    """How large an early warning is: its graded severity, then what it measured."""
    ew = finding.evidence.get("early_warning")
    info = ew if isinstance(ew, dict) else {}
    graded = info.get("graded_severity")
    measured = info.get("measured_avoidable") or {}
    return (SEVERITIES.index(graded) if graded in SEVERITIES else 0,
            float(sum(v for v in measured.values() if isinstance(v, int | float))))


def one_early_warning_per_rule(findings: Iterable[Finding]) -> Iterator[Finding]:
    """Graded findings as they come, then the largest early warning; the others only counted.

    Called on the findings of one rule on one subject (an application or a query history).
    """
    early: list[Finding] = []
    for f in findings:
        if f.severity == "info":
            early.append(f)
        else:
            yield f
    if not early:
        return
    largest = max(early, key=_size)  # the first of equals: the rule's own order
    ew = largest.evidence.get("early_warning")
    if len(early) > 1 and isinstance(ew, dict):
        counted = {**ew, "other_early_warnings": len(early) - 1}
        largest = dataclasses.replace(largest, evidence={**largest.evidence, "early_warning": counted})
    yield largest


def scaled_duration(seconds: float) -> str:
    """A duration for a scale note: ``45 s``, ``12 min``, ``3.4 h``."""
    if seconds < 120:
        return f"{seconds:,.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:,.0f} min"
    return f"{seconds / 3600:,.1f} h"
