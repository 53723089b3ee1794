"""The dispatcher with a scripted sender: claim, prepare, send and record, with no network at all.

The database is real (SQLite and PostgreSQL); only the HTTP exchange is scripted
(``tests.scripted_sender``), so these tests pin the dispatcher's own decisions: what goes out, in
which order, what is recorded and when (each call marked ``sending`` before it, its outcome right
after it), how one bad event stays alone, and the event's own correlation id on every attempt.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
import structlog
from sqlalchemy.orm import Session, sessionmaker

from domain.certificates import Answer, AnswerPart
from domain.values import EventCode
from routing.provider import RefreshingProvider
from store.outbox import (
    EventReport,
    OutboxStatus,
    SendingMark,
    claim_due,
    event_report,
    mark_sending,
    outbox_summary,
)
from store.routing import StoreCatalogueSource
from store.session import UnitOfWork, transaction
from tests.integration.outbox_env import (
    PARENT,
    T0,
    UNIT,
    Clock,
    add_certificates,
    catalogue_for,
    make_dispatcher,
    publish_route,
)
from tests.scripted_sender import (
    DOWN,
    OK,
    TECHNICAL_ERROR,
    VALIDATION_ERROR,
    VP004,
    Crash,
    ScriptedSender,
    SentCall,
)

URL = "https://journal.example/csu"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any connection attempt fails the test: the scripted sender must be the only way out."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a scripted dispatcher test tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    yield


def report(factory: sessionmaker[Session], event_id: int) -> EventReport:
    with transaction(factory) as session:
        found = event_report(session, event_id)
    assert found is not None
    return found


def test_each_scripted_answer_is_classified_and_recorded(session_factory: sessionmaker[Session]) -> None:
    """Four units, four answers: delivered, retried, failed for good, waiting on the address schedule."""
    clock = Clock()
    units = {"SE2321000016-A001": OK, "SE2321000016-A002": TECHNICAL_ERROR,
             "SE2321000016-A003": VALIDATION_ERROR, "SE2321000016-A004": VP004}
    events = {unit: add_certificates(session_factory, [f"cert-{unit}"], unit=unit)[0] for unit in units}
    sender = ScriptedSender(clock, {unit: [answer] for unit, answer in units.items()})
    dispatcher, _ = make_dispatcher(session_factory, catalogue_for(URL, address="*"), clock, sender=sender)
    assert dispatcher.run_batch() == 4
    found = {unit: report(session_factory, event_id).event for unit, event_id in events.items()}
    assert {unit: (e["status"], e["last_outcome"]) for unit, e in found.items()} == {
        "SE2321000016-A001": (OutboxStatus.DELIVERED, "ok"),
        "SE2321000016-A002": (OutboxStatus.PENDING, "technical-error"),
        "SE2321000016-A003": (OutboxStatus.FAILED, "validation-error"),
        "SE2321000016-A004": (OutboxStatus.PENDING, "platform-no-route"),
    }
    assert found["SE2321000016-A004"]["schedule_kind"] == "address"
    assert sorted(call.logical_address for call in sender.sent) == sorted(units)
    assert {call.url for call in sender.sent} == {URL}


def test_a_retrying_certificate_holds_back_only_its_own_later_events(session_factory: sessionmaker[Session]) -> None:
    """cert-a's SKAPAT fails, so its KFSIGN waits; cert-b at another unit goes out meanwhile."""
    clock = Clock()
    first, second = add_certificates(session_factory, ["cert-a"], codes=(EventCode.SKAPAT, EventCode.KFSIGN))
    [other] = add_certificates(session_factory, ["cert-b"], unit=PARENT)
    sender = ScriptedSender(clock, {UNIT: [DOWN, OK]})
    dispatcher, _ = make_dispatcher(session_factory, catalogue_for(URL), clock, sender=sender)
    clock.advance(timedelta(seconds=5))
    assert dispatcher.run_batch() == 2
    assert report(session_factory, other).event["status"] == OutboxStatus.DELIVERED
    assert dispatcher.run_batch() == 0  # the retry is not due; KFSIGN is behind it
    clock.advance(timedelta(minutes=1))
    assert dispatcher.run_batch() == 1
    assert dispatcher.run_batch() == 1
    assert [(c.certificate_id, c.event_code) for c in sender.sent] == [
        ("cert-a", "SKAPAT"), ("cert-b", "SKAPAT"), ("cert-a", "SKAPAT"), ("cert-a", "KFSIGN")]
    assert report(session_factory, first).event["attempts"] == 2
    assert report(session_factory, second).event["status"] == OutboxStatus.DELIVERED


