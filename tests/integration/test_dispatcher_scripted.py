"""The dispatcher with a scripted sender: claim, prepare, send and record, with no network at all.

The database is real (SQLite and PostgreSQL); only the HTTP exchange is scripted
(``tests.scripted_sender``), so these tests pin the dispatcher's own decisions: what goes out, in
which order, what is recorded, what is released when the lease would run out.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from domain.values import EventCode
from store.outbox import EventReport, OutboxStatus, event_report
from store.session import transaction
from tests.integration.outbox_env import PARENT, UNIT, Clock, add_certificates, catalogue_for, make_dispatcher
from tests.scripted_sender import DOWN, OK, TECHNICAL_ERROR, VALIDATION_ERROR, VP004, ScriptedSender, SentCall

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


def test_what_would_outlast_the_lease_is_released_unsent(session_factory: sessionmaker[Session]) -> None:
    """A journal that takes most of the lease: the batch's remaining events go back unsent, no attempt."""
    clock = Clock()
    ids = add_certificates(session_factory, [f"cert-{n}" for n in range(3)])

    def slow(_call: SentCall) -> None:
        clock.advance(timedelta(seconds=50))  # a 60 s lease less 5 s margin and 1 + 5 s timeouts: send by 49 s

    sender = ScriptedSender(clock, on_send=slow)
    dispatcher, _ = make_dispatcher(session_factory, catalogue_for(URL), clock, sender=sender)
    assert dispatcher.run_batch() == 3
    events = [report(session_factory, event_id) for event_id in ids]
    assert [e.event["status"] for e in events] == [OutboxStatus.DELIVERED, OutboxStatus.PENDING, OutboxStatus.PENDING]
    assert [len(e.attempts) for e in events] == [1, 0, 0]
    assert [e.event["claimed_by"] for e in events[1:]] == [None, None]  # due again at once
    assert dispatcher.run_batch() == 2  # one more goes out, the last is released again
    assert dispatcher.run_batch() == 1
    assert [c.certificate_id for c in sender.sent] == ["cert-0", "cert-1", "cert-2"]


def test_an_unsendable_event_fails_alone(session_factory: sessionmaker[Session]) -> None:
    """A unit that is not integrated fails its own event at once; the batch's other event is sent."""
    clock = Clock()
    [lonely] = add_certificates(session_factory, ["cert-lonely"], unit="SE2321000016-B001", integrated=False)
    [good] = add_certificates(session_factory, ["cert-good"])
    sender = ScriptedSender(clock)
    dispatcher, _ = make_dispatcher(session_factory, catalogue_for(URL, address="*"), clock, sender=sender)
    assert dispatcher.run_batch() == 2
    assert report(session_factory, lonely).event["status"] == OutboxStatus.FAILED
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
