"""The validation report of a catalogue import: what blocks it and what an operator should look at.

Errors block the import: a row that cannot be read, a reference to nothing, a window that ends before
it starts, the same row twice with different timeouts (we cannot keep both, and cannot know which is
meant). Warnings never block (unless the operator asks for ``--strict``), because a real TAK export
contains them and refusing it would leave the old routes in place for a mistake elsewhere:

* the same row twice (TAK's own database allows it): collapsed into one by ``distinct`` and counted;
* overlapping validity of different routes for one contract and address: loaded as the platform
  loads them, and reported as a VP006 risk with the days it applies (resolution answers VP006 then,
  in ``routing explain`` and in the status-update dispatcher alike);
* whitespace inside an id (HSA-ids and namespaces only: descriptions and agreement texts are free
  text and are not read), contracts nobody declared, rows already expired, empty URLs (VP010).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TypeVar

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
    CONFLICTING_DUPLICATE = "duplicate-with-other-timeouts"
    BAD_WINDOW = "bad-validity"
    OVERLAP = "overlapping-validity"
    WHITESPACE = "whitespace-in-id"
    UNKNOWN_CONTRACT = "unknown-contract"
    EXPIRED = "expired"
    EMPTY_URL = "empty-url"


ERRORS = frozenset({FindingKind.MALFORMED, FindingKind.DANGLING, FindingKind.CONFLICTING_DUPLICATE,
                    FindingKind.BAD_WINDOW})


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
    a row's contract is unknown when neither the source's contract list nor these name it. A row
    given more than once is reported once as a duplicate and judged once, as ``distinct`` keeps it.
    """
    declared = {normalise(c) for c in (*content.contracts, *known_contracts)}
    routes, route_copies = _first_of_each(content.routes, route_key)
    rights, right_copies = _first_of_each(content.rights, right_key)
    findings: list[Finding] = [*_duplicates(route_copies, _route_timeouts), *_duplicates(right_copies)]
    findings += _overlaps(routes, on)
    for route in routes:
        findings += _row_findings(route, route.describe(), (route.logical_address, route.producer or ""), on)
        if not route.url.strip():
            findings.append(Finding(FindingKind.EMPTY_URL, route.describe(), "the URL is empty (VP010)"))
    for right in rights:
        findings += _row_findings(right, right.describe(), (right.consumer, right.logical_address), on)
    unknown = sorted({c.strip() for c in (*(r.contract for r in routes), *(r.contract for r in rights))
                      if normalise(c) not in declared})
    findings += [Finding(FindingKind.UNKNOWN_CONTRACT, namespace, "no such contract is declared")
                 for namespace in unknown] if declared else []
    return findings


def distinct(content: CatalogueContent) -> CatalogueContent:
    """``content`` with every row that repeats an earlier one exactly (after normalisation) left out.

    Two routes with the same natural key but other timeouts both stay: that is an error
    (``FindingKind.CONFLICTING_DUPLICATE``) that blocks the change, not something to guess about.
    """
    routes, route_copies = _first_of_each(content.routes, route_key)
    rights, _ = _first_of_each(content.rights, right_key)
    conflicting = [copy for copy, first in route_copies if _route_timeouts(copy) != _route_timeouts(first)]
    if len(routes) == len(content.routes) and len(rights) == len(content.rights):
        return content
    return CatalogueContent((*routes, *conflicting), tuple(rights), content.contracts)


def errors(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that block an import."""
    return [f for f in findings if f.severity is Severity.ERROR]


def warnings(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that block an import only when the operator asks for ``--strict``."""
    return [f for f in findings if f.severity is Severity.WARNING]


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


Key = TypeVar("Key")
Row = TypeVar("Row", Route, AccessRight)


def _first_of_each(rows: Iterable[Row], key: Callable[[Row], Key]) -> tuple[list[Row], list[tuple[Row, Row]]]:
    """The first row of each natural key, in order, and every later row with the first it repeats."""
    first: dict[Key, Row] = {}
    copies: list[tuple[Row, Row]] = []
    for row in rows:
        seen = first.setdefault(key(row), row)
        if seen is not row:
            copies.append((row, seen))
    return list(first.values()), copies


def _route_timeouts(route: Route) -> tuple[float | None, float | None]:
    return route.connect_timeout_s, route.read_timeout_s


def _duplicates(copies: Iterable[tuple[Row, Row]],
                extra: Callable[[Row], object] = lambda _row: None) -> list[Finding]:
    """A warning per row that repeats an earlier one (collapsed), an error where ``extra`` differs."""
    found = []
    for copy, first in copies:
        if extra(copy) == extra(first):
            found.append(Finding(FindingKind.DUPLICATE, copy.describe(),
                                 "the same row is given again (after trimming and case-folding): kept once"))
        else:
            found.append(Finding(FindingKind.CONFLICTING_DUPLICATE, copy.describe(),
                                 f"the same row as {first.describe()} but with other timeouts"))
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


__all__ = ["ERRORS", "Finding", "FindingKind", "Severity", "distinct", "errors", "right_group", "validate",
           "warnings"]
