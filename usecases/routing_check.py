"""The routing check: every integrated unit's status-update route, and catalogue rows about to expire.

Run daily on the elected worker (``routing_check_job``) and on demand by ``intygsgateway routing
check``: the integrated units are read in one short transaction and checked against a catalogue
snapshot (``routing.report.check_catalogue``); each finding is logged as a warning.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import structlog

from routing.catalogue import Catalogue
from routing.provider import CatalogueProvider
from routing.report import EXPIRY_HORIZON_DAYS, CheckFinding, check_catalogue
from store import UnitOfWork
from store.routing import integrated_units


def check_routes(uow: UnitOfWork, catalogue: Catalogue, contract: str, on: date,
                 horizon_days: int = EXPIRY_HORIZON_DAYS, allow_plain_http: bool = False
                 ) -> tuple[list[str], list[CheckFinding]]:
    """The integrated units, and what is wrong with their ``contract`` routes (plain http:// too) or expires soon."""
    with uow() as tx:
        units = [unit for unit, _care_giver, _first_seen in integrated_units(tx)]
    return units, check_catalogue(catalogue, units, contract, on, horizon_days, allow_plain_http)


def run_routing_check(uow: UnitOfWork, provider: CatalogueProvider, contract: str, today: Callable[[], date],
                      horizon_days: int = EXPIRY_HORIZON_DAYS) -> list[CheckFinding]:
    """Check every integrated unit and the catalogue's expiring rows; log and return the findings."""
    log = structlog.get_logger("usecases.routing_check")  # per run: configuration may change after import
    catalogue = provider.current()
    units, findings = check_routes(uow, catalogue, contract, today(), horizon_days)
    for finding in findings:
        log.warning("routing_check_finding", kind=finding.kind.value, subject=finding.subject, code=finding.code,
                    detail=finding.detail)
    log.info("routing_check_done", units=len(units), findings=len(findings), version=catalogue.version)
    return findings


def routing_check_job(uow: UnitOfWork, provider: CatalogueProvider, contract: str,
                      today: Callable[[], date]) -> Callable[[], list[CheckFinding]]:
    """The job function for the scheduler: ``run_routing_check`` with its dependencies bound."""
    return lambda: run_routing_check(uow, provider, contract, today)
