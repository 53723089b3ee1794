"""SendMessageToCare as one unit of work: check, then store the ärende, update its question, queue the event.

Order of decisions (contracts.md §6): a meddelande-id already stored answers at once, INFO "already
received" when it is the same message again (a resend after a lost answer) and VALIDATION_ERROR
when the id was reused for other content; nothing is stored either way. Otherwise the certificate
and its ärenden are read and ``domain.message_checks`` reports every problem. An accepted message
is stored; an answer marks its question answered; a question or reminder queues NYFRFM (with
``amne``, ``sistaDatumForSvar`` and the question counts) and an answer NYSVFM (with the counts),
all in one transaction. A database outage answers TECHNICAL_ERROR so the sender may resend.

In the server, the messages that one process receives at the same time are stored together
(``group_commit``): one transaction locks their certificates, reads their conversations, and
stores every accepted message and event with one statement each. ``decide`` takes the messages in
arrival order and lets each one see what the ones before it did, so a group gives exactly the
answers that one transaction per message would have given in that order. Each message is still
all or nothing: a refused message stores nothing, and the others of its group are unaffected.

Two deliveries racing on PostgreSQL may both pass the checks; the store's unique constraints
(meddelande-id, one answer per question) make the second commit fail with ``Conflict``. A group
that fails so is stored again one message at a time, and a single message that fails so runs once
more: the checks now see the winner's rows and give the answer the loser deserves (INFO for the
same message, SMTC-ANSWER-EXISTS for a second answer).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import structlog

from domain.arenden import (
    Amne,
    Arende,
    ArendeStatus,
    ConversationEntry,
    Direction,
    IncomingMessage,
    fingerprint,
)
from domain.certificates import CertificateHeader
from domain.events import PAYLOAD_AMNE, PAYLOAD_LAST_ANSWER_DATE, OutboxEvent, event_about
from domain.message_checks import check_message, is_resend
from domain.question_counts import question_counts, to_payload
from domain.result_texts import DEPENDENCY_UNAVAILABLE, MESSAGE_ID_REUSED, Problem, echo
from domain.values import EventCode, PersonId, PersonIdKind
from store import UnitOfWork, arenden, certificates, message_groups
from store.errors import Conflict, DatabaseUnavailable
from usecases import call_line
from usecases.group_commit import GroupCommit

log = structlog.get_logger("usecases.receive_message")

#: The INFO text for a message received before (Webcert's wording).
ALREADY_RECEIVED = "This message has already been received."

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class MessageAccepted:
    """Stored now (answer OK), or stored before (``already_received``: answer INFO)."""

    already_received: bool = False


@dataclass(frozen=True, slots=True)
class MessageRefused:
    """Nothing was stored; ``problems`` say why."""

    problems: tuple[Problem, ...]


MessageOutcome = MessageAccepted | MessageRefused

UNAVAILABLE = MessageRefused((DEPENDENCY_UNAVAILABLE.problem(dependency="intygsgatewayns databas"),))


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """One received message and the correlation id of the request that carried it."""

    message: IncomingMessage
    correlation_id: str


@dataclass(frozen=True, slots=True)
class ReceiveMessageDeps:
    """What receiving a message needs from the outside world.

    Without ``group`` each message is stored in its own transaction (tests, tools); the server
    passes this process's ``group_commit`` so that concurrent messages share transactions.
    """

    transaction: UnitOfWork
    clock: Clock
    group: GroupCommit[ReceivedMessage, Decided] | None = None


def receive_message(deps: ReceiveMessageDeps, message: IncomingMessage, correlation_id: str) -> MessageOutcome:
    """Check a SendMessageToCare request and, if it passes, store everything it causes.

    The verdict's facts go on the call's log line here, in the request's own thread: a group's
    leader decides for every message of the group, but each line belongs to its own request.
    """
    delivery = ReceivedMessage(message, correlation_id)
    if deps.group is not None:
        decided = deps.group.submit(delivery)
    else:
        decided = receive_each(deps.transaction, deps.clock, [delivery])[0]
    if isinstance(decided, MessageVerdict):
        decided.report()
        return decided.outcome
    return decided


def group_commit(
    transaction: UnitOfWork, clock: Clock, max_messages: int = 64, wait_seconds: float = 30.0
) -> GroupCommit[ReceivedMessage, Decided]:
    """This process's group committer for received messages (``usecases.group_commit``).

    A group of up to ``max_messages`` is stored in one transaction (``receive_together``). If
    another process won a race on one of its meddelande-ids or questions, its messages are stored
    one at a time instead, so that each gets the answer it deserves. If the database dropped the
    connection, the group is tried once more (SQLAlchemy replaces the pool's connections after a
    disconnect); if that fails too, every message answers TECHNICAL_ERROR at once, rather than the
    leader's own request waiting for each message to fail in turn.
    """

    def commit(deliveries: Sequence[ReceivedMessage]) -> Sequence[Decided]:
        if len(deliveries) == 1:
            return receive_each(transaction, clock, deliveries)
        for attempt in (1, 2):
            try:
                return receive_together(transaction, clock, deliveries)
            except Conflict:
                log.info("message_group_split", messages=len(deliveries))
                return receive_each(transaction, clock, deliveries)
            except DatabaseUnavailable:
                log.warning("database_unavailable", messages=len(deliveries), attempt=attempt)
        return [UNAVAILABLE] * len(deliveries)

    return GroupCommit(
        commit,
        on_timeout=UNAVAILABLE,
        name="message-group-commit",
        max_size=max_messages,
        wait_seconds=wait_seconds,
    )


def receive_each(transaction: UnitOfWork, clock: Clock, deliveries: Sequence[ReceivedMessage]) -> list[Decided]:
    """Store each message in its own transaction; a lost race is run once more, an outage answered."""
    outcomes: list[Decided] = []
    for delivery in deliveries:
        try:
            try:
                outcomes += receive_together(transaction, clock, [delivery])
            except Conflict:
                # Another delivery committed first; run again so the checks see its rows (module doc).
                log.info("message_race_retried", message_id=echo(delivery.message.message_id))
                outcomes += receive_together(transaction, clock, [delivery])
        except DatabaseUnavailable:
            log.warning("database_unavailable")
            outcomes.append(UNAVAILABLE)
    return outcomes


def receive_together(
    transaction: UnitOfWork, clock: Clock, deliveries: Sequence[ReceivedMessage]
) -> list[MessageVerdict]:
    """Check and store ``deliveries`` in one transaction; one verdict per delivery, in order.

    Raises:
        Conflict: another transaction stored one of these meddelande-ids, or an answer to one of
            these questions, first; nothing of this transaction was stored.
        DatabaseUnavailable: the database did not answer; nothing was stored.
    """
    certificate_ids = {delivery.message.certificate_id for delivery in deliveries}
    with transaction() as session:
        # The row locks order these messages with a revocation (which closes the questions) and with
        # other messages on the same certificates; what the messages are checked against is read after.
        found = certificates.lock_headers(session, certificate_ids)
        stored, conversations = arenden.conversations(
            session, certificate_ids, {delivery.message.message_id for delivery in deliveries}
        )
        now = clock()
        decision = decide(deliveries, found, stored, conversations, now)
        message_groups.add_messages(session, decision.arenden, decision.answered, now, decision.events)
    return decision.verdicts


@dataclass(frozen=True, slots=True)
class MessageVerdict:
    """What was decided about one delivery, and the facts its call's log line needs."""

    delivery: ReceivedMessage
    outcome: MessageOutcome
    stored: Arende | None = None

    def report(self) -> None:
        """Put the verdict on the call's log line (``usecases.call_line``); call it in the request's thread."""
        message_id = echo(self.delivery.message.message_id)
        outcome, arende = self.outcome, self.stored
        if arende is not None:
            call_line.add(
                message_id=message_id,
                certificate_id=arende.certificate_id,
                amne=arende.amne.value,
                kind="answer" if arende.is_answer else "reminder" if arende.is_reminder else "question",
                patient=arende.patient.masked(),
            )
        elif isinstance(outcome, MessageAccepted):
            call_line.add(message_id=message_id, already_received=True)
        else:
            call_line.add(
                message_id=message_id,
                certificate_id=echo(self.delivery.message.certificate_id),
                rules=[problem.text_id for problem in outcome.problems],
            )


