"""The daily routing check: every integrated unit's status-update route and rows about to expire.

``routing_check_job`` is a function of no arguments for the scheduler's job table (run it once a day
on the leader). It reads the integrated units in one short transaction, checks them against the
process's catalogue snapshot (``routing.report.check_catalogue``) and logs one warning per finding;
``intygsgateway routing check`` prints the same report on demand. The unit of work is passed in as
``transaction``, typed loosely so that this package needs no SQLAlchemy import of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date
from typing import Any

import structlog

from routing.provider import CatalogueProvider
from routing.report import EXPIRY_HORIZON_DAYS, CheckFinding, check_catalogue
from store.routing import integrated_units


def run_routing_check(transaction: Callable[[], AbstractContextManager[Any]], provider: CatalogueProvider,
                      today: Callable[[], date], horizon_days: int = EXPIRY_HORIZON_DAYS) -> list[CheckFinding]:
    """Check every integrated unit and the catalogue's expiring rows; log and return the findings."""
    log = structlog.get_logger("scheduler.routing_check")  # per run: configuration may change after import
    with transaction() as session:
        units = [unit for unit, _care_giver, _first_seen in integrated_units(session)]
    catalogue = provider.current()
    findings = check_catalogue(catalogue, units, today(), horizon_days)
    for finding in findings:
        log.warning("routing_check_finding", kind=finding.kind.value, subject=finding.subject, code=finding.code,
                    detail=finding.detail)
    log.info("routing_check_done", units=len(units), findings=len(findings), version=catalogue.version)
    return findings


def routing_check_job(transaction: Callable[[], AbstractContextManager[Any]], provider: CatalogueProvider,
                      today: Callable[[], date]) -> Callable[[], list[CheckFinding]]:
    """The job function for the scheduler: ``run_routing_check`` with its dependencies bound."""
    return lambda: run_routing_check(transaction, provider, today)
