"""What an import or a rollback would change: routes and access rights added, removed and changed.

Rows are compared per group (contract + logical address for routes; consumer + contract + logical
address for access rights). A group with one row on each side whose row differs is a *change* (a new
URL, a new end date), shown as old -> new; anything else is rows added and rows removed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from routing.catalogue import AccessRight, Route
from routing.content import (
    CatalogueContent,
    right_group,
    right_key,
    route_group,
    route_key,
)

Row = TypeVar("Row", Route, AccessRight)


@dataclass(frozen=True, slots=True)
class RowDiff(Generic[Row]):
    """Added, removed and changed (old, new) rows of one kind."""

    added: tuple[Row, ...] = ()
    removed: tuple[Row, ...] = ()
    changed: tuple[tuple[Row, Row], ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


@dataclass(frozen=True, slots=True)
class CatalogueDiff:
    """The difference between two catalogue contents."""

    routes: RowDiff[Route]
    rights: RowDiff[AccessRight]

    @property
    def empty(self) -> bool:
        return self.routes.empty and self.rights.empty

    def counts(self) -> dict[str, int]:
        """Counts for logs and the version log."""
        return {
            "routesAdded": len(self.routes.added), "routesRemoved": len(self.routes.removed),
            "routesChanged": len(self.routes.changed), "rightsAdded": len(self.rights.added),
            "rightsRemoved": len(self.rights.removed), "rightsChanged": len(self.rights.changed),
        }


def diff(old: CatalogueContent, new: CatalogueContent) -> CatalogueDiff:
    """What changes when ``old`` is replaced by ``new``."""
    return CatalogueDiff(
        routes=_diff_rows(old.routes, new.routes, route_group, route_key),
        rights=_diff_rows(old.rights, new.rights, right_group, right_key),
    )


def _diff_rows(old: Sequence[Row], new: Sequence[Row], group: Callable[[Row], Hashable],
               key: Callable[[Row], tuple[Any, ...]]) -> RowDiff[Row]:
    before: dict[Hashable, dict[tuple[Any, ...], Row]] = {}
    after: dict[Hashable, dict[tuple[Any, ...], Row]] = {}
    for rows, into in ((old, before), (new, after)):
        for row in rows:
            into.setdefault(group(row), {})[key(row)] = row
    added: list[Row] = []
    removed: list[Row] = []
    changed: list[tuple[Row, Row]] = []
    for name in before.keys() | after.keys():
        was: dict[tuple[Any, ...], Row] = before.get(name, {})
        now: dict[tuple[Any, ...], Row] = after.get(name, {})
        if was.keys() == now.keys():
            continue
        if len(was) == 1 and len(now) == 1:
            (old_row,), (new_row,) = was.values(), now.values()
            changed.append((old_row, new_row))
            continue
        removed.extend(row for k, row in was.items() if k not in now)
        added.extend(row for k, row in now.items() if k not in was)
    return RowDiff(tuple(sorted(added, key=key)), tuple(sorted(removed, key=key)),
                   tuple(sorted(changed, key=lambda pair: key(pair[0]))))