#: What a delivery comes to: its verdict, or an outcome reached without deciding it (the database
#: did not answer, or the group waited too long: TECHNICAL_ERROR), which has no facts to report.
Decided = MessageVerdict | MessageOutcome


@dataclass(slots=True)
class GroupDecision:
    """What one transaction stores for a group of deliveries, and each delivery's verdict."""

    verdicts: list[MessageVerdict] = field(default_factory=list)
    arenden: list[Arende] = field(default_factory=list)  # new messages, as first stored
    answered: list[str] = field(default_factory=list)  # questions the new answers answer
    events: list[OutboxEvent] = field(default_factory=list)


def decide(
    deliveries: Sequence[ReceivedMessage],
    found: Mapping[str, CertificateHeader],
    stored: Mapping[str, ConversationEntry],
    conversations: Mapping[str, Sequence[ConversationEntry]],
    now: datetime,
) -> GroupDecision:
    """Decide each delivery in order, each seeing what the ones before it stored (module doc).

    ``found`` holds the certificates by id, ``stored`` the already stored messages under the
    deliveries' meddelande-ids, and ``conversations`` every stored message of each certificate;
    the last two are not changed.
    """
    decision = GroupDecision()
    known: dict[str, ConversationEntry] = dict(stored)
    talks = {certificate_id: list(entries) for certificate_id, entries in conversations.items()}
    for delivery in deliveries:
        message = delivery.message
        earlier = known.get(message.message_id)
        if earlier is not None:
            decision.verdicts.append(MessageVerdict(delivery, _repeated(message, earlier)))
            continue
        certificate = found.get(message.certificate_id)
        conversation = talks.get(message.certificate_id, [])
        problems = check_message(message, certificate, conversation)
        if problems or certificate is None:
            decision.verdicts.append(MessageVerdict(delivery, MessageRefused(tuple(problems))))
            continue
        arende = _arende(message, now, fingerprint(message))
        if arende.is_answer and arende.answer_to is not None:
            decision.answered.append(arende.answer_to.message_id)
            conversation = [_answered(a, arende.answer_to.message_id) for a in conversation]
        conversation = [*conversation, arende]
        talks[certificate.id] = conversation
        known[arende.message_id] = arende
        decision.arenden.append(arende)
        decision.events.append(_event(certificate, arende, conversation, now, delivery.correlation_id))
        decision.verdicts.append(MessageVerdict(delivery, MessageAccepted(), arende))
    return decision


