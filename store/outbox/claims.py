"""Claiming due outbox events with a lease, reading what sending them needs, and recording what came of it.

The engine never holds a transaction open while it talks to a journal system. It claims a batch in
one short transaction (stamping each row with its claim token and a lease), sends outside any
transaction, and records the outcomes in another short transaction. What makes that safe:

* **No double claim.** On PostgreSQL the candidate rows are locked ``FOR UPDATE SKIP LOCKED``, so
  concurrent workers take disjoint rows without waiting; a row another worker claimed a moment ago
  is re-checked on its newest version and has a live lease, so it is skipped. On SQLite writers are
  serialised (one process), which gives the same guarantee.
* **Nothing lost.** A worker that dies mid-send leaves its rows claimed with a lease that runs out;
  an expired lease makes the row claimable again.
* **No stale overwrite.** Recording is guarded by the claim token: a worker whose lease expired and
  whose row another worker has claimed since records nothing (its result is logged, not stored).
* **Per-certificate order.** A row is claimable only while no earlier row (lower id) of the same
  certificate is still pending, claimed or not. Delivered, failed and superseded rows do not block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, or_, select, text, update
from sqlalchemy.orm import aliased

from domain.certificates import Certificate
from domain.delivery import Attempt, clip
from domain.events import ClaimedEvent, EventContext, OutboxEvent
from domain.resend_policy import NextState, Series, Verdict
from domain.values import HsaId
from store.certificates import certificates_by_id
from store.outbox.tables import AttemptRow, OutboxRow, OutboxStatus
from store.session import Tx
from store.types import UtcDateTime
from store.units import integrated_unit_keys


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """An attempt and the event state it leads to, ready to be recorded."""

    event_id: int
    attempt: Attempt
    state: NextState


_STATUS_AFTER = {
    Verdict.DELIVERED: OutboxStatus.DELIVERED,
    Verdict.RETRY: OutboxStatus.PENDING,
    Verdict.FAILED: OutboxStatus.FAILED,
    Verdict.GAVE_UP: OutboxStatus.FAILED,
}


def claim_due(
    session: Tx,
    token: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    hold_until: datetime | None = None,
) -> list[ClaimedEvent]:
    """Claim up to ``limit`` due events for ``token`` until ``now + lease``, oldest due first.

    ``hold_until``: events that occurred after it and were never tried are not due yet (the hold
    window, which lets a burst of edits collapse into the newest before the first send).
    """
    candidate = aliased(OutboxRow, name="candidate")
    earlier = aliased(OutboxRow, name="earlier")
    # "No earlier pending event of the same certificate" is written as "the first pending event of its
    # certificate": a correlated scalar subquery, which PostgreSQL runs per candidate as one probe of
    # (certificate_id, id) while walking the due index in order, so a claim stops after ``limit``
    # matches. NOT EXISTS plus a sort on (next_attempt_at, id) let the planner choose an anti-join or
    # a full sort over the whole backlog instead (minutes per claim for 100,000 events).
    first_pending = (
        select(func.min(earlier.id))
        .where(earlier.certificate_id == candidate.certificate_id, earlier.status == OutboxStatus.PENDING)
        .scalar_subquery()
    )
    due = select(candidate.id).where(
        candidate.status == OutboxStatus.PENDING,
        candidate.next_attempt_at <= now,
        or_(candidate.lease_until.is_(None), candidate.lease_until < now),
        candidate.id == first_pending,
    )
    if hold_until is not None:
        due = due.where(or_(candidate.attempts > 0, candidate.occurred_at <= hold_until))
    # Ordered by the due index's own order (status, next_attempt_at) only, so that the scan walks the
    # index and stops after ``limit`` claimable rows instead of sorting the whole backlog; ties are
    # taken in any order, which the per-certificate condition makes safe.
    due = due.order_by(candidate.next_attempt_at).limit(limit).with_for_update(skip_locked=True, of=candidate)
    if session.get_bind().dialect.name == "postgresql":
        # A claim is a few milliseconds of work; compiling it (JIT) would cost more than running it.
        session.execute(text("SET LOCAL jit = off"))
    table = cast(Table, OutboxRow.__table__)
    claimed = session.execute(
        update(OutboxRow)
        .where(OutboxRow.id.in_(due.scalar_subquery()))
        .values(claimed_by=token, lease_until=now + lease)
        .returning(*table.c),
        execution_options={"synchronize_session": False},
    ).mappings().all()
    return sorted((_claimed(row) for row in claimed), key=lambda event: event.id)


def _claimed(row: Any) -> ClaimedEvent:
    event = OutboxEvent(
        certificate_id=row["certificate_id"],
        code=row["event_code"],
        occurred_at=row["occurred_at"],
        unit=HsaId(row["unit_hsa_id"]),
        care_giver=HsaId(row["care_giver_hsa_id"]),
        correlation_id=row["correlation_id"],
        acting_user=HsaId(row["acting_user_hsa_id"]) if row["acting_user_hsa_id"] else None,
        payload=dict(row["payload"]),
        payload_version=row["payload_version"],
    )
    series = Series(row["schedule_kind"], row["series_attempts"], row["series_started_at"] or row["occurred_at"])
    return ClaimedEvent(id=row["id"], event=event, attempts=row["attempts"], series=series)


def record_outcomes(session: Tx, token: str, outcomes: Sequence[AttemptOutcome]) -> list[int]:
    """Store each attempt and its event's next state, for the rows ``token`` still holds.

    Returns the ids recorded; an outcome whose row was claimed by another worker after this one's
    lease ran out is not recorded (the other worker's attempt is the one that counts). Three
    statements whatever the batch size: lock the rows still held, update them (one executemany),
    insert the attempts.
    """
    if not outcomes:
        return []
    held = set(session.scalars(
        select(OutboxRow.id)
        .where(OutboxRow.id.in_([o.event_id for o in outcomes]), OutboxRow.claimed_by == token,
               OutboxRow.status == OutboxStatus.PENDING)
        .with_for_update()
    ))
    kept = [outcome for outcome in outcomes if outcome.event_id in held]
    if not kept:
        return []
    table = cast(Table, OutboxRow.__table__)
    session.execute(
        update(table)
        .where(table.c.id == bindparam("event_id"))
        .values(
            status=bindparam("new_status"),
            attempts=table.c.attempts + 1,
            series_attempts=bindparam("new_series_attempts"),
            schedule_kind=bindparam("new_schedule_kind"),
            last_attempt_at=bindparam("new_last_attempt_at", type_=UtcDateTime()),
            last_outcome=bindparam("new_last_outcome"),
            last_error=bindparam("new_last_error"),
            next_attempt_at=bindparam("new_next_attempt_at", type_=UtcDateTime()),
            finished_at=bindparam("new_finished_at", type_=UtcDateTime()),
            claimed_by=None,
            lease_until=None,
        ),
        [_state_values(outcome) for outcome in kept],
    )
    session.execute(insert(AttemptRow), [_attempt_values(o.event_id, o.attempt) for o in kept])
    return [outcome.event_id for outcome in kept]


def _state_values(outcome: AttemptOutcome) -> dict[str, Any]:
    attempt, state = outcome.attempt, outcome.state
    status = _STATUS_AFTER[state.verdict]
    final = status is not OutboxStatus.PENDING
    return {
        "event_id": outcome.event_id,
        "new_status": status.value,
        "new_series_attempts": state.series.failed_tries,
        "new_schedule_kind": state.series.kind.value,
        "new_last_attempt_at": attempt.at,
        "new_last_outcome": attempt.outcome.value,
        "new_last_error": None if state.verdict is Verdict.DELIVERED else clip(_error_summary(attempt)),
        # a final row is never due again; its next_attempt_at keeps the time of its last attempt
        "new_next_attempt_at": state.next_attempt_at or attempt.at,
        "new_finished_at": attempt.at if final else None,
    }


def _error_summary(attempt: Attempt) -> str:
    parts = [attempt.outcome.value]
    if attempt.http_status is not None:
        parts.append(f"HTTP {attempt.http_status}")
    if attempt.error_id:
        parts.append(attempt.error_id)
    if attempt.text:
        parts.append(attempt.text)
    return ": ".join(parts)


def _attempt_values(event_id: int, attempt: Attempt) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "at": attempt.at,
        "outcome": attempt.outcome.value,
        "decision": attempt.decision.value,
        "http_status": attempt.http_status,
        "result_code": attempt.result_code,
        "error_id": attempt.error_id,
        "text": attempt.text,
        "url": attempt.url,
        "correlation_id": attempt.correlation_id,
        "duration_ms": attempt.duration_ms,
    }


def finish_unsent(session: Tx, token: str, event_ids: Sequence[int], now: datetime, reason: str) -> list[int]:
    """Mark held events FAILED without an attempt: nothing could be sent (``reason`` says why).

    Used for an event whose unit is not integrated or whose certificate can no longer be read; an
    operator can resend it once the cause is fixed.
    """
    if not event_ids:
        return []
    done = session.execute(
        update(OutboxRow)
        .where(OutboxRow.id.in_(event_ids), OutboxRow.claimed_by == token, OutboxRow.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.FAILED, finished_at=now, last_error=clip(reason), claimed_by=None,
                lease_until=None)
        .returning(OutboxRow.id),
        execution_options={"synchronize_session": False},
    ).scalars().all()
    return list(done)


def release(session: Tx, token: str, event_ids: Sequence[int]) -> None:
    """Give back held events unsent (the lease would run out before their turn): due again at once."""
    if not event_ids:
        return
    session.execute(
        update(OutboxRow)
        .where(OutboxRow.id.in_(event_ids), OutboxRow.claimed_by == token)
        .values(claimed_by=None, lease_until=None),
        execution_options={"synchronize_session": False},
    )


def delivery_contexts(session: Tx, claimed: Sequence[ClaimedEvent]) -> list[EventContext]:
    """Whether each claimed event's unit is integrated, and its certificate as it is now (None when gone)."""
    integrated = integrated_unit_keys(session, {item.event.unit for item in claimed})
    found: dict[str, Certificate] = certificates_by_id(
        session, {item.event.certificate_id for item in claimed if item.event.unit.key in integrated}
    )
    return [
        EventContext(item, item.event.unit.key in integrated, found.get(item.event.certificate_id))
        for item in claimed
    ]
