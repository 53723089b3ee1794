"""Onward flows: what leaves the gateway for the recipient (or the certificate archive), and when.

A signed certificate reaches Försäkringskassan (or another recipient) by one of two deployment
shapes, chosen by the ``onward_target`` setting (``OnwardTarget``):

* ``recipient`` (the gateway keeps the certificates): sending registers the certificate at the
  recipient's logical address with RegisterCertificate; revoking sends RevokeCertificate to every
  recipient the certificate reached; care's questions and answers go with SendMessageToRecipient to
  the recipient's address.
* ``archive`` (beside the national certificate archive, as the incumbent's care front end): every
  signed certificate is registered at the archive (RegisterCertificate at ``archive_logical_address``)
  when it is signed; sending is SendCertificateToRecipient to the archive, naming the recipient;
  revoking goes to the archive (which tells the recipients), and messages go to the archive with
  ``logiskAdressMottagare`` = the recipient's address.

Each function here returns the outbox events (``domain.events.OutboxEvent``) one care-side fact
causes, with what their messages need in ``payload`` (who acted, the message care wrote). Test
certificates cause none: nothing about them leaves the gateway.

**Honest states.** What depends on the recipient waits for the recipient. A send leaves the
certificate ``SENDING``; it becomes ``SENT`` (and the journal gets SKICKA) when the recipient, or the
archive, accepted the event that *carries the send* (``carries_send``), and goes back to ``SIGNED``
with the failure when that event fails for good (``domain.lifecycle``).

**Revocation.** A revocation cancels every onward delivery of the certificate that has not started
(``to_cancel``: a revoked certificate is never registered anywhere afterwards), and follows with
RevokeCertificate each registration that reached, may have reached, or is reaching its destination
(``revocation_targets``). A revocation queued behind a registration in flight waits for its
outcome, and is cancelled if that registration did not arrive after all (``revocation_moot``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from domain.arenden import Amne, MessageReference
from domain.certificates import Certificate, CertificateHeader
from domain.delivery import MAY_HAVE_ARRIVED, OutcomeClass
from domain.events import OutboundContract, OutboxEvent
from domain.recipients import Recipient, RecipientRegistry
from domain.values import EventCode, HsaId

#: The certificate archive's logical address (Inera's organisation number), as the incumbent uses it.
DEFAULT_ARCHIVE_ADDRESS = "5565594230"

#: Payload keys of onward events.
PAYLOAD_ACTOR = "actor"  # who acted: {"hsaId", "name"} (skickatAv)
PAYLOAD_MESSAGE = "message"  # SendMessageToRecipient: the message care wrote
PAYLOAD_ANSWERS = "svarPa"  # RegisterCertificate of a completion: the question it answers
PAYLOAD_RECIPIENT_NAME = "recipientName"  # SendCertificateToRecipient: mottagare's displayName

#: Why an onward event is cancelled without a call (its history says so).
NEVER_LEAVES = "a test certificate never leaves the gateway"
REVOKED_BEFORE = "the certificate was revoked before this delivery started"

#: Contracts whose event delivers the certificate itself somewhere (a registration or a send).
DELIVERING = frozenset({OutboundContract.REGISTER, OutboundContract.SEND})


class OnwardTarget(StrEnum):
    """Where onward calls go (the ``onward_target`` setting; module docstring)."""

    RECIPIENT = "recipient"
    ARCHIVE = "archive"


@dataclass(frozen=True, slots=True)
class OnwardConfig:
    """The deployment shape, the archive's address and the recipients."""

    target: OnwardTarget
    archive_address: str
    recipients: RecipientRegistry

    def destination_of(self, recipient: Recipient) -> str:
        """The logical address calls about ``recipient`` go to: its own, or the archive's."""
        return recipient.logical_address if self.target is OnwardTarget.RECIPIENT else self.archive_address


