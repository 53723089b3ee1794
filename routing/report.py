"""The operators' health report: TAKning problems found before a status update fails.

* an integrated unit whose status-update contract (the caller names it: CertificateStatusUpdateForCare v3)
  resolves to nothing (VP004), to several
  routes (VP006) or to an empty URL (VP010), directly or by climbing;
* a unit whose route's endpoint lacks what we need to call it: a producer component, the RIV-TA
  profile we speak (RIVTABP21), an absolute http(s) URL;
* routes and access rights that stop being valid within ``horizon_days`` with no successor row
  taking over the next day.
"""

from __future__ import annotations

import functools
import ipaddress
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from routing.catalogue import DEFAULT_PROFILE, AccessRight, Catalogue, Route
from routing.content import right_group, route_group
from routing.errors import RoutingError

EXPIRY_HORIZON_DAYS = 30


class CheckKind(StrEnum):
    NO_ROUTE = "no-route"
    PRODUCER_INCOMPLETE = "producer-incomplete"
    ROUTE_EXPIRING = "route-expiring"
    RIGHT_EXPIRING = "access-right-expiring"
    PLAIN_HTTP = "plain-http"


@dataclass(frozen=True, slots=True)
class CheckFinding:
    """One problem: its kind, what it is about (a unit, a row) and the details (code, trace, dates)."""

    kind: CheckKind
    subject: str
    detail: str
    code: str | None = None


def check_unit(
    catalogue: Catalogue, unit: str, contract: str, on: date, allow_plain_http: bool = False
) -> list[CheckFinding]:
    """Whether calls of ``contract`` for ``unit`` can be routed on ``on``, and to an endpoint we can call."""
    try:
        resolution = catalogue.resolve(contract, unit, on)
    except RoutingError as error:
        return [CheckFinding(CheckKind.NO_ROUTE, unit, error.describe(), error.code)]
    lacking = missing_for_us(resolution.route)
    if lacking:
        return [CheckFinding(CheckKind.PRODUCER_INCOMPLETE, unit,
                             f"{resolution.route.describe()} lacks {', '.join(lacking)} "
                             f"(via {','.join(resolution.trace)})")]
    if is_plain_http(resolution.route.url) and not allow_plain_http:
        return [CheckFinding(CheckKind.PLAIN_HTTP, unit,
                             f"{resolution.route.describe()} is plain http://: patient data would travel in clear; "
                             "it is not sent unless allow_plain_http_routes is set")]
    return []


@functools.lru_cache(maxsize=1024)
def is_plain_http(url: str) -> bool:
    """A ``http://`` URL to anything but this host's loopback (a local mock journal or TLS sidecar).

    Remembered per URL: delivery asks for every event it sends, a catalogue has few endpoints, and
    reading an address (``ipaddress``) cost about 4 % of a worker's time in an onward drain.
    """
    parts = urlsplit(url.strip())
    if parts.scheme.lower() != "http":
        return False
    host = (parts.hostname or "").lower()
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def missing_for_us(route: Route) -> list[str]:
    """What the route's endpoint lacks for the gateway to call it."""
    lacking = []
    if not route.producer:
        lacking.append("a producer component")
    if route.profile.upper() != DEFAULT_PROFILE:
        lacking.append(f"the {DEFAULT_PROFILE} profile (has {route.profile})")
    if not route.url.startswith(("https://", "http://")):
        lacking.append("an absolute http(s) URL")
    return lacking


def check_catalogue(catalogue: Catalogue, units: Iterable[str], contract: str, on: date,
                    horizon_days: int = EXPIRY_HORIZON_DAYS, allow_plain_http: bool = False) -> list[CheckFinding]:
    """The whole report: every unit's routing for ``contract``, then rows expiring within the horizon."""
    findings = [finding for unit in units for finding in check_unit(catalogue, unit, contract, on, allow_plain_http)]
    horizon = on + timedelta(days=horizon_days)
    findings += [CheckFinding(CheckKind.ROUTE_EXPIRING, route.describe(), f"ends {route.valid_to}")
                 for route in _expiring(catalogue.routes(), on, horizon, route_group)]
    findings += [CheckFinding(CheckKind.RIGHT_EXPIRING, right.describe(), f"ends {right.valid_to}")
                 for right in _expiring(catalogue.rights(), on, horizon, right_group)]
    return findings


def _expiring(rows: Iterable[Route] | Iterable[AccessRight], on: date, horizon: date,
              group: object) -> list[Route | AccessRight]:
    """Rows valid on ``on`` that end by ``horizon`` and that no row of their group continues."""
    by_group: dict[object, list[Route | AccessRight]] = defaultdict(list)
    for row in rows:
        by_group[group(row)].append(row)  # type: ignore[operator]
    ending = []
    for members in by_group.values():
        for row in members:
            if not (row.valid_on(on) and row.valid_to <= horizon):
                continue
            next_day = row.valid_to + timedelta(days=1)
            if not any(other.valid_on(next_day) for other in members):
                ending.append(row)
    return sorted(ending, key=lambda row: (row.valid_to, row.describe()))
