"""Stored ärenden: questions, reminders and answers about certificates, and their kompletteringar.

One ``arende`` row per message in either direction; the completion requests of a KOMPLT question
(kompletteringar) are a JSON list in its row, in the order sent. Two unique constraints carry the
contract's idempotency rules, so that they hold even when two deliveries race on PostgreSQL, where
both may pass the use case's checks before either commits:

* ``message_id`` (meddelande-id): a message is stored once; the loser's insert is a ``Conflict``;
* ``answer_to`` (svarPa/meddelande-id): a question has at most one answer (NULLs, the questions and
  reminders, are distinct on both databases).

No foreign key ties ``certificate_id`` to the certificate table, as in the outbox: ärenden arrive
only for signed certificates, which are never deleted, and the store stays free of the lifecycle's
table layout. ``kontaktInfo`` and the kompletteringar are JSON lists, as they are only ever read and
written with their message (migration 0007 says why they left a table of their own).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    ColumnElement,
    Select,
    Table,
    Text,
    TextClause,
    bindparam,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from domain.arenden import (
    Amne,
    Arende,
    ArendeStatus,
    ConversationEntry,
    DeliveryState,
    Direction,
    Komplettering,
    MessageReference,
)
from domain.values import HsaId, PersonId, PersonIdKind
from store import driver
from store.base import Base, BigId, among
from store.session import translate_errors
from store.types import UtcDateTime


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
    kompletteringar: Mapped[list[dict[str, Any]]] = mapped_column(JSON, server_default="[]")
    # Care's messages on their way to the recipient (migration 0013); None for the recipient's own.
    delivery_status: Mapped[DeliveryState | None]
    delivery_detail: Mapped[str | None] = mapped_column(Text)


# The table itself, for the Core statements below.
_ARENDE = cast(Table, ArendeRow.__table__)
# Built once: the statement and its cache key are the same for every message.
_INSERT_ARENDE = insert(_ARENDE)


def add_arende(session: Session, arende: Arende) -> None:
    """Store one message in the caller's transaction (see ``add_arenden``)."""
    add_arenden(session, [arende])


def add_arenden(session: Session, arenden: Sequence[Arende]) -> None:
    """Store messages in the caller's transaction, in order, with one statement.

    Raises:
        Conflict: a meddelande-id is already stored, or an ``answer_to`` already has an answer.
    """
    if arenden:
        with translate_errors():
            session.execute(_INSERT_ARENDE, [arende_row(arende) for arende in arenden])


def arende_row(arende: Arende) -> dict[str, Any]:
    """The values of a new message's row, by column name."""
    return {
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
        "answer_to_reference": arende.answer_to.reference_id if arende.answer_to else None,
        "deadline": arende.deadline,
        "answered_at": arende.answered_at,
        "handled_at": arende.handled_at,
        "handled_by": arende.handled_by.value if arende.handled_by else None,
        "author": arende.author.value if arende.author else None,
        "content_hash": arende.content_hash,
        "kompletteringar": [
            {"question_id": k.question_id, "instance": k.instance, "text": k.text}
            for k in arende.kompletteringar
        ],
        "delivery_status": arende.delivery,
        "delivery_detail": arende.delivery_detail,
    }


def get_arende(session: Session, message_id: str) -> Arende | None:
    """The message stored under this meddelande-id, in any certificate, or None."""
    found = _select(session, _messages_where(ArendeRow.message_id == message_id))
    return found[0] if found else None


def arenden_for_certificate(session: Session, certificate_id: str) -> list[Arende]:
    """Every message about one certificate, in the order they were stored."""
    return _select(session, _messages_where(ArendeRow.certificate_id == certificate_id))


def conversations(
    session: Session, certificate_ids: Collection[str], message_ids: Collection[str]
) -> tuple[dict[str, ConversationEntry], dict[str, list[ConversationEntry]]]:
    """What receiving messages checks against, read in one query without the messages' content.

    Returns the messages stored under ``message_ids`` (in any certificate), by meddelande-id, and
    every message about each of ``certificate_ids``, in storage order (an empty list for one
    without messages).
    """
    rows = driver.fetch_all(
        session, _CONVERSATIONS, {"certificate_ids": sorted(certificate_ids), "message_ids": sorted(message_ids)}
    )
    found = [_to_entry(row) for row in rows]
    by_certificate: dict[str, list[ConversationEntry]] = {certificate_id: [] for certificate_id in certificate_ids}
    for entry in found:
        if entry.certificate_id in by_certificate:
            by_certificate[entry.certificate_id].append(entry)
    stored = {entry.message_id: entry for entry in found if entry.message_id in message_ids}
    return stored, by_certificate


def mark_answered(session: Session, question_ids: Collection[str], at: datetime) -> None:
    """Note that the questions ``question_ids`` got their answers at ``at``.

    An open question becomes ANSWERED; a question already handled stays HANDLED (care closed it,
    the answer does not reopen it) but still records when it was answered.
    """
    if not question_ids:
        return
    session.execute(_mark_answered(session.get_bind().dialect.name), answered_parameters(question_ids, at))


def answered_sql(dialect: str) -> str:
    """``mark_answered``'s UPDATE for ``dialect``, the question ids read from the JSON array ``:answered``
    (``answered_parameters``): one statement text for any number of questions, which a group of
    received messages also runs inside its one statement (``store.message_groups``)."""
    ids = {"postgresql": "SELECT json_array_elements_text(CAST(:answered AS json))",
           "sqlite": "SELECT value FROM json_each(:answered)"}[dialect]
    return (f"UPDATE {ArendeRow.__tablename__} SET answered_at = :answered_at, "
            f"status = CASE WHEN status = '{ArendeStatus.OPEN.value}' THEN '{ArendeStatus.ANSWERED.value}' "
            f"ELSE status END WHERE message_id IN ({ids})")


