"""A group of received messages' writes (``store.message_groups``): on PostgreSQL one statement whose rows
travel as JSON, which must leave exactly the rows the statements of ``arenden`` and ``outbox`` leave.

As for new drafts (``test_draft_groups``), the oracle is the statement per table on the same database
for the same messages under other ids, every column compared except what each insert makes anew.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from domain.arenden import Amne, Arende, ArendeStatus, Direction, MessageReference
from domain.events import OutboxEvent, event_about
from domain.values import EventCode
from store import arenden, certificates, message_groups
from store.arenden import ArendeRow
from store.errors import Conflict
from store.outbox import queue
from store.session import transaction
from tests.builders import make_arende, make_signed_certificate

AT = datetime(2026, 11, 23, 9, 30, 0, 654321, tzinfo=UTC)
MADE_ANEW = {"id", "correlation_id", "created_at"}


def _certificate_id(prefix: str) -> str:
    return f"{prefix}cert"


def _stored(session_factory: sessionmaker[Session], prefix: str) -> None:
    """The certificate and care's two open questions the group's answers answer."""
    certificate = replace(make_signed_certificate(), id=_certificate_id(prefix))
    with transaction(session_factory) as session:
        certificates.add_certificate(session, certificate)
        arenden.add_arenden(session, [
            make_arende(certificate, message_id=f"{prefix}care-q-{n}", direction=Direction.FROM_CARE,
                        sender_part="VARDEN", status=ArendeStatus.HANDLED if n == 1 else ArendeStatus.OPEN)
            for n in range(2)
        ])


def _group(prefix: str) -> tuple[list[Arende], list[str], list[OutboxEvent]]:
    """A question with characters JSON escapes, a reminder, and FK's answers to care's two questions."""
    certificate = replace(make_signed_certificate(), id=_certificate_id(prefix))
    question = make_arende(certificate, message_id=f"{prefix}fk-q", text='Svara "snart" \\ åäö <&>',
                           received_at=AT)
    reminder = make_arende(certificate, message_id=f"{prefix}fk-p", amne=Amne.PAMINN,
                           reminder_of=f"{prefix}fk-q", received_at=AT + timedelta(milliseconds=1))
    answers = [make_arende(certificate, message_id=f"{prefix}fk-a-{n}", status=ArendeStatus.ANSWERED,
                           answer_to=MessageReference(f"{prefix}care-q-{n}", None), kompletteringar=(),
                           deadline=None, received_at=AT + timedelta(milliseconds=2 + n)) for n in range(2)]
    events = [event_about(certificate.header, code, AT, f"{prefix}corr")
              for code in (EventCode.NYFRFM, EventCode.NYFRFM, EventCode.NYSVFM, EventCode.NYSVFM)]
    return [question, reminder, *answers], [f"{prefix}care-q-{n}" for n in range(2)], events


def _rows(session: Session, table: str, prefix: str) -> list[dict[str, Any]]:
    found = session.execute(text(f"SELECT * FROM {table} WHERE certificate_id = :id ORDER BY 1"),
                            {"id": _certificate_id(prefix)}).mappings().all()
    return [{name: value.replace(prefix, "") if isinstance(value, str) else value
             for name, value in row.items() if name not in MADE_ANEW} for row in found]


def test_the_rows_are_those_the_statements_per_table_leave(session_factory: sessionmaker[Session]) -> None:
    for prefix in ("x1-", "x2-"):
        _stored(session_factory, prefix)
    with transaction(session_factory) as session:
        message_groups.add_messages(session, *_group("x1-")[:2], AT, _group("x1-")[2])
    with transaction(session_factory) as session:
        new, answered, events = _group("x2-")
        arenden.add_arenden(session, new)
        arenden.mark_answered(session, answered, AT)
        queue.enqueue_per_table(session, events)
    with transaction(session_factory) as session:
        for table in ("arende", "outbox_event", "certificate_event"):
            assert _rows(session, table, "x1-") == _rows(session, table, "x2-"), table
        statuses = session.execute(select(ArendeRow.message_id, ArendeRow.status, ArendeRow.answered_at).where(
            ArendeRow.message_id.like("x1-care-q-%")).order_by(ArendeRow.message_id)).all()
        # The open question is answered; the one care had closed stays closed, with the time of the answer.
        assert [(row[0], row[1]) for row in statuses] == [("x1-care-q-0", ArendeStatus.ANSWERED),
                                                          ("x1-care-q-1", ArendeStatus.HANDLED)]
        assert {row[2] for row in statuses} == {AT}


def test_a_question_answered_in_its_own_group_is_marked_after_it_is_stored(
    session_factory: sessionmaker[Session],
) -> None:
    """The clauses of one statement do not see each other's rows: such a group takes the statements per
    table, and the question ends answered."""
    certificate = replace(make_signed_certificate(), id=_certificate_id("x4-"))
    with transaction(session_factory) as session:
        certificates.add_certificate(session, certificate)
    question = make_arende(certificate, message_id="s-q", direction=Direction.FROM_CARE, sender_part="VARDEN")
    answer = make_arende(certificate, message_id="s-a", status=ArendeStatus.ANSWERED,
                         answer_to=MessageReference("s-q", None), kompletteringar=(), deadline=None)
    with transaction(session_factory) as session:
        message_groups.add_messages(session, [question, answer], ["s-q"], AT, [])
    with transaction(session_factory) as session:
        assert session.execute(text("SELECT status FROM arende WHERE message_id = 's-q'")).scalar() == "ANSWERED"


def test_a_taken_meddelande_id_refuses_the_whole_group(session_factory: sessionmaker[Session]) -> None:
    _stored(session_factory, "x3-")
    new, answered, events = _group("x3-")
    with transaction(session_factory) as session:
        message_groups.add_messages(session, new[:1], [], AT, events[:1])
    with pytest.raises(Conflict), transaction(session_factory) as session:
        message_groups.add_messages(session, new, answered, AT, events)
    with transaction(session_factory) as session:
        assert session.execute(text("SELECT count(*) FROM outbox_event")).scalar() == 1
        assert session.execute(text(
            "SELECT count(*) FROM arende WHERE status = 'ANSWERED' AND message_id LIKE 'x3-care-%'")).scalar() == 0