@dataclass(frozen=True, slots=True)
class Actor:
    """The care professional an onward message names as its sender (``skickatAv``)."""

    hsa_id: HsaId
    name: str

    def to_payload(self) -> dict[str, str]:
        return {"hsaId": self.hsa_id.value, "name": self.name}

    @staticmethod
    def from_payload(data: Mapping[str, Any]) -> Actor:
        """Raises KeyError, TypeError or ValueError for a payload not written by ``to_payload``."""
        return Actor(HsaId(_text(data["hsaId"])), _text(data["name"]))


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A question or an answer care sends the recipient (SendMessageToRecipient), as it was written.

    ``recipient_address`` is ``logiskAdressMottagare``: the recipient's logical address, whether the
    call goes there or to the archive. ``answer_to`` is set for an answer (``svarPa``).
    """

    message_id: str
    sent_at: datetime
    amne: Amne
    heading: str | None
    text: str
    author: Actor
    recipient_address: str
    answer_to: MessageReference | None = None
    deadline: date | None = None

    def to_payload(self) -> dict[str, Any]:
        return {
            "messageId": self.message_id, "sentAt": self.sent_at.isoformat(), "amne": self.amne.value,
            "heading": self.heading, "text": self.text, "author": self.author.to_payload(),
            "recipientAddress": self.recipient_address,
            "answerTo": None if self.answer_to is None else {
                "messageId": self.answer_to.message_id, "referenceId": self.answer_to.reference_id},
            "deadline": self.deadline.isoformat() if self.deadline else None,
        }

    @staticmethod
    def from_payload(data: Mapping[str, Any]) -> OutgoingMessage:
        """Raises KeyError, TypeError or ValueError for a payload not written by ``to_payload``."""
        answer_to = data.get("answerTo")
        deadline = data.get("deadline")
        heading = data.get("heading")
        return OutgoingMessage(
            message_id=_text(data["messageId"]),
            sent_at=datetime.fromisoformat(_text(data["sentAt"])),
            amne=Amne(data["amne"]),
            heading=None if heading is None else _text(heading),
            text=_text(data["text"]),
            author=Actor.from_payload(data["author"]),
            recipient_address=_text(data["recipientAddress"]),
            answer_to=None if answer_to is None else MessageReference(
                _text(answer_to["messageId"]), answer_to.get("referenceId")),
            deadline=None if deadline is None else date.fromisoformat(_text(deadline)),
        )


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def may_leave(certificate: Certificate) -> bool:
    """Whether anything about the certificate may leave the gateway: never for a test certificate or a
    PU test person's (they are signed, and their journal gets status updates, but nothing goes onward)."""
    return not (certificate.test_certificate or certificate.patient.test_indicator)


def carries_send(event: OutboxEvent) -> bool:
    """Whether the event's acceptance means the certificate reached its recipient (it was sent).

    A registration at a recipient (``recipient`` mode) or a SendCertificateToRecipient to the archive
    (``archive`` mode) does; the archive's own registration on signing (no recipient) does not.
    """
    return event.contract is OutboundContract.SEND or (
        event.contract is OutboundContract.REGISTER and event.recipient is not None)


def _onward(certificate: CertificateHeader, code: EventCode, at: datetime, correlation_id: str, actor: Actor,
            contract: OutboundContract, recipient: str | None, address: str,
            payload: dict[str, Any]) -> OutboxEvent:
    return OutboxEvent(
        certificate_id=certificate.id, code=code, occurred_at=at, unit=certificate.unit,
        care_giver=certificate.care_giver, request_correlation_id=correlation_id, acting_user=actor.hsa_id,
        payload={PAYLOAD_ACTOR: actor.to_payload(), **payload}, contract=contract, recipient=recipient,
        logical_address=address,
    )


def on_signed(certificate: Certificate, config: OnwardConfig, at: datetime, correlation_id: str,
              actor: Actor) -> list[OutboxEvent]:
    """A signed certificate is registered at the archive in ``archive`` mode; nothing in ``recipient`` mode."""
    if config.target is not OnwardTarget.ARCHIVE or not may_leave(certificate):
        return []
    return [_onward(certificate.header, EventCode.SIGNAT, at, correlation_id, actor, OutboundContract.REGISTER,
                    None, config.archive_address, {})]


def on_send(certificate: Certificate, recipient: Recipient, config: OnwardConfig, at: datetime,
            correlation_id: str, actor: Actor) -> list[OutboxEvent]:
    """The event that carries a send: RegisterCertificate at the recipient, or SendCertificateToRecipient
    to the archive naming it. (The send was checked by ``domain.lifecycle.send``: never a test certificate.)"""
    if config.target is OnwardTarget.RECIPIENT:
        return [_onward(certificate.header, EventCode.SKICKA, at, correlation_id, actor, OutboundContract.REGISTER,
                        recipient.id, recipient.logical_address, {})]
    return [_onward(certificate.header, EventCode.SKICKA, at, correlation_id, actor, OutboundContract.SEND,
                    recipient.id, config.archive_address, {PAYLOAD_RECIPIENT_NAME: recipient.name})]


