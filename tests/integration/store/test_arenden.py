"""store.arenden on SQLite and PostgreSQL: round trips, the two unique rules, answering and closing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from domain.arenden import Amne, ArendeStatus, Direction, MessageReference
from domain.values import HsaId
from store import arenden
from store.errors import Conflict
from store.session import transaction
from tests.builders import make_arende

AT = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CID = "a3b5c6d7-0000-4000-8000-000000000001"


def _add(factory: sessionmaker[Session], *entries: object) -> None:
    with transaction(factory) as session:
        for arende in entries:
            arenden.add_arende(session, arende)  # type: ignore[arg-type]


def test_every_field_survives_a_round_trip(session_factory: sessionmaker[Session]) -> None:
    """A question with kompletteringar, contact info and deadline, and an answer with svarPa, read back equal."""
    question = make_arende()
    answer = make_arende(
        message_id="care-a-1",
        direction=Direction.FROM_CARE,
        status=ArendeStatus.ANSWERED,
        answer_to=MessageReference("fk-q-1", "fk-ref-1"),
        kompletteringar=(),
        deadline=None,
        author=HsaId("SE2321000016-P001"),
        handled_at=AT,
        handled_by=HsaId("SE2321000016-P001"),
        answered_at=AT,
        content_hash=None,
    )
    _add(session_factory, question, answer)
    with transaction(session_factory) as session:
        assert arenden.arenden_for_certificate(session, CID) == [question, answer]
        assert arenden.get_arende(session, "care-a-1") == answer
        assert arenden.get_arende(session, "nope") is None
        assert arenden.arenden_for_certificate(session, "other") == []


def test_a_meddelande_id_is_stored_once(session_factory: sessionmaker[Session]) -> None:
    """A second message with the same id is a Conflict and leaves the first as it was."""
    _add(session_factory, make_arende())
    with pytest.raises(Conflict):
        _add(session_factory, make_arende(text="Annan text", kompletteringar=()))
    with transaction(session_factory) as session:
        assert [a.text for a in arenden.arenden_for_certificate(session, CID)] == [make_arende().text]


def test_a_question_has_at_most_one_answer(session_factory: sessionmaker[Session]) -> None:
    """Two answers naming the same question clash on uq_arende_answer_to; questions (NULL) never do."""
    answer = make_arende(message_id="a1", answer_to=MessageReference("fk-q-1"), kompletteringar=())
    _add(session_factory, make_arende(), make_arende(message_id="fk-q-2"), answer)
    with pytest.raises(Conflict):
        _add(session_factory, replace(answer, message_id="a2"))


def test_mark_answered_opens_nothing_that_was_handled(session_factory: sessionmaker[Session]) -> None:
    """An open question becomes ANSWERED; a handled one stays HANDLED; both record the time."""
    _add(session_factory, make_arende(), make_arende(message_id="h", status=ArendeStatus.HANDLED))
    with transaction(session_factory) as session:
        arenden.mark_answered(session, ["fk-q-1"], AT)
        arenden.mark_answered(session, ["h"], AT)
    with transaction(session_factory) as session:
        stored = {a.message_id: a for a in arenden.arenden_for_certificate(session, CID)}
    assert (stored["fk-q-1"].status, stored["fk-q-1"].answered_at) == (ArendeStatus.ANSWERED, AT)
    assert (stored["h"].status, stored["h"].answered_at) == (ArendeStatus.HANDLED, AT)


def test_mark_handled_changes_once(session_factory: sessionmaker[Session]) -> None:
    """The first call handles the question and says so; the second changes nothing."""
    _add(session_factory, make_arende())
    with transaction(session_factory) as session:
        assert arenden.mark_handled(session, "fk-q-1", "SE2321000016-P001", AT) is True
        assert arenden.mark_handled(session, "fk-q-1", "SE2321000016-P002", AT) is False
        stored = arenden.get_arende(session, "fk-q-1")
    assert stored is not None
    assert (stored.status, stored.handled_by, stored.handled_at) == (
        ArendeStatus.HANDLED,
        HsaId("SE2321000016-P001"),
        AT,
    )


def test_close_open_questions_closes_questions_only(session_factory: sessionmaker[Session]) -> None:
    """Revoking closes open and answered questions of that certificate; answers, reminders, others stay."""
    _add(
        session_factory,
        make_arende(),
        make_arende(message_id="answered", status=ArendeStatus.ANSWERED),
        make_arende(message_id="done", status=ArendeStatus.HANDLED, handled_at=AT, handled_by=HsaId("X-1")),
        make_arende(message_id="r", amne=Amne.PAMINN, reminder_of="fk-q-1", kompletteringar=()),
        make_arende(message_id="a", answer_to=MessageReference("answered"), kompletteringar=()),
        make_arende(message_id="elsewhere", certificate_id="other"),
    )
    later = AT.replace(hour=13)
    with transaction(session_factory) as session:
        assert arenden.close_open_questions(session, CID, "SE2321000016-P001", later) == {"fk-q-1", "answered"}
        assert arenden.close_open_questions(session, CID, "SE2321000016-P001", later) == set()
        stored = {a.message_id: a for a in arenden.arenden_for_certificate(session, CID)}
        other = arenden.get_arende(session, "elsewhere")
    assert {m: a.status for m, a in stored.items()} == {
        "fk-q-1": ArendeStatus.HANDLED,
        "answered": ArendeStatus.HANDLED,
        "done": ArendeStatus.HANDLED,
        "r": ArendeStatus.OPEN,
        "a": ArendeStatus.OPEN,
    }
    assert stored["done"].handled_at == AT and stored["fk-q-1"].handled_at == later
    assert other is not None and other.status is ArendeStatus.OPEN


def test_conversations_read_entries_by_certificate_and_by_message_id(session_factory: sessionmaker[Session]) -> None:
    """Each certificate's messages in order (empty when none), and any stored message under the given ids."""
    question = make_arende(message_id="fk-q-1", content_hash="h1")
    answer = make_arende(
        message_id="care-a-1", direction=Direction.FROM_CARE, answer_to=MessageReference("fk-q-1", "r"),
        kompletteringar=(),
    )
    elsewhere = make_arende(message_id="fk-q-9", certificate_id="another-certificate", content_hash="h9")
    _add(session_factory, question, answer, elsewhere)
    with transaction(session_factory) as session:
        stored, by_certificate = arenden.conversations(session, {CID, "no-messages"}, {"fk-q-9", "fk-new"})
    assert [e.message_id for e in by_certificate[CID]] == ["fk-q-1", "care-a-1"]
    assert by_certificate["no-messages"] == []
    assert set(stored) == {"fk-q-9"} and stored["fk-q-9"].content_hash == "h9"
    entry = by_certificate[CID][1]
    assert (entry.direction, entry.status, entry.answer_to, entry.is_answer) == (
        Direction.FROM_CARE, ArendeStatus.OPEN, MessageReference("fk-q-1", "r"), True,
    )
    assert "fk-q-9" not in {e.message_id for e in by_certificate[CID]}
