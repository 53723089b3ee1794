"""Stored ärenden: questions, reminders and answers about certificates, and their kompletteringar.

One ``arende`` row per message in either direction, one ``komplettering`` row per completion request
of a KOMPLT question (in the order sent). Two unique constraints carry the contract's idempotency
rules, so that they hold even when two deliveries race on PostgreSQL, where both may pass the use
case's checks before either commits:

* ``message_id`` (meddelande-id): a message is stored once; the loser's insert is a ``Conflict``;
* ``answer_to`` (svarPa/meddelande-id): a question has at most one answer (NULLs, the questions and
  reminders, are distinct on both databases).

No foreign key ties ``certificate_id`` to the certificate table, as in the outbox: ärenden arrive
only for signed certificates, which are never deleted, and the store stays free of the lifecycle's
table layout. ``kontaktInfo`` is a JSON list, as it is only ever read with its message.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    ColumnElement,
    ForeignKey,
    Select,
    Table,
    Text,
    bindparam,
    case,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from domain.messages import (
    Amne,
    Arende,
    ArendeStatus,
    Direction,
    Komplettering,
    MessageReference,
)
from domain.values import HsaId, PersonId, PersonIdKind
from store.base import Base, BigId
from store.session import translate_errors


class ArendeRow(Base):
    __tablename__ = "arende"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[str] = mapped_column(unique=True)
    certificate_id: Mapped[str] = mapped_column(index=True)
    direction: Mapped[Direction]
    status: Mapped[ArendeStatus]
    amne: Mapped[Amne]
    heading: Mapped[str | None]
    text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime]
    received_at: Mapped[datetime]
    sender_part: Mapped[str]
    contact_info: Mapped[list[str]] = mapped_column(JSON)
    patient_id_kind: Mapped[PersonIdKind]
    patient_id: Mapped[str]
    recipient: Mapped[str]
    reference_id: Mapped[str | None]
    reminder_of: Mapped[str | None]
    answer_to: Mapped[str | None] = mapped_column(unique=True)
    answer_to_reference: Mapped[str | None]
    deadline: Mapped[date | None]
    answered_at: Mapped[datetime | None]
    handled_at: Mapped[datetime | None]
    handled_by: Mapped[str | None]
    author: Mapped[str | None]
    content_hash: Mapped[str | None]


class KompletteringRow(Base):
    __tablename__ = "komplettering"

    arende_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("arende.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[str]
    instance: Mapped[int | None]
    text: Mapped[str] = mapped_column(Text)


# The tables themselves, for the Core query in ``_select``.
_ARENDE = cast(Table, ArendeRow.__table__)
_KOMPLETTERING = cast(Table, KompletteringRow.__table__)
# Built once: the statement and its cache key are the same for every message.
_INSERT_ARENDE = insert(_ARENDE).returning(_ARENDE.c.id)


def add_arende(session: Session, arende: Arende) -> None:
    """Store a message and its kompletteringar in the caller's transaction.

    Raises:
        Conflict: the meddelande-id is already stored, or ``answer_to`` already has an answer.
    """
    row: dict[str, Any] = {
        "message_id": arende.message_id,
        "certificate_id": arende.certificate_id,
        "direction": arende.direction,
        "status": arende.status,
        "amne": arende.amne,
        "heading": arende.heading,
        "text": arende.text,
        "sent_at": arende.sent_at,
        "received_at": arende.received_at,
        "sender_part": arende.sender_part,
        "contact_info": list(arende.contact_info),
        "patient_id_kind": arende.patient.kind,
        "patient_id": arende.patient.digits,
        "recipient": arende.recipient,
        "reference_id": arende.reference_id,
        "reminder_of": arende.reminder_of,
        "answer_to": arende.answer_to.message_id if arende.answer_to else None,
        "answer_to_reference": arende.answer_to.reference_id
        if arende.answer_to
        else None,
        "deadline": arende.deadline,
        "answered_at": arende.answered_at,
        "handled_at": arende.handled_at,
        "handled_by": arende.handled_by.value if arende.handled_by else None,
        "author": arende.author.value if arende.author else None,
        "content_hash": arende.content_hash,
    }
    with translate_errors():
        # Bulk-style INSERTs, as for drafts: no unit-of-work bookkeeping for rows not read back here.
        arende_id = session.execute(_INSERT_ARENDE, row).scalar_one()
        if arende.kompletteringar:
            session.execute(
                insert(_KOMPLETTERING),
                [
                    {
                        "arende_id": arende_id,
                        "position": position,
                        "question_id": k.question_id,
                        "instance": k.instance,
                        "text": k.text,
                    }
                    for position, k in enumerate(arende.kompletteringar)
                ],
            )


def get_arende(session: Session, message_id: str) -> Arende | None:
    """The message stored under this meddelande-id, in any certificate, or None."""
    found = _select(session, _messages_where(ArendeRow.message_id == message_id))
    return found[0] if found else None


def arenden_for_certificate(session: Session, certificate_id: str) -> list[Arende]:
    """Every message about one certificate, in the order they were stored."""
    return _select(session, _messages_where(ArendeRow.certificate_id == certificate_id))


def conversation(
    session: Session, certificate_id: str, message_id: str
) -> tuple[Arende | None, list[Arende]]:
    """The message stored under ``message_id`` (in any certificate, or None) and every message about
    ``certificate_id``, read in one query: what receiving a message checks against."""
    found = _select(
        session, _CONVERSATION, {"certificate_id": certificate_id, "message_id": message_id}
    )
    stored = next((arende for arende in found if arende.message_id == message_id), None)
    return stored, [
        arende for arende in found if arende.certificate_id == certificate_id
    ]


def mark_answered(session: Session, question_id: str, at: datetime) -> None:
    """Note that the question ``question_id`` got its answer at ``at``.

    An open question becomes ANSWERED; a question already handled stays HANDLED (care closed it,
    the answer does not reopen it) but still records when it was answered.
    """
    session.execute(
        update(ArendeRow)
        .where(ArendeRow.message_id == question_id)
        .values(
            answered_at=at,
            status=case(
                (ArendeRow.status == ArendeStatus.OPEN, ArendeStatus.ANSWERED),
                else_=ArendeRow.status,
            ),
        )
    )


def mark_handled(
    session: Session, message_id: str, handled_by: str | None, at: datetime
) -> bool:
    """Mark one message handled unless it already is; True when this call changed it."""
    result = session.execute(
        update(ArendeRow)
        .where(
            ArendeRow.message_id == message_id, ArendeRow.status != ArendeStatus.HANDLED
        )
        .values(status=ArendeStatus.HANDLED, handled_at=at, handled_by=handled_by)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def close_open_questions(
    session: Session, certificate_id: str, handled_by: str | None, at: datetime
) -> int:
    """Mark every question of the certificate that is not handled yet as handled; return how many.

    Called when a certificate is revoked: its conversation is over. Answers and reminders are left
    as they are (they are not counted as questions). ``handled_by`` is the acting user's HSA-id, or
    None when the gateway closes them itself. A single conditional UPDATE, so it is idempotent.
    """
    result = session.execute(
        update(ArendeRow)
        .where(
            ArendeRow.certificate_id == certificate_id,
            ArendeRow.status != ArendeStatus.HANDLED,
            ArendeRow.answer_to.is_(None),
            ArendeRow.amne != Amne.PAMINN,
        )
        .values(status=ArendeStatus.HANDLED, handled_at=at, handled_by=handled_by)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _messages_where(condition: ColumnElement[bool]) -> Select[Any]:
    """The messages matching ``condition`` with their kompletteringar, in storage order, as one query.

    A LEFT JOIN rather than a second query for the kompletteringar: receiving a message reads its
    certificate's messages every time, and one round trip fewer is most of what a read costs.
    """
    k = _KOMPLETTERING.c
    return (
        select(_ARENDE, k.question_id, k.instance, k.text.label("k_text"))
        .outerjoin(_KOMPLETTERING, k.arende_id == _ARENDE.c.id)
        .where(condition)
        .order_by(_ARENDE.c.id, k.position)
    )


# What receiving a message reads, built once (bound parameters): the hot path skips rebuilding it.
_CONVERSATION = _messages_where(
    or_(
        _ARENDE.c.certificate_id == bindparam("certificate_id"),
        _ARENDE.c.message_id == bindparam("message_id"),
    )
)


def _select(
    session: Session, statement: Select[Any], params: dict[str, Any] | None = None
) -> list[Arende]:
    """Run a ``_messages_where`` query and group its rows into ärenden with their kompletteringar."""
    rows = session.execute(statement, params or {}).all()
    found: dict[int, tuple[Any, list[Komplettering]]] = {}
    for row in rows:
        _, kompletteringar = found.setdefault(row.id, (row, []))
        if row.question_id is not None:
            kompletteringar.append(
                Komplettering(row.question_id, row.instance, row.k_text)
            )
    return [
        _to_arende(row, tuple(kompletteringar))
        for row, kompletteringar in found.values()
    ]


def _to_arende(row: Any, kompletteringar: tuple[Komplettering, ...]) -> Arende:
    return Arende(
        message_id=row.message_id,
        certificate_id=row.certificate_id,
        direction=row.direction,
        status=row.status,
        amne=row.amne,
        text=row.text,
        sent_at=row.sent_at,
        received_at=row.received_at,
        sender_part=row.sender_part,
        patient=PersonId(row.patient_id_kind, row.patient_id),
        recipient=row.recipient,
        reference_id=row.reference_id,
        heading=row.heading,
        reminder_of=row.reminder_of,
        answer_to=MessageReference(row.answer_to, row.answer_to_reference)
        if row.answer_to
        else None,
        contact_info=tuple(row.contact_info),
        kompletteringar=kompletteringar,
        deadline=row.deadline,
        answered_at=row.answered_at,
        handled_at=row.handled_at,
        handled_by=HsaId(row.handled_by) if row.handled_by else None,
        author=HsaId(row.author) if row.author else None,
        content_hash=row.content_hash,
    )
