"""The operators' health report and the integration watch."""

from __future__ import annotations

from datetime import date

from structlog.testing import capture_logs

from contracts.ns import STATUS_UPDATE_V3 as CSU
from routing import AccessRight, Catalogue, Route, StaticProvider
from routing.report import CheckKind, check_catalogue, check_unit
from routing.watch import IntegrationWatch

TODAY = date(2026, 11, 21)
PARENTS = {"SE-U2": "SE-U1", "SE-U1": "SE-CG"}


def test_unit_without_route_is_reported_with_the_code() -> None:
    """No route by climbing either: VP004 in the finding."""
    findings = check_unit(Catalogue([], parents=PARENTS), "SE-U2", CSU, TODAY)
    assert [(f.kind, f.code) for f in findings] == [(CheckKind.NO_ROUTE, "VP004")]


def test_route_found_by_climbing_is_fine() -> None:
    """A route on the care giver covers the sub-unit."""
    assert check_unit(Catalogue([Route(CSU, "SE-CG", "https://j", "P")], parents=PARENTS), "SE-U2", CSU, TODAY) == []


def test_route_lacking_producer_or_profile_is_reported() -> None:
    """An endpoint without producer, on RIVTABP20 and without an absolute URL lacks three things."""
    findings = check_unit(Catalogue([Route(CSU, "SE-U2", "journal/csu", None, "RIVTABP20")]), "SE-U2", CSU, TODAY)
    assert [f.kind for f in findings] == [CheckKind.PRODUCER_INCOMPLETE]
    assert "producer" in findings[0].detail and "RIVTABP21" in findings[0].detail and "URL" in findings[0].detail


def test_expiring_rows_are_reported_unless_a_successor_takes_over() -> None:
    """A route ending in 10 days without successor is found; one with a successor from the next day is not."""
    ending = Route(CSU, "SE-U1", "https://old", "P", valid_to=date(2026, 12, 1))
    continued = Route(CSU, "SE-U2", "https://old", "P", valid_to=date(2026, 12, 1))
    successor = Route(CSU, "SE-U2", "https://new", "P", valid_from=date(2026, 12, 2))
    right = AccessRight("C", CSU, "*", valid_to=date(2026, 12, 20))
    far = AccessRight("D", CSU, "*", valid_to=date(2027, 6, 1))
    findings = check_catalogue(Catalogue([ending, continued, successor], [right, far]), [], CSU, TODAY)
    assert [(f.kind, f.subject) for f in findings] == [(CheckKind.ROUTE_EXPIRING, ending.describe()),
                                                       (CheckKind.RIGHT_EXPIRING, right.describe())]


def test_watch_logs_once_per_unit_and_day() -> None:
    """The second draft of the day for the same unit logs nothing; the next day checks again."""
    day = [TODAY]
    watch = IntegrationWatch(StaticProvider(Catalogue([], parents=PARENTS)), CSU, lambda: day[0])
    with capture_logs() as logs:
        watch.unit_seen("SE-U2")
        watch.unit_seen("se-u2 ")
        day[0] = date(2026, 11, 22)
        watch.unit_seen("SE-U2")
    assert [entry["event"] for entry in logs] == ["route_missing", "route_missing"]
    assert logs[0]["code"] == "VP004"


class Broken:
    """A provider that fails, as a database outage would."""

    def current(self) -> Catalogue:
        raise RuntimeError("down")


def test_watch_never_raises() -> None:
    """A failing catalogue is logged, never passed on to the draft that triggered the check."""
    with capture_logs() as logs:
        IntegrationWatch(Broken(), CSU, lambda: TODAY).unit_seen("SE-U2")
    assert [entry["event"] for entry in logs] == ["routing_watch_failed"]