def test_each_call_is_marked_sending_before_it_is_made_and_recorded_after_it(
        session_factory: sessionmaker[Session]) -> None:
    """During each call its event already has a committed ``sending`` attempt (a crash now would show
    as ``unknown``), and the previous call's outcome is already recorded: nothing waits for the batch."""
    clock = Clock()
    ids = add_certificates(session_factory, [f"cert-{n}" for n in range(3)])
    during: list[tuple[str, list[str]]] = []

    def look(call: SentCall) -> None:
        for event_id in ids:
            found = report(session_factory, event_id)
            during.append((call.certificate_id, [a["outcome"] for a in found.attempts]))

    sender = ScriptedSender(clock, on_send=look)
    dispatcher, _ = make_dispatcher(session_factory, catalogue_for(URL), clock, sender=sender)
    assert dispatcher.run_batch() == 3
    assert during == [
        ("cert-0", ["sending"]), ("cert-0", ["sending"]), ("cert-0", ["sending"]),
        ("cert-1", ["ok"]), ("cert-1", ["sending"]), ("cert-1", ["sending"]),
        ("cert-2", ["ok"]), ("cert-2", ["ok"]), ("cert-2", ["sending"]),
    ]


def test_a_slow_call_delays_and_repeats_no_other_event(session_factory: sessionmaker[Session]) -> None:
    """A journal that takes 50 s of a 60 s lease per call: every event is still sent once, on its own
    lease (each call's mark renews it), and each call's deadline ends before its lease does."""
    clock = Clock()
    ids = add_certificates(session_factory, [f"cert-{n}" for n in range(3)])

    def slow(_call: SentCall) -> None:
        clock.advance(timedelta(seconds=50))

    sender = ScriptedSender(clock, on_send=slow)
    dispatcher, _ = make_dispatcher(session_factory, catalogue_for(URL), clock, sender=sender)
    assert dispatcher.run_batch() == 3
    events = [report(session_factory, event_id) for event_id in ids]
    assert [e.event["status"] for e in events] == [OutboxStatus.DELIVERED] * 3
    assert [[a["outcome"] for a in e.attempts] for e in events] == [["ok"]] * 3
    assert [c.certificate_id for c in sender.sent] == ["cert-0", "cert-1", "cert-2"]
    assert all(c.timeouts.deadline_s <= 60 - 5 for c in sender.sent)


def test_a_poison_event_fails_alone_and_the_good_ones_go_on_the_first_round(
        session_factory: sessionmaker[Session]) -> None:
    """Content stored before it was validated (``<unclosed>``) cannot be built into a message: that
    event ends ``unbuildable`` (final, logged at error, counted by outcome), the others of its batch
    and of its unit are delivered in the same round."""
    clock = Clock()
    good = add_certificates(session_factory, ["cert-good-1", "cert-good-2"])
    poison = add_certificates(session_factory, ["cert-poison"],
                              content=(Answer("1", None, (AnswerPart("1.1", "", xml="<unclosed>"),)),))[0]
    others = add_certificates(session_factory, ["cert-other-unit"], unit=PARENT)
    sender = ScriptedSender(clock)
    dispatcher, _ = make_dispatcher(session_factory, catalogue_for(URL), clock, sender=sender)
    with structlog.testing.capture_logs() as logs:
        assert dispatcher.run_batch() == 4
    assert {report(session_factory, e).event["status"] for e in good + others} == {OutboxStatus.DELIVERED}
    found = report(session_factory, poison)
    assert (found.event["status"], found.event["last_outcome"]) == (OutboxStatus.FAILED, "unbuildable")
    assert [(a["outcome"], a["decision"], a["url"]) for a in found.attempts] == [("unbuildable", "failed", None)]
    assert sorted(c.certificate_id for c in sender.sent) == ["cert-good-1", "cert-good-2", "cert-other-unit"]
    assert any(e["event"] == "outbox_event_not_sendable" and e["log_level"] == "error"
               and e["event_id"] == poison and e["outcome"] == "unbuildable" for e in logs)
    with transaction(session_factory) as session:
        summary = outbox_summary(session)
    assert {line.outcome: line.failed for line in summary.outcomes}["unbuildable"] == 1
    assert dispatcher.run_batch() == 0  # final: never claimed again


def test_a_crash_of_our_own_sending_code_is_that_events_outcome(session_factory: sessionmaker[Session]) -> None:
    """A bug that raises while sending one event fails that event (``unbuildable``); the next one goes."""
    clock = Clock()
    [broken] = add_certificates(session_factory, ["cert-broken"], unit="SE2321000016-C001")
    [fine] = add_certificates(session_factory, ["cert-fine"], unit="SE2321000016-C002")
    sender = ScriptedSender(clock, {"SE2321000016-C001": [Crash()]})
    dispatcher, _ = make_dispatcher(session_factory, catalogue_for(URL, address="*"), clock, sender=sender)
    assert dispatcher.run_batch() == 2
    found = report(session_factory, broken)
    assert (found.event["status"], found.event["last_outcome"]) == (OutboxStatus.FAILED, "unbuildable")
    assert [a["outcome"] for a in found.attempts] == ["unbuildable"]
    assert report(session_factory, fine).event["status"] == OutboxStatus.DELIVERED


