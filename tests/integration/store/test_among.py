"""``store.base.among``: a list of ids bound as one parameter, on both databases (through the history reads)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from domain.certificate_list import HistoryEvent
from domain.values import EventCode
from store import certificate_events
from store.session import transaction

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
# Ids as a JSON array or a text[] literal would have to escape them: quotes, a backslash, a comma, braces,
# the word NULL, blanks at the ends, an escaped quote's own backslash and a trailing one.
IDS = ["plain-1", "o'brien", 'quote"d', "back\\slash", "com,ma", "{braced}", "åäö-ünïcode",
       "NULL", " spaced ", 'back\\"quote', "end\\"]


def _record(session: Session, ids: list[str]) -> None:
    certificate_events.record_all(session, [
        HistoryEvent(certificate_id, code, T0 + timedelta(minutes=n))
        for certificate_id in ids for n, code in enumerate((EventCode.SKAPAT, EventCode.SIGNAT))
    ])


def test_exactly_the_ids_asked_for_are_read_whatever_their_characters(session_factory: sessionmaker[Session]) -> None:
    with transaction(session_factory) as session:
        _record(session, [*IDS, "not-asked"])
    with transaction(session_factory) as session:
        read = certificate_events.events_of(session, IDS[1:])
        stamps = certificate_events.history_stamps(session, [IDS[0], "unknown"])
        nothing = certificate_events.events_of(session, [])
    assert sorted(read) == sorted(IDS[1:])
    assert all([e.code for e in history.events] == [EventCode.SKAPAT, EventCode.SIGNAT] for history in read.values())
    assert list(stamps) == [IDS[0]] and stamps[IDS[0]][0] == 2
    assert nothing == {}


def test_a_long_list_is_one_parameter(session_factory: sessionmaker[Session]) -> None:
    """Two thousand ids (more than SQLite allows as separate parameters in older builds) in one read."""
    ids = [f"many-{n:05d}" for n in range(2000)]
    with transaction(session_factory) as session:
        _record(session, ids[::100])
    with transaction(session_factory) as session:
        read = certificate_events.history_stamps(session, ids)
        again = certificate_events.history_stamps(session, ids[:3])  # another length, the same statement
    assert sorted(read) == ids[::100] and list(again) == ["many-00000"]
