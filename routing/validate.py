"""The validation report of a catalogue import: what blocks it and what an operator should look at.

Errors block the import (a row that cannot be read, a reference to nothing, the same row twice
after normalisation, a window that ends before it starts). Warnings never block, because a real TAK
export contains them and refusing it would leave the old routes in place for a mistake elsewhere:
overlapping validity (VP006 on those days), whitespace inside an id, contracts nobody declared,
rows already expired, empty URLs (VP010).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from routing.catalogue import AccessRight, Route, normalise
from routing.content import (
    CatalogueContent,
    right_group,
    right_key,
    route_group,
    route_key,
)


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class FindingKind(StrEnum):
    """What a finding is about; stable names for scripts reading ``--json``."""

    MALFORMED = "malformed"
    DANGLING = "dangling-reference"
    DUPLICATE = "duplicate"
    BAD_WINDOW = "bad-validity"
    OVERLAP = "overlapping-validity"
    WHITESPACE = "whitespace-in-id"
    UNKNOWN_CONTRACT = "unknown-contract"
    EXPIRED = "expired"
    EMPTY_URL = "empty-url"


ERRORS = frozenset({FindingKind.MALFORMED, FindingKind.DANGLING, FindingKind.DUPLICATE, FindingKind.BAD_WINDOW})


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in an import: kind, where (a row or a path in the file) and what."""

    kind: FindingKind
    where: str
    detail: str

    @property
    def severity(self) -> Severity:
        return Severity.ERROR if self.kind in ERRORS else Severity.WARNING


def validate(content: CatalogueContent, on: date, known_contracts: Iterable[str] = ()) -> list[Finding]:
    """Every finding about ``content`` as of ``on``.

    ``known_contracts`` are namespaces declared elsewhere (the current catalogue, our own contracts);
    a row's contract is unknown when neither the source's contract list nor these name it.
    """
    declared = {normalise(c) for c in (*content.contracts, *known_contracts)}
    findings: list[Finding] = []
    findings += _duplicates(content)
    findings += _overlaps(content.routes, on)
    for route in content.routes:
        findings += _row_findings(route, route.describe(), (route.logical_address, route.producer or ""), on)
        if not route.url.strip():
            findings.append(Finding(FindingKind.EMPTY_URL, route.describe(), "the URL is empty (VP010)"))
    for right in content.rights:
        findings += _row_findings(right, right.describe(), (right.consumer, right.logical_address), on)
    unknown = sorted({c.strip() for c in (*(r.contract for r in content.routes),
                                          *(r.contract for r in content.rights))
                      if normalise(c) not in declared})
    findings += [Finding(FindingKind.UNKNOWN_CONTRACT, namespace, "no such contract is declared")
                 for namespace in unknown] if declared else []
    return findings


def errors(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that block an import."""
    return [f for f in findings if f.severity is Severity.ERROR]


def _row_findings(row: Route | AccessRight, where: str, ids: tuple[str, ...], on: date) -> list[Finding]:
    found = []
    if row.valid_to < row.valid_from:
        found.append(Finding(FindingKind.BAD_WINDOW, where, "ends before it starts"))
    elif row.valid_to < on:
        found.append(Finding(FindingKind.EXPIRED, where, f"expired on {row.valid_to}"))
    for hsa_id in (*ids, row.contract):
        if len(hsa_id.strip().split()) > 1:
            found.append(Finding(FindingKind.WHITESPACE, where, f"{hsa_id.strip()!r} has whitespace inside"))
    return found


def _duplicates(content: CatalogueContent) -> list[Finding]:
    found = []
    for rows, key in ((content.routes, route_key), (content.rights, right_key)):
        seen: dict[object, Route | AccessRight] = {}
        for row in rows:
            k = key(row)  # type: ignore[arg-type]
            if k in seen:
                found.append(Finding(FindingKind.DUPLICATE, row.describe(),
                                     f"same row as {seen[k].describe()} after trimming and case-folding"))
            else:
                seen[k] = row
    return found


def _overlaps(routes: Iterable[Route], on: date) -> list[Finding]:
    """Routes for the same contract and address whose windows share a day that is not yet past."""
    groups: dict[tuple[str, str], list[Route]] = defaultdict(list)
    for route in routes:
        groups[route_group(route)].append(route)
    found = []
    for rows in groups.values():
        if len(rows) < 2:
            continue
        ordered = sorted(rows, key=lambda r: (r.valid_from, r.valid_to))
        for i, first in enumerate(ordered):
            for second in ordered[i + 1:]:
                if second.valid_from > first.valid_to:
                    break
                if min(first.valid_to, second.valid_to) >= on and route_key(first) != route_key(second):
                    found.append(Finding(FindingKind.OVERLAP, second.describe(),
                                         f"overlaps {first.describe()}: VP006 from "
                                         f"{max(second.valid_from, on)} to {min(first.valid_to, second.valid_to)}"))
    return found


__all__ = ["ERRORS", "Finding", "FindingKind", "Severity", "errors", "right_group", "validate"]