def with_answers(event: OutboxEvent, answers: MessageReference) -> OutboxEvent:
    """A registration that answers a completion request: ``svarPa`` names the request (``answers``)."""
    payload = {**event.payload, PAYLOAD_ANSWERS: {"messageId": answers.message_id, "referenceId": answers.reference_id}}
    return replace(event, payload=payload)


def on_message(certificate: CertificateHeader, message: OutgoingMessage, recipient: Recipient, config: OnwardConfig,
               code: EventCode, correlation_id: str) -> OutboxEvent:
    """SendMessageToRecipient for a question (NYFRFV) or an answer (HANFRFM) care wrote, to the
    recipient or to the archive (``logiskAdressMottagare`` is the recipient's address either way)."""
    return _onward(certificate, code, message.sent_at, correlation_id, message.author, OutboundContract.MESSAGE,
                   recipient.id, config.destination_of(recipient), {PAYLOAD_MESSAGE: message.to_payload()})


def revocation(certificate: CertificateHeader, destination: str, recipient: str | None, at: datetime,
               correlation_id: str, actor: Actor) -> OutboxEvent:
    """RevokeCertificate of ``certificate`` to ``destination`` (a recipient, or the archive)."""
    return _onward(certificate, EventCode.MAKULE, at, correlation_id, actor, OutboundContract.REVOKE, recipient,
                   destination, {})


@dataclass(frozen=True, slots=True)
class OnwardRecord:
    """An onward event of a certificate as the outbox holds it: what revoking needs to know of it.

    ``pending``: waiting for a (first or next) try; ``in_flight``: a worker holds it now, its call may
    be under way; ``delivered``: accepted; ``outcomes``: the classes of its attempts so far.
    """

    event_id: int
    contract: OutboundContract
    destination: str
    recipient: str | None
    pending: bool
    in_flight: bool
    delivered: bool
    outcomes: frozenset[OutcomeClass]
    message_id: str | None = None  # SendMessageToRecipient: the message care wrote

    @property
    def may_have_arrived(self) -> bool:
        """Accepted, or an attempt whose outcome leaves open that the destination stored it."""
        return self.delivered or bool(self.outcomes & MAY_HAVE_ARRIVED)


def to_cancel(records: Iterable[OnwardRecord]) -> list[int]:
    """The onward events a revocation cancels: every registration, send or message still pending that
    no worker holds (none of them may start for a revoked certificate)."""
    return [r.event_id for r in records
            if r.pending and not r.in_flight and r.contract is not OutboundContract.REVOKE]


def revocation_targets(records: Iterable[OnwardRecord], cancelled: Collection[int]) -> list[tuple[str, str | None]]:
    """Where a revocation must go, as (destination, recipient): every destination a registration or
    send of the certificate reached, may have reached (``MAY_HAVE_ARRIVED``), or may still reach (in
    flight, or claimed by a worker before ``cancelled`` could take it), unless a revocation went
    there already.

    A revocation queued behind a registration in flight waits for it (the order per destination);
    if that registration then turns out not to have arrived, the outcome step cancels the revocation
    (``revocation_moot``), so the receiver is never asked to revoke what it never had.
    """
    records = list(records)
    targets: list[tuple[str, str | None]] = []
    for destination in dict.fromkeys(r.destination for r in records if r.contract in DELIVERING):
        here = [r for r in records if r.destination == destination]
        if any(r.contract is OutboundContract.REVOKE for r in here):
            continue
        if any(r.contract in DELIVERING and (r.may_have_arrived or (r.pending and r.event_id not in cancelled))
               for r in here):
            targets.append((destination, next((r.recipient for r in here if r.recipient), None)))
    return targets


def revocation_moot(records: Iterable[OnwardRecord], destination: str) -> bool:
    """Whether a revocation waiting for ``destination`` has nothing to revoke: no registration or send
    there is pending any more, and none reached it or may have."""
    delivering = [r for r in records if r.destination == destination and r.contract in DELIVERING]
    return not any(r.pending or r.may_have_arrived for r in delivering)
