"""The database figures of a metrics scrape, read once per cache period per process.

``/metrics`` may be scraped by several Prometheus servers, through every gateway process; the figures
(``store.metrics.operations_figures``: one bounded aggregate query) are kept for ``cache_seconds``
and read again by the first scrape after that, while concurrent scrapes wait for that one read
instead of running their own. A database that does not answer raises ``StoreError`` to the caller
(the scrape then reports the database as down) and nothing is cached, so the next scrape tries again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from store import UnitOfWork
from store.errors import StoreError
from store.metrics import OpenEvents, OperationsFigures, UnitBacklog, operations_figures

__all__ = ["CachedFigures", "OpenEvents", "OperationsFigures", "StoreError", "UnitBacklog"]


class CachedFigures:
    """``operations_figures`` on ``uow``, reused for ``cache_seconds`` (by ``monotonic``)."""

    def __init__(self, uow: UnitOfWork, worst_units: int, cache_seconds: float,
                 monotonic: Callable[[], float]) -> None:
        self._uow = uow
        self._worst_units = worst_units
        self._cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._figures: OperationsFigures | None = None
        self._read_at = 0.0
        self.reads = 0  # how many times the database was asked: what the cache saves is visible

    def __call__(self) -> OperationsFigures:
        with self._lock:
            now = self._monotonic()
            if self._figures is None or now - self._read_at >= self._cache_seconds:
                with self._uow() as tx:
                    self._figures = operations_figures(tx, self._worst_units)
                self._read_at = now
                self.reads += 1
            return self._figures
