"""How ``routing`` commands print a change plan (diff and validation report) and rows, for people.

Sections are capped at ``show`` rows each (0 = all) with the total always given, so a dry run of a
national export stays readable while the counts stay exact.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from routing.catalogue import AccessRight, Route
from routing.changes import ChangePlan
from routing.validate import Finding


def _section(title: str, lines: Sequence[str], show: int) -> None:
    if not lines:
        return
    print(f"{title}: {len(lines)}")
    for line in lines[: show or None]:
        print(f"  {line}")
    if show and len(lines) > show:
        print(f"  ... and {len(lines) - show} more")


def print_plan(plan: ChangePlan, show: int, source_format: str | None) -> None:
    """The diff, then the findings grouped by kind, then the totals before and after."""
    if source_format:
        print(f"source: {source_format}")
    routes, rights = plan.diff.routes, plan.diff.rights
    _section("routes added", [f"+ {r.contract} {r.describe()}" for r in routes.added], show)
    _section("routes removed", [f"- {r.contract} {r.describe()}" for r in routes.removed], show)
    _section("routes changed", [f"~ {old.contract} {old.describe()}  =>  {new.describe()}"
                                for old, new in routes.changed], show)
    _section("access rights added", [f"+ {r.contract} {r.describe()}" for r in rights.added], show)
    _section("access rights removed", [f"- {r.contract} {r.describe()}" for r in rights.removed], show)
    _section("access rights changed", [f"~ {old.contract} {old.describe()}  =>  {new.describe()}"
                                       for old, new in rights.changed], show)
    by_kind: dict[str, list[Finding]] = defaultdict(list)
    for finding in plan.findings:
        by_kind[f"{finding.severity.value}s: {finding.kind.value}"].append(finding)
    for title in sorted(by_kind):
        _section(title, [f"{f.where}: {f.detail}" for f in by_kind[title]], show)
    print(f"before: {len(plan.before.routes)} routes, {len(plan.before.rights)} access rights; "
          f"after: {len(plan.after.routes)} routes, {len(plan.after.rights)} access rights")


def print_rows(rows: Sequence[Route | AccessRight]) -> None:
    """One line per row: contract, then the row's own description."""
    for row in sorted(rows, key=lambda r: (r.contract.casefold(), r.describe().casefold())):
        print(f"{row.contract}\t{row.describe()}")
    print(f"{len(rows)} row(s)")