def answered_parameters(question_ids: Collection[str], at: datetime) -> dict[str, Any]:
    """The parameters of ``answered_sql``."""
    return {"answered": json.dumps(sorted(question_ids)), "answered_at": at}


#: ``answered_sql``'s time, written as every time column is (``UtcDateTime``).
ANSWERED_AT = bindparam("answered_at", type_=UtcDateTime())


@functools.cache
def _mark_answered(dialect: str) -> TextClause:
    return text(answered_sql(dialect)).bindparams(ANSWERED_AT)


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


def reopen(session: Session, message_ids: Collection[str]) -> int:
    """Open these handled messages again (status OPEN, no longer handled by anyone); return how many.

    Only a message that is handled changes: a second call, or one racing a user who already
    reopened it, changes nothing. See ``domain.relations.reopened_by_revoking`` for when.
    """
    if not message_ids:
        return 0
    result = session.execute(
        update(ArendeRow)
        .where(ArendeRow.message_id.in_(sorted(message_ids)), ArendeRow.status == ArendeStatus.HANDLED)
        .values(status=ArendeStatus.OPEN, handled_at=None, handled_by=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def close_open_questions(
    session: Session, certificate_id: str, handled_by: str | None, at: datetime
) -> set[str]:
    """Mark every question of the certificate that is not handled yet as handled; return their ids.

    Called when a certificate is revoked: its conversation is over. Answers and reminders are left
    as they are (they are not counted as questions). ``handled_by`` is the acting user's HSA-id, or
    None when the gateway closes them itself. A single conditional UPDATE, so it is idempotent.
    """
    closed = session.scalars(
        update(ArendeRow)
        .where(
            ArendeRow.certificate_id == certificate_id,
            ArendeRow.status != ArendeStatus.HANDLED,
            ArendeRow.answer_to.is_(None),
            ArendeRow.amne != Amne.PAMINN,
        )
        .values(status=ArendeStatus.HANDLED, handled_at=at, handled_by=handled_by)
        .returning(ArendeRow.message_id)
        .execution_options(synchronize_session=False)
    ).all()
    return set(closed)


def set_delivery(session: Session, states: Sequence[tuple[str, DeliveryState, str | None]]) -> None:
    """Record how far care's messages got: (meddelande-id, state, detail) each. A message already
    delivered stays delivered (a late retry's outcome does not undo it)."""
    if not states:
        return
    session.execute(
        update(_ARENDE)
        .where(_ARENDE.c.message_id == bindparam("the_message_id"),
               or_(_ARENDE.c.delivery_status.is_(None), _ARENDE.c.delivery_status != DeliveryState.DELIVERED.value))
        .values(delivery_status=bindparam("new_status"), delivery_detail=bindparam("new_detail")),
        [{"the_message_id": message_id, "new_status": state.value, "new_detail": detail}
         for message_id, state, detail in states],
    )


def _messages_where(condition: ColumnElement[bool]) -> Select[Any]:
    """The messages matching ``condition``, in storage order."""
    return select(_ARENDE).where(condition).order_by(_ARENDE.c.id)


_ENTRY_COLUMNS = (
    _ARENDE.c.message_id,
    _ARENDE.c.certificate_id,
    _ARENDE.c.direction,
    _ARENDE.c.status,
    _ARENDE.c.amne,
    _ARENDE.c.reminder_of,
    _ARENDE.c.answer_to,
    _ARENDE.c.answer_to_reference,
    _ARENDE.c.content_hash,
)
# What receiving messages reads, built once (bound parameters): the hot path skips rebuilding it.
_CONVERSATIONS = (
    select(*_ENTRY_COLUMNS)
    .where(
        or_(
            among(_ARENDE.c.certificate_id, "certificate_ids"),
            among(_ARENDE.c.message_id, "message_ids"),
        )
    )
    .order_by(_ARENDE.c.id)
)


def _select(
    session: Session, statement: Select[Any], params: dict[str, Any] | None = None
) -> list[Arende]:
    # .all() fetches the rows in one call to the driver, where iterating would fetch them one by one.
    return [_to_arende(row) for row in session.execute(statement, params or {}).all()]


def _entry_fields(row: Any) -> dict[str, Any]:
    """The ``ConversationEntry`` fields of a row, which ``Arende`` shares."""
    return {
        "message_id": row.message_id,
        "certificate_id": row.certificate_id,
        "direction": row.direction,
        "status": row.status,
        "amne": row.amne,
        "reminder_of": row.reminder_of,
        "answer_to": MessageReference(row.answer_to, row.answer_to_reference) if row.answer_to else None,
        "content_hash": row.content_hash,
    }


def _to_entry(row: Any) -> ConversationEntry:
    return ConversationEntry(**_entry_fields(row))


def _to_arende(row: Any) -> Arende:
    return Arende(
        **_entry_fields(row),
        text=row.text,
        sent_at=row.sent_at,
        received_at=row.received_at,
        sender_part=row.sender_part,
        patient=PersonId(row.patient_id_kind, row.patient_id),
        recipient=row.recipient,
        reference_id=row.reference_id,
        heading=row.heading,
        contact_info=tuple(row.contact_info),
        kompletteringar=tuple(
            Komplettering(k["question_id"], k["instance"], k["text"]) for k in row.kompletteringar
        ),
        deadline=row.deadline,
        answered_at=row.answered_at,
        handled_at=row.handled_at,
        handled_by=HsaId(row.handled_by) if row.handled_by else None,
        author=HsaId(row.author) if row.author else None,
        delivery=row.delivery_status,
        delivery_detail=row.delivery_detail,
    )
