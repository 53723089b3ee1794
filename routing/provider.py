"""Where a process gets the catalogue snapshot it resolves against.

Two implementations: ``StaticProvider`` (a fixed snapshot: tests, tools) and the store-backed
``store.routing.StoreCatalogueProvider``, which swaps to a new database version when one is published
and keeps the last good snapshot when a load fails.
"""

from __future__ import annotations

from typing import Protocol

from routing.catalogue import Catalogue


class CatalogueProvider(Protocol):
    """Hands out the current snapshot; cheap enough to call once per request."""

    def current(self) -> Catalogue:
        """The snapshot to use now."""
        ...


class StaticProvider:
    """Always the same snapshot."""

    def __init__(self, catalogue: Catalogue) -> None:
        self._catalogue = catalogue

    def current(self) -> Catalogue:
        return self._catalogue
