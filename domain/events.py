"""Certificate events as they enter the status-update outbox.

An ``OutboxEvent`` is written in the same transaction as the change that caused it; the resend engine
turns it into a CertificateStatusUpdateForCare call later. ``payload`` holds what the message needs
beyond the certificate itself (for example ``amne`` for NYFRFM); ``PAYLOAD_VERSION`` is stored with
each row so that events queued by an older release can still be read after an upgrade.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.values import EventCode, HsaId

PAYLOAD_VERSION = 1


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """One event on one certificate, waiting to be reported to the unit's journal system."""

    certificate_id: str
    code: EventCode
    occurred_at: datetime
    unit: HsaId
    care_giver: HsaId
    correlation_id: str
    acting_user: HsaId | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    payload_version: int = PAYLOAD_VERSION
