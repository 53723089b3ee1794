"""The CertificateStatusUpdateForCare call for one claimed outbox event.

The message carries the certificate as it is when the update is sent (the journal system wants the
current picture) and the event as it was queued: its code, its own time, and its payload (question
counts, NYFRFM's topic and deadline) as of the event. A deleted draft has no row any more: its
RADERA event carries the certificate as a snapshot (``domain.certificates.to_snapshot``). The payload
is read according to the payload format version it was queued with, so an event queued by an older
release is still sent after an upgrade; a version newer than this release knows, a certificate that
cannot be found, or a payload the contract cannot carry makes the event ``Unbuildable`` (it is
marked failed with the reason, and an operator resends it once the cause is fixed).
"""

from __future__ import annotations

from contracts.certificate_status_update.v3.request import (
    SOAP_ACTION,
    StatusUpdateBody,
    StatusUpdateError,
    status_update_envelope,
    status_update_xml,
)
from contracts.certificate_status_update.v3.response import read_answer
from contracts.ns import STATUS_UPDATE_V3
from domain.certificate_types import CertificateTypes
from domain.certificates import Certificate, from_snapshot
from domain.events import PAYLOAD_VERSION, EventContext
from domain.values import EventCode
from outbound.sender import OutboundCall

#: The TAK service contract a status update is routed by: the responder namespace, as TAK names it.
CONTRACT = STATUS_UPDATE_V3


class Unbuildable(Exception):
    """The event's message cannot be built; ``reason`` is for the event's last error and the log."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def build_message(context: EventContext, types: CertificateTypes) -> StatusUpdateBody:
    """The request element for the event in ``context``.

    Raises:
        Unbuildable: the payload version is unknown, the certificate cannot be found, or the payload
            cannot be written into the contract.
    """
    event = context.claimed.event
    if event.payload_version > PAYLOAD_VERSION:
        raise Unbuildable(f"payload format version {event.payload_version} is newer than this release "
                          f"reads ({PAYLOAD_VERSION})")
    certificate = _certificate(context)
    try:
        return status_update_xml(certificate, event, certificate_type=types.lookup(
            certificate.type_code, certificate.type_code_system))
    except StatusUpdateError as bad:
        raise Unbuildable(f"the event's payload cannot be sent: {bad.key} {bad.problem}") from bad


def status_update_call(url: str, logical_address: str, message: StatusUpdateBody, correlation_id: str) -> OutboundCall:
    """The call that posts ``message`` to ``url`` for ``logical_address``."""
    return OutboundCall(
        url=url,
        envelope=status_update_envelope(logical_address, message),
        soap_action=SOAP_ACTION,
        correlation_id=correlation_id,
        read_answer=read_answer,
    )


def _certificate(context: EventContext) -> Certificate:
    event = context.claimed.event
    snapshot = event.payload.get("certificate")
    if event.code is EventCode.RADERA and isinstance(snapshot, dict):
        try:
            return from_snapshot(snapshot)
        except (KeyError, TypeError, ValueError) as broken:
            raise Unbuildable(f"the deleted certificate's snapshot is unreadable ({type(broken).__name__})") \
                from broken
    if context.certificate is None:
        raise Unbuildable("the certificate no longer exists")
    return context.certificate