def _repeated(message: IncomingMessage, stored: ConversationEntry) -> MessageOutcome:
    if is_resend(message, stored):
        return MessageAccepted(already_received=True)
    return MessageRefused(
        (MESSAGE_ID_REUSED.problem("meddelande-id", message_id=echo(message.message_id)),)
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


def _answered(entry: ConversationEntry, question_id: str) -> ConversationEntry:
    """``entry`` with the status ``store.arenden.mark_answered`` leaves, so the counts match the database."""
    if entry.message_id != question_id or entry.status != ArendeStatus.OPEN:
        return entry
    return replace(entry, status=ArendeStatus.ANSWERED)


def _event(
    certificate: CertificateHeader,
    arende: Arende,
    conversation: list[ConversationEntry],
    now: datetime,
    correlation_id: str,
) -> OutboxEvent:
    """NYSVFM for an answer; NYFRFM with amne and deadline for a question or a reminder."""
    payload: dict[str, object] = {"counts": to_payload(question_counts(conversation))}
    if arende.is_answer:
        code = EventCode.NYSVFM
    else:
        code = EventCode.NYFRFM
        payload[PAYLOAD_AMNE] = arende.amne.value
        payload[PAYLOAD_LAST_ANSWER_DATE] = (
            arende.deadline.isoformat() if arende.deadline else None
        )
    return event_about(certificate, code, now, correlation_id, payload=payload)
