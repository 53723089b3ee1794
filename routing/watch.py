"""Checking a unit's routing when it integrates, without ever holding up the draft that integrated it.

The incumbent checked TAK inside CreateDraftCertificate, blocking the call, then switched the check
off in production and deleted it. Here the check runs after the draft's transaction has committed,
against the in-memory snapshot (no I/O), and only logs: one warning per unit and day in a process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date

import structlog

from routing.provider import CatalogueProvider
from routing.report import check_unit


def _logger() -> structlog.stdlib.BoundLogger:
    # Fetched per use, not per module: structlog caches a module-level logger on first use, and the
    # CLI and the tests configure logging after import.
    return structlog.get_logger("routing.watch")  # type: ignore[no-any-return]


class IntegrationWatch:
    """Call ``unit_seen(hsa_id)`` when a unit registers as integrated; it logs routing problems."""

    def __init__(self, provider: CatalogueProvider, contract: str, today: Callable[[], date]) -> None:
        self._provider = provider
        self._contract = contract
        self._today = today
        self._day: date | None = None
        self._checked: set[str] = set()
        self._lock = threading.Lock()

    def unit_seen(self, hsa_id: str) -> None:
        """Check ``hsa_id`` unless it was checked today; never raises."""
        log = _logger()
        try:
            today = self._today()
            key = hsa_id.strip().casefold()
            with self._lock:
                if self._day != today:
                    self._day, self._checked = today, set()
                if key in self._checked:
                    return
                self._checked.add(key)
            for finding in check_unit(self._provider.current(), hsa_id, self._contract, today):
                log.warning("route_missing", unit=hsa_id, kind=finding.kind.value, code=finding.code,
                            detail=finding.detail)
        # The draft is already stored: whatever goes wrong here must not turn its OK into an error.
        except Exception as error:  # noqa: BLE001
            log.warning("routing_watch_failed", unit=hsa_id, error=type(error).__name__)
