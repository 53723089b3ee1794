"""The routing catalogue in the database: publish and load, versions and rollback, the refreshing snapshot."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from structlog.testing import capture_logs

from domain.values import HsaId
from routing import AccessRight, CatalogueUnavailable, RefreshingProvider, Route
from routing.content import CatalogueContent, right_key, route_key
from store import routing as store
from store.errors import Conflict
from store.session import UnitOfWork, transaction
from store.units import register_integrated_unit
from usecases.routing_check import routing_check_job

NS = "urn:riv:clinicalprocess:healthcond:certificate:CertificateStatusUpdateForCareResponder:3"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TODAY = date(2026, 11, 21)
ROUTE = Route(NS, "SE2321000016-1000", "https://Journal.example/CSU?x=1", "SE2321000016-J001", "RIVTABP21",
              date(2026, 1, 1), date(2026, 12, 31), connect_timeout_s=2.5, read_timeout_s=30.0)
DEFAULT = Route(NS, "*", "https://default.example/csu", None)
RIGHT = AccessRight("SE5565594230-B8N", NS, "*", date(2026, 1, 1), date(2126, 1, 1))
CONTENT = CatalogueContent((ROUTE, DEFAULT), (RIGHT,), (NS, "urn:other:Responder:1"))


def _publish(factory: sessionmaker[Session], content: CatalogueContent, keep: int = 20, by: str = "tester") -> int:
    with transaction(factory) as session:
        store.lock_catalogue(session)
        return store.publish(session, content, by=by, action="import", now=NOW, keep=keep,
                             changes={"routesAdded": len(content.routes)})


def _load(factory: sessionmaker[Session]) -> CatalogueContent:
    with transaction(factory) as session:
        return store.load_content(session)


def test_published_content_loads_back_exactly(session_factory: sessionmaker[Session]) -> None:
    """Every field survives, URLs byte-exact, contracts without routes included."""
    assert _publish(session_factory, CONTENT) == 1
    loaded = _load(session_factory)
    assert sorted(map(route_key, loaded.routes)) == sorted(map(route_key, CONTENT.routes))
    assert {r.url for r in loaded.routes} == {ROUTE.url, DEFAULT.url}
    stored = next(r for r in loaded.routes if r.logical_address == ROUTE.logical_address)
    assert stored == ROUTE
    assert [right_key(r) for r in loaded.rights] == [right_key(RIGHT)]
    assert set(loaded.contracts) == {NS, "urn:other:Responder:1"}


def test_ids_differing_only_in_case_share_one_row(session_factory: sessionmaker[Session]) -> None:
    """Two routes for the same address spelled differently use one logical-address row (normalised key)."""
    other = Route(NS.upper(), "se2321000016-1000", "https://second.example", "se2321000016-j001",
                  valid_from=date(2027, 1, 1))
    _publish(session_factory, CatalogueContent((ROUTE, other)))
    with transaction(session_factory) as session:
        assert session.scalar(text("SELECT count(*) FROM routing_logical_address")) == 1
        assert session.scalar(text("SELECT count(*) FROM routing_contract")) == 1
        assert session.scalar(text("SELECT count(*) FROM routing_component")) == 1


def test_natural_key_is_unique(session_factory: sessionmaker[Session]) -> None:
    """The same route twice breaks the unique constraint and nothing is written."""
    with pytest.raises(Conflict), transaction(session_factory) as session:
        store.publish(session, CatalogueContent((ROUTE, ROUTE)), by="t", action="import", now=NOW, keep=5,
                      changes={})
    assert _load(session_factory).routes == ()


def test_versions_log_each_change_and_old_snapshots_are_pruned(session_factory: sessionmaker[Session]) -> None:
    """Each publish is a version with who and counts; only the newest ``keep`` keep their snapshot."""
    for _ in range(3):
        _publish(session_factory, CONTENT, keep=2, by="alice")
    with transaction(session_factory) as session:
        log = store.versions(session)
        assert [(v.version, v.created_by, v.routes, v.rights, v.kept) for v in log] == [
            (3, "alice", 2, 1, True), (2, "alice", 2, 1, True), (1, "alice", 2, 1, False)]
        assert store.current_version(session) == 3
        with pytest.raises(store.VersionNotKept):
            store.content_of(session, 1)
        assert store.content_of(session, 2).routes == tuple(sorted(CONTENT.routes, key=lambda r: r.logical_address))


def test_content_of_a_version_is_what_was_published(session_factory: sessionmaker[Session]) -> None:
    """A kept version restores the catalogue as it was (the rollback source)."""
    _publish(session_factory, CONTENT)
    _publish(session_factory, CatalogueContent((DEFAULT,)))
    with transaction(session_factory) as session:
        old = store.content_of(session, 1)
    assert sorted(map(route_key, old.routes)) == sorted(map(route_key, CONTENT.routes))
    assert [right_key(r) for r in old.rights] == [right_key(RIGHT)]


def _directory(session: Session) -> None:
    session.execute(text("INSERT INTO care_giver (hsa_key, hsa_id, name) VALUES ('se-cg', 'SE-CG', 'cg')"))
    session.execute(text("INSERT INTO unit (hsa_key, hsa_id, name, care_giver_key, parent_key) VALUES "
                         "('se-u1', 'SE-U1', 'u1', 'se-cg', NULL), ('se-u2', 'SE-U2', 'u2', 'se-cg', 'se-u1')"))


def test_hsa_parents_come_from_the_directory(session_factory: sessionmaker[Session]) -> None:
    """A unit's parent is its parent unit, else its care giver."""
    with transaction(session_factory) as session:
        _directory(session)
        assert store.hsa_parents(session) == {"se-u1": "SE-CG", "se-u2": "SE-U1"}


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_provider_serves_a_snapshot_and_swaps_to_a_new_version(session_factory: sessionmaker[Session]) -> None:
    """A published version is picked up at the next check, not before; in between no query runs."""
    clock = Clock()
    provider = RefreshingProvider(
        store.StoreCatalogueSource(UnitOfWork(session_factory)), lambda: NOW, check_seconds=1.0, monotonic=clock
    )
    empty = provider.current()
    assert (empty.version, empty.route_count) == (0, 0)
    _publish(session_factory, CONTENT)
    assert provider.current() is empty  # within the check interval: the same snapshot
    clock.now = 1.5
    loaded = provider.current()
    assert (loaded.version, loaded.route_count, loaded.right_count) == (1, 2, 1)
    assert loaded.resolve(NS, "SE2321000016-1000", TODAY).route.url == ROUTE.url
    clock.now = 3.0
    assert provider.current() is loaded  # nothing changed: the same object, no rebuild
    status = provider.status()
    assert (status.version, status.published_at, status.error) == (1, NOW, None)


