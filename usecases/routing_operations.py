"""The routing catalogue as operators read it in the console: explain a lookup, the versions, a diff, the check.

The lookup is explained in the catalogue this process routes by (``routing.explain``, the same
explanation ``intygsgateway routing explain`` prints); the versions and their diffs come from the
version log (``store.routing``), a diff only for versions whose snapshot is still kept
(``routing_keep_versions``); the check is the daily routing check (``usecases.routing_check``):
integrated units without a usable status-update route, and rows about to expire.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from routing.content import CatalogueContent
from routing.diff import CatalogueDiff, diff
from routing.explain import Explanation, explain
from routing.provider import CatalogueProvider
from routing.report import CheckFinding
from store import UnitOfWork
from store import routing as store
from store.routing import CatalogueVersion, VersionNotKept
from usecases.routing_check import check_routes

__all__ = ["CatalogueVersion", "RoutingOperations", "VersionDiff"]


@dataclass(frozen=True, slots=True)
class VersionDiff:
    """What version ``version`` changed compared with the one before it."""

    version: int
    changes: CatalogueDiff


class RoutingOperations:
    """The console's routing tasks on one database, catalogue provider and calendar."""

    def __init__(self, uow: UnitOfWork, catalogue: CatalogueProvider, status_contract: str,
                 today: Callable[[], date], allow_plain_http: bool = False) -> None:
        self._uow = uow
        self._catalogue = catalogue
        self._status_contract = status_contract
        self._today = today
        self._allow_plain_http = allow_plain_http

    def today(self) -> date:
        """The calendar date lookups are judged by (TAK's dates are Swedish dates)."""
        return self._today()

    def contracts(self) -> tuple[str, ...]:
        """The contracts the catalogue in use knows, for the explain form."""
        return tuple(sorted(self._catalogue.current().contracts))

    def explain(self, contract: str, address: str, consumer: str | None, on: date) -> Explanation:
        """Explain a lookup in the catalogue this process routes by."""
        return explain(self._catalogue.current(), contract, address, consumer, on)

    def versions(self, limit: int = 10) -> list[CatalogueVersion]:
        """The newest ``limit`` versions, newest first."""
        with self._uow() as tx:
            return store.versions(tx, limit)

    def version_diff(self, version: int) -> VersionDiff | None:
        """What ``version`` changed; None when it, or the version before it, is no longer kept."""
        with self._uow() as tx:
            try:
                after = store.content_of(tx, version)
                before = store.content_of(tx, version - 1) if version > 1 else CatalogueContent((), (), ())
            except VersionNotKept:
                return None
        return VersionDiff(version, diff(before, after))

    def check(self) -> tuple[list[str], list[CheckFinding]]:
        """The integrated units, and the findings of the routing check on the catalogue in use."""
        return check_routes(self._uow, self._catalogue.current(), self._status_contract, self._today(),
                            allow_plain_http=self._allow_plain_http)
