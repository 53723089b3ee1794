"""The onward calls for claimed outbox events: RegisterCertificate, SendCertificateToRecipient,
RevokeCertificate and SendMessageToRecipient, each built from the event and its certificate as it
is now, and each with its own reading of the receiver's answers.

**Answers, classified per hop** (``classify``; docs/onward.md has the table). ``OK`` is delivered.
The idempotent answers are delivered too, logged as repeats (``repeat``) and never retried: a
registration answered ``INFO`` "Certificate already exists", a send answered "already sent", a
revocation answered "already revoked", a message answered "already been received" (or the
archive's "not globally unique" for a message that may have gone out before). A send the archive
answers ``INFO`` "has been revoked" did not reach the recipient: it is ``revoked``, final. Any other
``INFO`` is delivered; ``TECHNICAL_ERROR``, SOAP faults, HTTP errors and transport errors are
retried on the schedule; ``VALIDATION_ERROR``, ``APPLICATION_ERROR`` and ``REVOKED`` are final.

**What is never sent** (``cancellation``): anything about a test certificate, and a registration,
send or message of a certificate that was revoked before the delivery started (a revocation
cancels what has not started; this check also covers an event re-armed by hand afterwards).
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from contracts.answers import ContractAnswer
from contracts.register_certificate.v3 import request as register
from contracts.register_certificate.v3 import response as register_answer
from contracts.revoke_certificate.v2 import request as revoke
from contracts.revoke_certificate.v2 import response as revoke_answer
from contracts.send_certificate_to_recipient.v2 import request as send
from contracts.send_certificate_to_recipient.v2 import response as send_answer
from contracts.send_message_to_recipient.v2 import request as message
from contracts.send_message_to_recipient.v2 import response as message_answer
from domain.arenden import MessageReference
from domain.certificate_types import CertificateTypes
from domain.delivery import OutcomeClass
from domain.events import ClaimedEvent, EventContext, OutboundContract
from domain.onward import (
    NEVER_LEAVES,
    PAYLOAD_ACTOR,
    PAYLOAD_ANSWERS,
    PAYLOAD_MESSAGE,
    PAYLOAD_RECIPIENT_NAME,
    REVOKED_BEFORE,
    Actor,
    OutgoingMessage,
    may_leave,
)
from domain.values import CertificateStatus
from outbound.classify import classify_result
from outbound.status_update import Unbuildable


def cancellation(context: EventContext) -> str | None:
    """Why the onward event in ``context`` must not be sent at all, or None (module docstring)."""
    event, certificate = context.claimed.event, context.certificate
    if certificate is None:
        return None  # unbuildable, not cancelled: an operator should see that it is gone
    if not may_leave(certificate):
        return NEVER_LEAVES
    if certificate.status is CertificateStatus.REVOKED and event.contract is not OutboundContract.REVOKE:
        return REVOKED_BEFORE
    return None


def build_onward(context: EventContext, types: CertificateTypes) -> etree._Element | bytes:
    """The request body of the onward event in ``context`` (a registration written as text: it carries
    the whole certificate).

    Raises:
        Unbuildable: the certificate is gone, the payload cannot be read, or a revocation of a
            certificate that is not revoked.
    """
    event, certificate = context.claimed.event, context.certificate
    if certificate is None:
        raise Unbuildable("the certificate no longer exists")
    try:
        if event.contract is OutboundContract.REGISTER:
            answers = event.payload.get(PAYLOAD_ANSWERS)
            reference = None if answers is None else MessageReference(answers["messageId"], answers.get("referenceId"))
            return register.register_certificate_xml(
                certificate, types.lookup(certificate.type_code, certificate.type_code_system), reference)
        actor = Actor.from_payload(event.payload[PAYLOAD_ACTOR])
        if event.contract is OutboundContract.SEND:
            if event.recipient is None:
                raise Unbuildable("a send that names no recipient")
            return send.build_send_certificate(certificate, event.recipient, event.payload.get(PAYLOAD_RECIPIENT_NAME),
                                               actor, event.occurred_at)
        if event.contract is OutboundContract.REVOKE:
            if certificate.status is not CertificateStatus.REVOKED:
                raise Unbuildable(f"a revocation of a certificate that is {certificate.status.value}")
            return revoke.build_revoke_certificate(certificate, actor, event.occurred_at)
        written = OutgoingMessage.from_payload(event.payload[PAYLOAD_MESSAGE])
        return message.build_message_to_recipient(certificate, written)
    except (KeyError, TypeError, ValueError) as broken:
        raise Unbuildable(f"the event's payload cannot be read ({type(broken).__name__})") from broken


def _repeats(said: Callable[[str | None], bool]) -> Callable[[ContractAnswer, ClaimedEvent], OutcomeClass]:
    """Codes first; an INFO whose text ``said`` is the receiver's "I have it already" is a repeat."""

    def classify(answer: ContractAnswer, claimed: ClaimedEvent) -> OutcomeClass:
        outcome = classify_result(answer.result_code, answer.error_id)
        return OutcomeClass.REPEAT if outcome is OutcomeClass.INFO and said(answer.text) else outcome

    return classify


def _classify_send(answer: ContractAnswer, claimed: ClaimedEvent) -> OutcomeClass:
    outcome = classify_result(answer.result_code, answer.error_id)
    if outcome is OutcomeClass.INFO and send_answer.says_revoked(answer.text):
        return OutcomeClass.REVOKED  # INFO, but the archive sent nothing: the recipient does not have it
    if outcome is OutcomeClass.INFO and send_answer.says_already_sent(answer.text):
        return OutcomeClass.REPEAT
    return outcome


def _classify_message(answer: ContractAnswer, claimed: ClaimedEvent) -> OutcomeClass:
    outcome = classify_result(answer.result_code, answer.error_id)
    if outcome is OutcomeClass.INFO and message_answer.says_already_received(answer.text):
        return OutcomeClass.REPEAT
    # The archive refuses a meddelande-id it stored; that is a repeat only if we may have sent it before.
    repeated = claimed.attempts > 0 and message_answer.says_not_unique(answer.text)
    if outcome is OutcomeClass.VALIDATION_ERROR and repeated:
        return OutcomeClass.REPEAT
    return outcome


#: Each onward contract's answer classification, by contract.
CLASSIFY: dict[OutboundContract, Callable[[ContractAnswer, ClaimedEvent], OutcomeClass]] = {
    OutboundContract.REGISTER: _repeats(register_answer.says_already_registered),
    OutboundContract.SEND: _classify_send,
    OutboundContract.REVOKE: _repeats(revoke_answer.says_already_revoked),
    OutboundContract.MESSAGE: _classify_message,
}
