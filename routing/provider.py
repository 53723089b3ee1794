"""Where a process gets the catalogue snapshot it resolves against.

Two implementations of ``CatalogueProvider``: ``StaticProvider`` (a fixed snapshot: tests, tools)
and ``RefreshingProvider``, which every gateway and worker process runs. Processes never read routes
per call: ``RefreshingProvider`` serves an in-memory ``Catalogue`` and, at most once per
``check_seconds``, asks its ``CatalogueSource`` for a cheap stamp (in the database: the newest
catalogue version and the newest directory import, one indexed query); when the stamp moved it
loads the catalogue and swaps it in whole. A failed load keeps the last good snapshot and is
reported in ``status()``; only a process that never loaded one raises ``CatalogueUnavailable``.

The source is a protocol so that routing knows no database: ``store.routing.StoreCatalogueSource``
is the one the processes use.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import structlog

from routing.catalogue import Catalogue
from routing.content import CatalogueContent
from routing.errors import CatalogueUnavailable

log = structlog.get_logger("routing.provider")

#: What tells a source's catalogue apart from the one loaded before: (catalogue version, directory import).
Stamp = tuple[int, int]


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


@dataclass(frozen=True, slots=True)
class LoadedSource:
    """What a source holds at one stamp: the routes and rights, the HSA tree, when it was published."""

    stamp: Stamp
    content: CatalogueContent
    parents: Mapping[str, str]
    published_at: datetime | None


class SourceUnavailable(Exception):
    """Raised by a ``CatalogueSource`` that cannot be read now; ``reason`` names the failure's kind."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CatalogueSource(Protocol):
    """Where the catalogue is kept (the database); both methods raise ``SourceUnavailable``."""

    def stamp(self) -> Stamp:
        """The current stamp, cheaply."""
        ...

    def load(self) -> LoadedSource | None:
        """The catalogue as it is now, consistently at one stamp; None when it changed while being read."""
        ...


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    """What ``/readyz`` reports: the version in use, when it was published and loaded, the last error."""

    version: int | None
    published_at: datetime | None
    loaded_at: datetime | None
    routes: int
    rights: int
    error: str | None


@dataclass(frozen=True, slots=True)
class _Loaded:
    stamp: Stamp
    catalogue: Catalogue
    published_at: datetime | None


class RefreshingProvider:
    """``CatalogueProvider`` over a ``CatalogueSource``, for one process (all its threads); module docstring.

    At most once per ``check_seconds`` one caller asks for the stamp; when it moved, that caller
    rebuilds the snapshot (other threads keep using the old one meanwhile) and swaps it in with one
    assignment.
    """

    def __init__(self, source: CatalogueSource, clock: Callable[[], datetime], check_seconds: float = 1.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._source = source
        self._clock = clock
        self._check_seconds = check_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._loaded: _Loaded | None = None
        self._next_check = 0.0
        self._error: str | None = None

    def current(self) -> Catalogue:
        loaded = self._loaded
        if loaded is not None and self._monotonic() < self._next_check:
            return loaded.catalogue
        # Only one thread checks; the others go on with the snapshot they have (or wait for the first).
        if not self._lock.acquire(blocking=loaded is None):
            assert loaded is not None  # a non-blocking acquire is only tried with a snapshot in hand
            return loaded.catalogue
        try:
            self._refresh()
        finally:
            self._lock.release()
        if self._loaded is None:
            raise CatalogueUnavailable(f"routing catalogue not loaded: {self._error}")
        return self._loaded.catalogue

    def status(self) -> ProviderStatus:
        loaded = self._loaded
        if loaded is None:
            return ProviderStatus(None, None, None, 0, 0, self._error)
        return ProviderStatus(loaded.stamp[0], loaded.published_at, loaded.catalogue.built_at,
                              loaded.catalogue.route_count, loaded.catalogue.right_count, self._error)

    def _refresh(self) -> None:
        if self._loaded is not None and self._monotonic() < self._next_check:
            return  # another thread refreshed while this one waited
        self._next_check = self._monotonic() + self._check_seconds
        try:
            if self._loaded is not None and self._source.stamp() == self._loaded.stamp:
                self._error = None
                return
            source = self._source.load()
            if source is None:  # a change committed while it was read: take it next time
                self._next_check = 0.0
                return
            catalogue = Catalogue(source.content.routes, source.content.rights, source.parents,
                                  version=source.stamp[0], built_at=self._clock(),
                                  contracts=source.content.contracts)
        except (SourceUnavailable, ValueError) as error:  # whatever the cause, keep serving
            reason = error.reason if isinstance(error, SourceUnavailable) else str(error)
            self._error = f"{type(error).__name__}: {reason}"
            log.warning("routing_catalogue_load_failed", error=self._error,
                        keeping=self._loaded.stamp[0] if self._loaded else None)
            return
        self._loaded = _Loaded(source.stamp, catalogue, source.published_at)
        self._error = None
        log.info("routing_catalogue_loaded", version=source.stamp[0], routes=catalogue.route_count,
                 rights=catalogue.right_count)
