"""The outbox: certificate events waiting to be sent, their delivery attempts, and operators' resends.

Modules, each for one part of an event's life:

* ``tables``: the rows (``outbox_event``, ``outbox_attempt``, ``outbox_resend_request``) and the status;
* ``queue``: ``enqueue`` in the caller's transaction, with the change it reports; a certificate's events,
  its onward deliveries as revoking judges them, and their cancellation;
* ``claims``: the dispatcher's steps: claim due events with a lease, read what sending needs, mark each
  call ``sending`` before it is made, record each attempt and the event's next state, give back what
  was not sent, keep the leases of held events alive;
* ``report``: what operators read (the overview, one event's history);
* ``resend``: an operator's manual resend by selection.
"""

from __future__ import annotations

from store.outbox.claims import (
    UNKNOWN_TEXT,
    AttemptOutcome,
    SendingMark,
    claim_due,
    delivery_contexts,
    mark_sending,
    record_outcomes,
    release,
    renew_leases,
)
from store.outbox.queue import (
    SUPERSEDING_CODES,
    StoredEvent,
    cancel_pending,
    enqueue,
    enqueue_all,
    events_for_certificate,
    onward_records,
)
from store.outbox.report import (
    EventReport,
    OutboxSummary,
    OutcomeLine,
    UnitLine,
    event_report,
    outbox_summary,
)
from store.outbox.resend import ResendResult, SelectionCount, preview, resend
from store.outbox.tables import AttemptRow, OutboxRow, OutboxStatus, ResendRequestRow

__all__ = [
    "SUPERSEDING_CODES",
    "UNKNOWN_TEXT",
    "AttemptOutcome",
    "AttemptRow",
    "EventReport",
    "OutboxRow",
    "OutboxStatus",
    "OutboxSummary",
    "OutcomeLine",
    "ResendRequestRow",
    "ResendResult",
    "SelectionCount",
    "SendingMark",
    "StoredEvent",
    "UnitLine",
    "cancel_pending",
    "claim_due",
    "delivery_contexts",
    "enqueue",
    "enqueue_all",
    "event_report",
    "events_for_certificate",
    "onward_records",
    "outbox_summary",
    "mark_sending",
    "preview",
    "record_outcomes",
    "release",
    "renew_leases",
    "resend",
]