def test_provider_rebuilds_when_the_directory_changes(session_factory: sessionmaker[Session]) -> None:
    """A directory import moves the HSA tree the snapshot climbs, so it triggers a rebuild too."""
    _publish(session_factory, CatalogueContent((Route(NS, "SE-CG", "https://cg"),)))
    clock = Clock()
    provider = RefreshingProvider(store.StoreCatalogueSource(UnitOfWork(session_factory)), lambda: NOW, monotonic=clock)
    assert provider.current().parent_of("SE-U2") is None
    with transaction(session_factory) as session:
        _directory(session)
        session.execute(text("INSERT INTO directory_import (produced_at, imported_at, care_givers, units, "
                             "personnel, patients) VALUES (:t, :t, 1, 2, 0, 0)"), {"t": NOW.isoformat()})
    clock.now = 2.0
    assert provider.current().resolve(NS, "SE-U2", TODAY).trace == ("SE-U2", "(parent)", "SE-U1", "(parent)",
                                                                    "SE-CG")


def test_provider_keeps_the_last_good_snapshot_when_a_load_fails(session_factory: sessionmaker[Session]) -> None:
    """With the database gone the old snapshot keeps serving and the error is reported."""
    _publish(session_factory, CONTENT)
    clock = Clock()
    provider = RefreshingProvider(store.StoreCatalogueSource(UnitOfWork(session_factory)), lambda: NOW, monotonic=clock)
    good = provider.current()
    with transaction(session_factory) as session:
        session.execute(text("ALTER TABLE routing_version RENAME TO routing_version_gone"))
    clock.now = 2.0
    assert provider.current() is good
    assert provider.status().error is not None and provider.status().version == 1


def test_provider_without_any_snapshot_raises_vp008(session_factory: sessionmaker[Session]) -> None:
    """A process that never loaded a catalogue cannot route: CatalogueUnavailable (VP008)."""
    with transaction(session_factory) as session:
        session.execute(text("ALTER TABLE routing_version RENAME TO routing_version_gone"))
    provider = RefreshingProvider(store.StoreCatalogueSource(UnitOfWork(session_factory)), lambda: NOW)
    with pytest.raises(CatalogueUnavailable):
        provider.current()
    assert provider.status().version is None


def test_load_catalogue_builds_the_snapshot_with_the_tree(session_factory: sessionmaker[Session]) -> None:
    """``load_catalogue`` is what ``routing explain`` resolves against."""
    _publish(session_factory, CatalogueContent((Route(NS, "SE-U1", "https://u1"),)))
    with transaction(session_factory) as session:
        _directory(session)
        catalogue = store.load_catalogue(session)
    assert catalogue.version == 1
    assert catalogue.resolve(NS, "se-u2", TODAY + timedelta(days=1)).route.url == "https://u1"


def test_daily_routing_check_job_logs_each_finding(session_factory: sessionmaker[Session]) -> None:
    """The scheduler's job reads integrated units and logs a warning for one without a route."""
    _publish(session_factory, CatalogueContent((Route(NS, "SE-U1", "https://u1", "P"),)))
    with transaction(session_factory) as session:
        _directory(session)
        for unit in ("SE-U2", "SE-LONELY"):
            register_integrated_unit(session, HsaId(unit), HsaId("SE-CG"), NOW)
    provider = RefreshingProvider(store.StoreCatalogueSource(UnitOfWork(session_factory)), lambda: NOW)
    job = routing_check_job(UnitOfWork(session_factory), provider, NS, lambda: TODAY)
    with capture_logs() as logs:
        findings = job()
    assert [(f.subject, f.code) for f in findings] == [("SE-LONELY", "VP004")]
    assert [entry["event"] for entry in logs if entry["log_level"] == "warning"] == ["routing_check_finding"]
