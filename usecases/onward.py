"""What an onward delivery's outcome changes beyond the outbox: the certificate's send, care's messages,
and a revocation that turned out to have nothing to revoke.

The dispatcher records every attempt through ``record``, in the same transaction as the outcome
itself, so a state and the event it causes can never disagree after a crash (the outbox pattern
again, on the way back):

* a send's carrying event (``domain.onward.carries_send``) **accepted**: the certificate goes from
  SENDING to SENT and SKICKA is queued for the journal system, now and only now: SKICKA means "the
  recipient has it", not "queued" as with the incumbent;
* a send's carrying event **failed for good** (refused, or every retry spent): the certificate goes
  back to SIGNED with the failure (class, the receiver's text, when), and can be sent again;
* a message care wrote: DELIVERED, FAILED (with why) or CANCELLED on its ärende;
* a registration or send of a certificate **revoked** while it was in flight: a retry it would get
  is cancelled (a revoked certificate is never registered afterwards); and when nothing reached
  that destination after all, the revocation queued behind it is cancelled too
  (``domain.onward.revocation_moot``).

Status updates pass through untouched, so the hot path costs one filter per outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import structlog

from domain.arenden import DeliveryState
from domain.events import OutboundContract, OutboxEvent
from domain.onward import DELIVERING, PAYLOAD_MESSAGE, carries_send, revocation_moot
from domain.resend_policy import Verdict
from domain.values import CertificateStatus, EventCode
from store import arenden, certificates
from store.outbox import AttemptOutcome, cancel_pending, enqueue_all, onward_records, record_outcomes
from store.session import Tx

log = structlog.get_logger("usecases.onward")

#: Why a retry of a registration is cancelled after the outcome of its call.
REVOKED_MEANWHILE = "the certificate was revoked while this delivery was under way; it is not tried again"
#: Why a revocation waiting behind a registration is cancelled.
NOTHING_TO_REVOKE = "the registration before it did not reach the destination: there is nothing to revoke"

_FAILED = frozenset({Verdict.FAILED, Verdict.GAVE_UP})


def record(tx: Tx, outcomes: Sequence[AttemptOutcome], now: datetime) -> list[int]:
    """Record the attempts and the events' next states (``store.outbox.record_outcomes``), then what
    the recorded onward outcomes change (module docstring); the ids recorded."""
    recorded = record_outcomes(tx, outcomes)
    if recorded:
        held = set(recorded)
        onward = [o for o in outcomes if o.claimed.id in held and o.claimed.event.is_onward]
        if onward:
            settle(tx, onward, now)
    return recorded


def settle(tx: Tx, outcomes: Sequence[AttemptOutcome], now: datetime) -> None:
    """Apply recorded onward outcomes to certificates and messages (module docstring)."""
    accepted = [o for o in outcomes if carries_send(o.claimed.event) and o.state.verdict is Verdict.DELIVERED]
    sent = certificates.accept_sends(tx, {o.claimed.event.certificate_id for o in accepted}, now)
    if sent:
        skicka = {o.claimed.event.certificate_id: _skicka(o.claimed.event, now) for o in accepted}
        enqueue_all(tx, [skicka[certificate_id] for certificate_id in sent])
    failed = [o for o in outcomes if carries_send(o.claimed.event) and o.state.verdict in _FAILED]
    if failed:
        changed = certificates.fail_sends(tx, [
            certificates.SendFailure(o.claimed.event.certificate_id, o.attempt.outcome.value, o.attempt.text,
                                     o.attempt.at) for o in failed])
        for o in failed:
            log.warning("certificate_send_failed", certificate_id=o.claimed.event.certificate_id,
                        recipient=o.claimed.event.recipient, outcome=o.attempt.outcome.value,
                        returned_to_signed=o.claimed.event.certificate_id in changed)
    _messages(tx, [o for o in outcomes if o.claimed.event.contract is OutboundContract.MESSAGE])
    _revoked_meanwhile(tx, [o for o in outcomes if o.claimed.event.contract in DELIVERING
                            and o.claimed.event.certificate_id not in sent], now)


def _skicka(event: OutboxEvent, at: datetime) -> OutboxEvent:
    """SKICKA for the journal: the certificate reached its recipient now, sent by whoever sent it."""
    return OutboxEvent(certificate_id=event.certificate_id, code=EventCode.SKICKA, occurred_at=at, unit=event.unit,
                       care_giver=event.care_giver, request_correlation_id=event.request_correlation_id,
                       acting_user=event.acting_user)


_MESSAGE_STATES = {
    Verdict.DELIVERED: DeliveryState.DELIVERED,
    Verdict.FAILED: DeliveryState.FAILED,
    Verdict.GAVE_UP: DeliveryState.FAILED,
    Verdict.CANCELLED: DeliveryState.CANCELLED,
}


def _messages(tx: Tx, outcomes: Sequence[AttemptOutcome]) -> None:
    states = []
    for outcome in outcomes:
        state = _MESSAGE_STATES.get(outcome.state.verdict)
        message = outcome.claimed.event.payload.get(PAYLOAD_MESSAGE)
        if state is None or not isinstance(message, dict) or not isinstance(message.get("messageId"), str):
            continue  # a retry: still PENDING; an unreadable payload failed the event (its history says why)
        attempt = outcome.attempt
        detail = None if state is DeliveryState.DELIVERED else \
            ": ".join(part for part in (attempt.outcome.value, attempt.error_id, attempt.text) if part)
        states.append((message["messageId"], state, detail))
    arenden.set_delivery(tx, states)


def _revoked_meanwhile(tx: Tx, outcomes: Sequence[AttemptOutcome], now: datetime) -> None:
    """Registrations and sends whose certificate is revoked now: cancel their retry, and a revocation
    behind them that has nothing to revoke."""
    if not outcomes:
        return
    found = certificates.statuses(tx, {o.claimed.event.certificate_id for o in outcomes})
    revoked = [o for o in outcomes if found.get(o.claimed.event.certificate_id) is CertificateStatus.REVOKED]
    for outcome in revoked:
        event = outcome.claimed.event
        if outcome.state.verdict is Verdict.RETRY:
            cancel_pending(tx, [outcome.claimed.id], now, REVOKED_MEANWHILE)
        records = onward_records(tx, event.certificate_id, now)
        if revocation_moot(records, event.destination):
            waiting = [r.event_id for r in records if r.destination == event.destination and r.pending
                       and r.contract is OutboundContract.REVOKE]
            cancel_pending(tx, waiting, now, NOTHING_TO_REVOKE)

