"""Deciding a catalogue change before it is written: the diff, the report, and the guards.

An import must never wipe good routes by accident: an empty or partial export (a failed TAK job, the
wrong file) is refused when it would empty the catalogue or shrink it by more than ``max_shrink``
(a share: 0.2 refuses losing more than a fifth of the rows) unless forced. Errors in the source (rows
that cannot be read, references to nothing, the same row with other timeouts) block the change even
when forced. Warnings do not block (a national export has them), except with ``strict``; rows given
twice are written once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from routing.content import CatalogueContent
from routing.diff import CatalogueDiff, diff
from routing.validate import Finding, distinct, errors, validate, warnings


class Refusal(StrEnum):
    """Why a planned change may not be written."""

    INVALID = "invalid"
    STRICT = "strict"
    WOULD_EMPTY = "would-empty"
    WOULD_SHRINK = "would-shrink"


@dataclass(frozen=True, slots=True)
class ChangePlan:
    """The catalogue before and after, what differs, what was found, and whether it may be written."""

    before: CatalogueContent
    after: CatalogueContent
    diff: CatalogueDiff
    findings: tuple[Finding, ...]
    refusal: Refusal | None
    reason: str | None

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def plan_change(before: CatalogueContent, after: CatalogueContent, *, on: date, max_shrink: float | None,
                force: bool = False, strict: bool = False, read_findings: Iterable[Finding] = (),
                known_contracts: Iterable[str] = ()) -> ChangePlan:
    """Plan replacing ``before`` by ``after`` (with rows given twice kept once: ``ChangePlan.after``).

    ``read_findings`` are the problems met while reading the source (they count like validation
    findings). ``max_shrink`` None switches the shrink guard off (single-row edits); ``force``
    overrides the shrink guard, never errors; ``strict`` makes every warning refuse the change.
    """
    findings = (*read_findings, *validate(after, on, known_contracts))
    after = distinct(after)
    refusal, reason = None, None
    blocking = errors(findings)
    if blocking:
        refusal, reason = Refusal.INVALID, f"{len(blocking)} error(s) in the source"
    elif strict and warnings(findings):
        refusal, reason = Refusal.STRICT, f"{len(warnings(findings))} warning(s), and --strict refuses any"
    elif max_shrink is not None and not force and before.size:
        if not after.size:
            refusal, reason = Refusal.WOULD_EMPTY, f"the catalogue would lose all {before.size} rows"
        elif (before.size - after.size) / before.size > max_shrink:
            refusal = Refusal.WOULD_SHRINK
            reason = (f"the catalogue would shrink from {before.size} to {after.size} rows, more than "
                      f"{max_shrink:.0%}")
    return ChangePlan(before, after, diff(before, after), tuple(findings), refusal, reason)
