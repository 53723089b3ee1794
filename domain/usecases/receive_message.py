"""SendMessageToCare as one unit of work: check, then store the ärende, update its question, queue the event.

Order of decisions (contracts.md §6): a meddelande-id already stored answers at once, INFO "already
received" when it is the same message again (a resend after a lost answer) and VALIDATION_ERROR
when the id was reused for other content; nothing is stored either way. Otherwise the certificate
and its ärenden are read and ``domain.message_checks`` reports every problem. An accepted message
is stored; an answer marks its question answered; a question or reminder queues NYFRFM (with
``amne``, ``sistaDatumForSvar`` and the question counts) and an answer NYSVFM (with the counts),
all in one transaction. A database outage answers TECHNICAL_ERROR so the sender may resend.

Two deliveries racing on PostgreSQL may both pass the checks; the store's unique constraints
(meddelande-id, one answer per question) make the second commit fail with ``Conflict``. The use case
then runs once more: the checks now see the winner's rows and give the answer the loser deserves
(INFO for the same message, SMTC-ANSWER-EXISTS for a second answer).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import datetime

import structlog
from sqlalchemy.orm import Session

from domain.certificates import Certificate
from domain.events import OutboxEvent, event_about
from domain.message_checks import check_message, is_resend
from domain.messages import (
    Amne,
    Arende,
    ArendeStatus,
    Direction,
    IncomingMessage,
    fingerprint,
)
from domain.question_counts import question_counts, to_payload
from domain.result_texts import DEPENDENCY_UNAVAILABLE, MESSAGE_ID_REUSED, Problem, echo
from domain.values import EventCode, PersonId, PersonIdKind
from store import certificates, messages, outbox
from store.errors import Conflict, DatabaseUnavailable

log = structlog.get_logger("domain.receive_message")

#: The INFO text for a message received before (Webcert's wording).
ALREADY_RECEIVED = "This message has already been received."


@dataclass(frozen=True, slots=True)
class ReceiveMessageDeps:
    """What receiving a message needs from the outside world."""

    transaction: Callable[[], AbstractContextManager[Session]]
    clock: Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class MessageAccepted:
    """Stored now (answer OK), or stored before (``already_received``: answer INFO)."""

    already_received: bool = False


@dataclass(frozen=True, slots=True)
class MessageRefused:
    """Nothing was stored; ``problems`` say why."""

    problems: tuple[Problem, ...]


def receive_message(
    deps: ReceiveMessageDeps, message: IncomingMessage, correlation_id: str
) -> MessageAccepted | MessageRefused:
    """Check a SendMessageToCare request and, if it passes, store everything it causes."""
    try:
        try:
            return _receive(deps, message, correlation_id)
        except Conflict:
            # Another delivery committed first; run again so the checks see its rows (module doc).
            log.info("message_race_retried", message_id=echo(message.message_id))
            return _receive(deps, message, correlation_id)
    except DatabaseUnavailable:
        log.warning("database_unavailable")
        return MessageRefused(
            (DEPENDENCY_UNAVAILABLE.problem(dependency="intygsgatewayns databas"),)
        )


def _receive(
    deps: ReceiveMessageDeps, message: IncomingMessage, correlation_id: str
) -> MessageAccepted | MessageRefused:
    digest = fingerprint(message)
    with deps.transaction() as session:
        # The row lock orders this message with a revocation (which closes the questions) and with
        # other messages on the same certificate; what the message is checked against is read after it.
        certificate = certificates.get_certificate(
            session, message.certificate_id, for_update=True
        )
        stored, arenden = messages.conversation(
            session, message.certificate_id, message.message_id
        )
        if stored is not None:
            return _repeated(message, stored)
        problems = check_message(message, certificate, arenden)
        if problems or certificate is None:
            log.info(
                "message_refused",
                message_id=echo(message.message_id),
                certificate_id=echo(message.certificate_id),
                rules=[problem.text_id for problem in problems],
            )
            return MessageRefused(tuple(problems))
        now = deps.clock()
        arende = _arende(message, now, digest)
        messages.add_arende(session, arende)
        if arende.is_answer and arende.answer_to is not None:
            messages.mark_answered(session, arende.answer_to.message_id, now)
            arenden = [_answered(a, arende.answer_to.message_id, now) for a in arenden]
        outbox.enqueue(
            session,
            _event(certificate, arende, [*arenden, arende], now, correlation_id),
        )
    log.info(
        "message_received",
        message_id=echo(arende.message_id),
        certificate_id=certificate.id,
        amne=arende.amne.value,
        kind="answer"
        if arende.is_answer
        else "reminder"
        if arende.is_reminder
        else "question",
        patient=arende.patient.masked(),
    )
    return MessageAccepted()


def _repeated(
    message: IncomingMessage, stored: Arende
) -> MessageAccepted | MessageRefused:
    if is_resend(message, stored):
        log.info("message_already_received", message_id=echo(message.message_id))
        return MessageAccepted(already_received=True)
    log.info("message_id_reused", message_id=echo(message.message_id))
    return MessageRefused(
        (
            MESSAGE_ID_REUSED.problem(
                "meddelande-id", message_id=echo(message.message_id)
            ),
        )
    )


def _arende(message: IncomingMessage, now: datetime, digest: str) -> Arende:
    """The stored form of a checked message (its amne and patient root are known to be valid)."""
    answer = message.is_answer
    return Arende(
        message_id=message.message_id,
        certificate_id=message.certificate_id,
        direction=Direction.FROM_RECIPIENT,
        status=ArendeStatus.ANSWERED if answer else ArendeStatus.OPEN,
        amne=Amne(message.amne),
        text=message.text,
        sent_at=message.sent_at,
        received_at=now,
        sender_part=message.sender_part,
        patient=PersonId(
            PersonIdKind(message.person_id_root.strip()), message.person_id.strip()
        ),
        recipient=message.recipient,
        reference_id=message.reference_id,
        heading=message.heading,
        reminder_of=message.reminder_of,
        answer_to=message.answer_to if answer else None,
        contact_info=message.contact_info,
        kompletteringar=message.kompletteringar,
        deadline=message.deadline,
        content_hash=digest,
    )


def _answered(arende: Arende, question_id: str, now: datetime) -> Arende:
    """``arende`` as ``store.messages.mark_answered`` leaves it, so the counts match the database."""
    if arende.message_id != question_id:
        return arende
    status = (
        ArendeStatus.ANSWERED if arende.status == ArendeStatus.OPEN else arende.status
    )
    return replace(arende, status=status, answered_at=now)


def _event(
    certificate: Certificate,
    arende: Arende,
    arenden: list[Arende],
    now: datetime,
    correlation_id: str,
) -> OutboxEvent:
    """NYSVFM for an answer; NYFRFM with amne and deadline for a question or a reminder."""
    payload: dict[str, object] = {"counts": to_payload(question_counts(arenden))}
    if arende.is_answer:
        code = EventCode.NYSVFM
    else:
        code = EventCode.NYFRFM
        payload["amne"] = arende.amne.value
        payload["sistaDatumForSvar"] = (
            arende.deadline.isoformat() if arende.deadline else None
        )
    return event_about(certificate, code, now, correlation_id, payload=payload)
