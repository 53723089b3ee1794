"""The dispatcher against a real journal simulator on loopback: every outcome class, order, routing, timeouts."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

import scheduler.dispatcher as dispatcher_module
from contracts.ns import STATUS_UPDATE_V3
from domain.certificate_types import load_default_registry
from domain.certificates import to_snapshot
from domain.events import ClaimedEvent
from domain.values import EventCode
from outbound import Delivery, HttpSender, Timeouts
from routing.catalogue import Catalogue, Route
from routing.provider import StaticProvider
from scheduler.dispatcher import DispatchConfig
from simulator.journal import MockJournal, Mode
from simulator.server import running
from store.certificates import delete_certificate, get_certificate
from store.outbox import EventReport, OutboxStatus, enqueue, event_report, release
from store.session import transaction
from tests.integration.outbox_env import (
    PARENT,
    SCHEDULES,
    T0,
    UNIT,
    Clock,
    add_certificates,
    catalogue_for,
    make_dispatcher,
    status_event,
)


@pytest.fixture
def journal() -> Iterator[tuple[MockJournal, str]]:
    simulator = MockJournal()
    with running(simulator) as url:
        yield simulator, url


def report(factory: sessionmaker[Session], event_id: int) -> EventReport:
    with transaction(factory) as session:
        found = event_report(session, event_id)
    assert found is not None
    return found


@dataclass(frozen=True)
class Expected:
    outcome: str
    status: OutboxStatus
    schedule: str | None = None  # for a retry: the schedule and the first delay
    delay: timedelta | None = None


RETRY = timedelta(minutes=1)
ADDRESS = timedelta(hours=1)
BY_MODE = {
    Mode.OK: Expected("ok", OutboxStatus.DELIVERED),
    Mode.INFO: Expected("info", OutboxStatus.DELIVERED),
    Mode.TECHNICAL_ERROR: Expected("technical-error", OutboxStatus.PENDING, "technical", RETRY),
    Mode.VALIDATION_ERROR: Expected("validation-error", OutboxStatus.FAILED),
    Mode.APPLICATION_ERROR: Expected("application-error", OutboxStatus.FAILED),
    Mode.REVOKED: Expected("revoked", OutboxStatus.FAILED),
    Mode.FAULT: Expected("soap-fault", OutboxStatus.PENDING, "technical", RETRY),
    Mode.CLIENT_FAULT: Expected("soap-fault", OutboxStatus.FAILED),
    Mode.VP004: Expected("platform-no-route", OutboxStatus.PENDING, "address", ADDRESS),
    Mode.VP007: Expected("platform-no-access", OutboxStatus.PENDING, "address", ADDRESS),
    Mode.HTTP500: Expected("http-error", OutboxStatus.PENDING, "technical", RETRY),
    Mode.EMPTY: Expected("empty-body", OutboxStatus.PENDING, "technical", RETRY),
    Mode.NOT_SOAP: Expected("non-soap-body", OutboxStatus.PENDING, "technical", RETRY),
    Mode.DROP: Expected("connect-error", OutboxStatus.PENDING, "technical", RETRY),
}


def test_every_answer_of_the_journal_has_its_effect_on_the_event(
        session_factory: sessionmaker[Session], journal: tuple[MockJournal, str]) -> None:
    """One event per simulator mode: its outcome class, status, schedule and next try; the route
    is found by climbing from the unit to its parent."""
    simulator, url = journal
    clock = Clock()
    dispatcher, sender = make_dispatcher(session_factory, catalogue_for(url), clock)
    try:
        for number, (mode, expected) in enumerate(BY_MODE.items()):
            simulator.set_mode(mode)
            [event_id] = add_certificates(session_factory, [f"cert-{mode.value}"], at=clock())
            assert dispatcher.run_batch() == 1, mode
            found = report(session_factory, event_id)
            assert found.event["last_outcome"] == expected.outcome, mode
            assert found.event["status"] == expected.status, mode
            [attempt] = found.attempts
            assert attempt["url"] == url and attempt["at"] == clock(), mode
            if expected.schedule is not None:
                assert expected.delay is not None, "a retry case names its first delay"
                assert found.event["schedule_kind"] == expected.schedule, mode
                assert found.event["next_attempt_at"] == clock() + expected.delay, mode
            else:
                assert found.event["finished_at"] == clock(), mode
            clock.advance(timedelta(seconds=1))
            assert len(simulator.received()) == number + 1, mode
    finally:
        sender.close()


def test_transport_failures_and_a_missing_route(session_factory: sessionmaker[Session],
                                                journal: tuple[MockJournal, str]) -> None:
    """Nobody listening: connect-error; TLS to a plain server: tls-error; no route in our table:
    platform-no-route on the address schedule without any call."""
    simulator, url = journal
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    cases = {
        f"http://127.0.0.1:{closed}/journal": ("connect-error", "technical"),
        url.replace("http://", "https://"): ("tls-error", "technical"),
    }
    clock = Clock()
    for target, (outcome, schedule) in cases.items():
        [event_id] = add_certificates(session_factory, [f"cert-{outcome}"], at=clock())
        dispatcher, sender = make_dispatcher(session_factory, catalogue_for(target), clock)
        try:
            assert dispatcher.run_batch() == 1
        finally:
            sender.close()
        found = report(session_factory, event_id)
        assert (found.event["last_outcome"], found.event["schedule_kind"]) == (outcome, schedule)
    [event_id] = add_certificates(session_factory, ["cert-no-route"], at=clock())
    dispatcher, sender = make_dispatcher(session_factory, catalogue_for(url, address="SE2321000016-9999"), clock)
    try:
        assert dispatcher.run_batch() == 1
    finally:
        sender.close()
    found = report(session_factory, event_id)
    assert (found.event["last_outcome"], found.event["schedule_kind"]) == ("platform-no-route", "address")
    assert found.attempts[0]["url"] is None and "VP004" in found.attempts[0]["text"]
    assert found.event["next_attempt_at"] == clock() + timedelta(hours=1)
    assert simulator.received() == []


def test_a_certificates_events_arrive_in_order_and_others_are_not_held_up(
        session_factory: sessionmaker[Session], journal: tuple[MockJournal, str]) -> None:
    simulator, url = journal
    clock = Clock()
    simulator.set_mode(Mode.TECHNICAL_ERROR)
    first, second = add_certificates(session_factory, ["cert-a"], codes=(EventCode.SKAPAT, EventCode.KFSIGN))
    [other] = add_certificates(session_factory, ["cert-b"], unit=PARENT)
    simulator.set_mode(Mode.OK, address=PARENT)
    dispatcher, sender = make_dispatcher(session_factory, catalogue_for(url), clock)
    try:
        clock.advance(timedelta(seconds=5))
        assert dispatcher.run_batch() == 2  # cert-a's SKAPAT (fails) and cert-b's SKAPAT (delivered)
        assert report(session_factory, other).event["status"] == OutboxStatus.DELIVERED
        clock.advance(timedelta(seconds=30))
        assert dispatcher.run_batch() == 0  # cert-a's retry is not due, and KFSIGN waits behind it
        simulator.set_mode(Mode.OK)
        clock.advance(timedelta(minutes=1))
        assert dispatcher.run_batch() == 1
        assert dispatcher.run_batch() == 1
    finally:
        sender.close()
    codes = [(r.certificate_id, r.event_code, r.mode) for r in simulator.received()]
    assert codes == [("cert-a", "SKAPAT", "technical-error"), ("cert-b", "SKAPAT", "ok"),
                     ("cert-a", "SKAPAT", "ok"), ("cert-a", "KFSIGN", "ok")]
    assert report(session_factory, second).event["status"] == OutboxStatus.DELIVERED
    assert report(session_factory, first).event["attempts"] == 2


def test_a_journal_that_never_answers_frees_the_worker_within_the_read_timeout(
        session_factory: sessionmaker[Session], journal: tuple[MockJournal, str]) -> None:
    simulator, url = journal
    simulator.set_mode(Mode.SLOW)  # answers after 600 s
    [event_id] = add_certificates(session_factory, ["cert-slow"])
    dispatcher, sender = make_dispatcher(session_factory, catalogue_for(url), Clock(), read_s=1.0)
    try:
        started = time.monotonic()
        assert dispatcher.run_batch() == 1
        elapsed = time.monotonic() - started
    finally:
        sender.close()
    assert elapsed < 10, f"the worker was stuck {elapsed:.1f} s"
    assert report(session_factory, event_id).event["last_outcome"] == "timeout"


def test_a_route_read_timeout_is_cut_to_fit_in_the_lease() -> None:
    """A route asking for a 10-minute read timeout gets a whole-call deadline that fits in the lease; its
    connect timeout is kept; a route without its own timeouts gets connect + read as its deadline."""
    delivery = Delivery(HttpSender(None, Clock()), catalogue_for("http://127.0.0.1:1/"),
                                    load_default_registry(), Timeouts(2.0, 5.0), Clock())

    route = Route(STATUS_UPDATE_V3, UNIT, "http://127.0.0.1:1/", connect_timeout_s=1.5, read_timeout_s=600.0)
    assert delivery.timeouts_for(route, 30 - 5) == Timeouts(1.5, 25.0, 25.0)
    assert delivery.timeouts_for(route, 30 - 5).deadline_s == 25.0
    plain = Route(STATUS_UPDATE_V3, UNIT, "http://127.0.0.1:1/")
    assert delivery.timeouts_for(plain, 30 - 5) == Timeouts(2.0, 5.0, 7.0)
    with pytest.raises(ValueError, match="below the claim lease"):
        DispatchConfig(SCHEDULES, Timeouts(5.0, 20.0), lease=timedelta(seconds=30)).check()


def test_units_that_are_not_integrated_get_nothing(session_factory: sessionmaker[Session],
                                                   journal: tuple[MockJournal, str]) -> None:
    simulator, url = journal
    [event_id] = add_certificates(session_factory, ["cert-standalone"], unit="SE2321000016-2000", integrated=False)
    dispatcher, sender = make_dispatcher(session_factory, catalogue_for(url, address="*"), Clock())
    try:
        assert dispatcher.run_batch() == 1
    finally:
        sender.close()
    found = report(session_factory, event_id)
    assert found.event["status"] == OutboxStatus.FAILED
    assert [(a["outcome"], a["decision"], a["url"]) for a in found.attempts] == [("not-integrated", "failed", None)]
    assert found.event["last_outcome"] == "not-integrated" and "not integrated" in found.event["last_error"]
    assert simulator.received() == []


def test_a_deleted_draft_is_reported_from_its_snapshot(session_factory: sessionmaker[Session],
                                                       journal: tuple[MockJournal, str]) -> None:
    simulator, url = journal
    clock = Clock()
    add_certificates(session_factory, ["cert-deleted"])
    with transaction(session_factory) as session:
        certificate = get_certificate(session, "cert-deleted")
        assert certificate is not None
        delete_certificate(session, "cert-deleted")
        radera = enqueue(session, status_event("cert-deleted", EventCode.RADERA, T0 + timedelta(seconds=3),
                                               certificate.unit, {"certificate": to_snapshot(certificate)}))
    clock.advance(timedelta(seconds=5))
    dispatcher, sender = make_dispatcher(session_factory, catalogue_for(url), clock)
    try:
        # SKAPAT can no longer be built (its certificate is gone); RADERA comes from the snapshot
        assert dispatcher.run_batch() == 1
        assert dispatcher.run_batch() == 1
    finally:
        sender.close()
    assert report(session_factory, radera).event["status"] == OutboxStatus.DELIVERED
    assert [(r.event_code, r.valid) for r in simulator.received()] == [("RADERA", True)]


def test_a_slow_journal_holds_no_more_than_its_share_and_the_others_go_on(
        session_factory: sessionmaker[Session]) -> None:
    """The dispatcher's threads running: one journal answers after 3 s, another at once. With two
    calls in flight per journal, the slow one gets two calls and no more while every event of the
    fast one is delivered."""
    slow, fast = MockJournal(delay_s=3.0), MockJournal()
    with running(slow) as slow_url, running(fast) as fast_url:
        routes = [Route(STATUS_UPDATE_V3, "SE2321000016-S001", slow_url),
                  Route(STATUS_UPDATE_V3, "SE2321000016-F001", fast_url)]
        catalogue = StaticProvider(Catalogue(routes=routes, parents={}))
        add_certificates(session_factory, [f"slow-{n}" for n in range(6)], unit="SE2321000016-S001")
        quick = add_certificates(session_factory, [f"fast-{n}" for n in range(12)], unit="SE2321000016-F001")
        dispatcher, sender = make_dispatcher(session_factory, catalogue, Clock(T0 + timedelta(seconds=1)),
                                             read_s=10.0, threads=4, journal_concurrency=2, poll_seconds=0.05)
        dispatcher.start()
        try:
            deadline = time.monotonic() + 2.5
            while time.monotonic() < deadline and any(
                    report(session_factory, e).event["status"] != OutboxStatus.DELIVERED for e in quick):
                time.sleep(0.05)
            assert all(report(session_factory, e).event["status"] == OutboxStatus.DELIVERED for e in quick)
            assert len(slow.received()) == 2  # its two slots, each held for 3 s
        finally:
            dispatcher.stop()
            sender.close()
    assert len(fast.received()) == 12


def test_the_two_claimers_never_claim_more_than_the_senders_take(
        session_factory: sessionmaker[Session], journal: tuple[MockJournal, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The dispatcher's threads running on a backlog of one journal: every event is claimed once and
    sent, none claimed, read and marked only to be given back unsent because the other claimer had
    already filled the room (before the claimers reserved their room, one claimed event in seven was)."""
    simulator, url = journal
    given_back: list[int] = []

    def counting_release(session: Session, claims: list[ClaimedEvent]) -> list[int]:
        given_back.extend(released := release(session, claims))
        return released

    monkeypatch.setattr(dispatcher_module, "release", counting_release)
    events = add_certificates(session_factory, [f"backlog-{n}" for n in range(120)])
    dispatcher, sender = make_dispatcher(session_factory, catalogue_for(url), Clock(T0 + timedelta(seconds=1)),
                                         threads=4, journal_concurrency=4, batch_size=8, poll_seconds=0.05)
    unsent: list[object] = []
    original = dispatcher._writer.release

    def counting_writer_release(claims: list[ClaimedEvent]) -> None:
        unsent.extend(claims)
        original(claims)

    monkeypatch.setattr(dispatcher._writer, "release", counting_writer_release)
    dispatcher.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(simulator.received()) < len(events):
            time.sleep(0.05)
    finally:
        dispatcher.stop()
        sender.close()
    assert len(simulator.received()) == len(events)
    assert all(report(session_factory, e).event["status"] == OutboxStatus.DELIVERED for e in events)
    assert (given_back, unsent) == ([], [])