def test_an_event_claimed_again_and_again_without_an_outcome_gives_up(session_factory: sessionmaker[Session]) -> None:
    """Five claims whose holders died (each left its call ``sending``); the sixth claim fails the event
    with its own class instead of sending it once more."""
    clock = Clock()
    [event_id] = add_certificates(session_factory, ["cert-cursed"])
    lease = timedelta(seconds=60)
    for n in range(5):
        at = T0 + n * (lease + timedelta(seconds=1))
        with transaction(session_factory) as session:
            [held] = claim_due(session, f"dead-{n}", at, lease, 10)
            mark_sending(session, [SendingMark(held, URL, at)])
    clock.advance(5 * (lease + timedelta(seconds=1)))
    sender = ScriptedSender(clock)
    dispatcher, _ = make_dispatcher(session_factory, catalogue_for(URL), clock, sender=sender)
    assert dispatcher.run_batch() == 1
    found = report(session_factory, event_id)
    assert (found.event["status"], found.event["last_outcome"]) == (OutboxStatus.FAILED, "claim-limit")
    assert [a["outcome"] for a in found.attempts] == ["unknown"] * 5 + ["claim-limit"]
    assert sender.sent == []


def test_the_correlation_id_is_the_events_own_on_every_attempt(session_factory: sessionmaker[Session]) -> None:
    """Down, then OK: both calls carry the event's one correlation id, as sent and as recorded."""
    clock = Clock()
    [event_id] = add_certificates(session_factory, ["cert-c"])
    sender = ScriptedSender(clock, {UNIT: [DOWN, OK]})
    dispatcher, _ = make_dispatcher(session_factory, catalogue_for(URL), clock, sender=sender)
    assert dispatcher.run_batch() == 1
    clock.advance(timedelta(minutes=1))
    assert dispatcher.run_batch() == 1
    found = report(session_factory, event_id)
    own = found.event["correlation_id"]
    assert [c.correlation_id for c in sender.sent] == [own, own]
    assert [(a["outcome"], a["correlation_id"]) for a in found.attempts] == [("connect-error", own), ("ok", own)]
    assert found.event["request_correlation_id"] == "cert-c-SKAPAT" != own


def test_an_unsendable_event_fails_alone(session_factory: sessionmaker[Session]) -> None:
    """A unit that is not integrated fails its own event at once; the batch's other event is sent."""
    clock = Clock()
    [lonely] = add_certificates(session_factory, ["cert-lonely"], unit="SE2321000016-B001", integrated=False)
    [good] = add_certificates(session_factory, ["cert-good"])
    sender = ScriptedSender(clock)
    dispatcher, _ = make_dispatcher(session_factory, catalogue_for(URL, address="*"), clock, sender=sender)
    assert dispatcher.run_batch() == 2
    assert report(session_factory, lonely).event["status"] == OutboxStatus.FAILED
    assert [a["outcome"] for a in report(session_factory, lonely).attempts] == ["not-integrated"]
    assert report(session_factory, good).event["status"] == OutboxStatus.DELIVERED
    assert [c.certificate_id for c in sender.sent] == ["cert-good"]


def test_the_route_timeouts_reach_the_sender(session_factory: sessionmaker[Session]) -> None:
    """A route's own timeouts are what the call is made with."""
    clock = Clock()
    add_certificates(session_factory, ["cert-t"])
    sender = ScriptedSender(clock)
    catalogue = catalogue_for(URL, connect_timeout_s=0.5, read_timeout_s=2.0)
    dispatcher, _ = make_dispatcher(session_factory, catalogue, clock, sender=sender)
    assert dispatcher.run_batch() == 1
    [call] = sender.sent
    assert (call.timeouts.connect_s, call.timeouts.read_s) == (0.5, 2.0)


def test_a_catalogue_loaded_from_the_database_is_not_read_inside_the_claim(
    session_factory: sessionmaker[Session],
) -> None:
    """The first claim of a worker whose routing snapshot is not loaded yet: the snapshot is read from the
    database before the claim's transaction, so on SQLite it does not wait for that transaction's own
    write lock (it did, for the whole busy timeout, stalling every writer)."""
    clock = Clock()
    publish_route(session_factory, URL)
    [event_id] = add_certificates(session_factory, ["cert-first-load"])
    sender = ScriptedSender(clock)
    provider = RefreshingProvider(StoreCatalogueSource(UnitOfWork(session_factory)), clock, check_seconds=0.0)
    dispatcher, _ = make_dispatcher(session_factory, provider, clock, sender=sender)
    started = time.monotonic()
    assert dispatcher.run_batch() == 1
    assert time.monotonic() - started < 5  # the SQLite busy timeout is 10 s
    assert report(session_factory, event_id).event["status"] == OutboxStatus.DELIVERED
