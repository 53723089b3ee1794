"""The catalogue's content as plain records, independent of any file format or table.

``CatalogueContent`` is what an import produces, what the store keeps, what a version snapshot holds
and what ``Catalogue`` is built from. Rows are identified by their natural keys with HSA-ids and
namespaces normalised (trimmed, case-folded) and URLs byte-exact, as TAK's unique keys do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from routing.catalogue import AccessRight, Route, normalise

RouteKey = tuple[str, str, str, str, str, date, date]
RightKey = tuple[str, str, str, date, date]


def route_key(route: Route) -> RouteKey:
    """A route's natural key: contract, logical address, producer, profile, URL, validity."""
    return (normalise(route.contract), normalise(route.logical_address), normalise(route.producer or ""),
            route.profile.strip().upper(), route.url, route.valid_from, route.valid_to)


def right_key(right: AccessRight) -> RightKey:
    """An access right's natural key: consumer, contract, logical address, validity."""
    return (normalise(right.consumer), normalise(right.contract), normalise(right.logical_address),
            right.valid_from, right.valid_to)


def route_group(route: Route) -> tuple[str, str]:
    """What a route answers for: contract and logical address (the unit of a merge and a diff)."""
    return normalise(route.contract), normalise(route.logical_address)


def right_group(right: AccessRight) -> tuple[str, str, str]:
    """What an access right answers for: consumer, contract and logical address."""
    return normalise(right.consumer), normalise(right.contract), normalise(right.logical_address)


@dataclass(frozen=True, slots=True)
class CatalogueContent:
    """Routes, access rights and the contracts a source names (even those without routes)."""

    routes: tuple[Route, ...] = ()
    rights: tuple[AccessRight, ...] = ()
    contracts: tuple[str, ...] = field(default=())

    @property
    def size(self) -> int:
        """Routes plus access rights: what the shrink guard compares."""
        return len(self.routes) + len(self.rights)

    def all_contracts(self) -> tuple[str, ...]:
        """Every contract named, by the list or by a row, each once, in first-seen order."""
        seen: dict[str, str] = {}
        for namespace in (*self.contracts, *(r.contract for r in self.routes), *(r.contract for r in self.rights)):
            seen.setdefault(normalise(namespace), namespace.strip())
        return tuple(seen.values())

    def merged_with(self, incoming: CatalogueContent) -> CatalogueContent:
        """This content with ``incoming`` laid over it.

        For every contract + logical address the incoming file names, its routes replace ours; the
        same for every consumer + contract + logical address of its access rights. Everything the
        file does not mention stays as it is.
        """
        route_groups = {route_group(r) for r in incoming.routes}
        right_groups = {right_group(r) for r in incoming.rights}
        return CatalogueContent(
            routes=(*(r for r in self.routes if route_group(r) not in route_groups), *incoming.routes),
            rights=(*(r for r in self.rights if right_group(r) not in right_groups), *incoming.rights),
            contracts=_unique((*self.contracts, *incoming.contracts)),
        )

    def without(self, routes: Iterable[Route] = (), rights: Iterable[AccessRight] = ()) -> CatalogueContent:
        """This content minus the given rows (compared by natural key)."""
        gone_routes = {route_key(r) for r in routes}
        gone_rights = {right_key(r) for r in rights}
        return CatalogueContent(
            routes=tuple(r for r in self.routes if route_key(r) not in gone_routes),
            rights=tuple(r for r in self.rights if right_key(r) not in gone_rights),
            contracts=self.contracts,
        )


def _unique(namespaces: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for namespace in namespaces:
        seen.setdefault(normalise(namespace), namespace)
    return tuple(seen.values())
