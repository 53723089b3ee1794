"""Claiming due outbox events with a lease, marking each call before it is made, and recording its outcome.

The engine never holds a transaction open while it talks to a journal system. Every step is a short
transaction of its own, and each one can carry many events (the dispatcher groups them), but every
event's fate is its own: what happens to one never waits for, or repeats, another.

* **claim** (``claim_due``): stamp due rows with a claim token and a lease, and count the claim;
* **mark** (``mark_sending``): in the claiming transaction, before any call, write each ready event's
  attempt as ``sending``, so that a crash during the call is visible in the history as an attempt
  whose outcome is unknown (the next claim turns ``sending`` into ``unknown``);
* **record** (``record_outcomes``): complete that attempt with what came back, and set the event's
  next state; or give the event back unsent (``release``); and keep the leases of events still held
  alive (``renew_leases``).

What makes that safe:

* **No double claim.** On PostgreSQL the candidate rows are locked ``FOR UPDATE SKIP LOCKED``, so
  concurrent workers take disjoint rows without waiting; a row another worker claimed a moment ago
  is re-checked on its newest version and has a live lease, so it is skipped. On SQLite writers are
  serialised (one process), which gives the same guarantee.
* **Nothing lost, at most the call in flight repeated.** A worker that dies leaves its rows claimed
  with a lease that runs out; then they are claimed again. Only an event whose ``sending`` mark was
  committed can have reached its journal, so only those can arrive twice, and each such repeat
  follows an ``unknown`` attempt in its history.
* **No stale overwrite.** Marking, recording, releasing and renewing are guarded by the claim token:
  a worker whose lease expired and whose row another worker has claimed since changes nothing.
* **Per-certificate order, per destination.** A row is claimable only while no earlier row (lower
  id) of the same certificate and destination is still pending, claimed or not: a certificate's
  status updates go in order, and so does everything it sends one recipient (registration before
  revocation and messages), but a journal system that is down does not hold back the certificate's
  registration at the recipient (``domain.events``). Delivered, failed, superseded and cancelled rows
  do not block.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Integer, Table, Update, bindparam, case, delete, func, insert, or_, select, text, update
from sqlalchemy.orm import aliased

from domain.certificates import Certificate
from domain.delivery import Attempt, Decision, OutcomeClass, clip
from domain.events import JOURNAL, ClaimedEvent, EventContext, OutboundContract, OutboxEvent
from domain.resend_policy import NextState, Series, Verdict
from domain.values import HsaId
from store.base import insert_from_json, json_recordset, json_rows
from store.certificates import certificates_by_id
from store.outbox.tables import AttemptRow, OutboxRow, OutboxStatus
from store.session import Tx
from store.types import UtcDateTime
from store.units import integrated_unit_keys

#: What an attempt left ``sending`` by a worker that stopped says once the event is claimed again.
UNKNOWN_TEXT = "the worker making this call stopped before its outcome was recorded; the journal may have it"


@dataclass(frozen=True, slots=True)
class SendingMark:
    """An event's call about to be made: the attempt to write as ``sending`` first."""

    claimed: ClaimedEvent
    url: str
    at: datetime


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """An attempt and the event state it leads to, ready to be recorded.

    ``marked``: the call's attempt was written as ``sending`` before it, and is completed now; when
    False no call was made (the event could not be built or addressed), and the attempt is written whole.
    """

    claimed: ClaimedEvent
    attempt: Attempt
    state: NextState
    marked: bool = False


_STATUS_AFTER = {
    Verdict.DELIVERED: OutboxStatus.DELIVERED,
    Verdict.RETRY: OutboxStatus.PENDING,
    Verdict.FAILED: OutboxStatus.FAILED,
    Verdict.GAVE_UP: OutboxStatus.FAILED,
    Verdict.CANCELLED: OutboxStatus.CANCELLED,
}
_OUTBOX = cast(Table, OutboxRow.__table__)
_ATTEMPTS = cast(Table, AttemptRow.__table__)


def claim_due(
    session: Tx,
    token: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    hold_until: datetime | None = None,
    skip: Collection[str] = (),
) -> list[ClaimedEvent]:
    """Claim up to ``limit`` due events for ``token`` until ``now + lease``, oldest due first.

    ``hold_until``: events that occurred after it and were never tried are not due yet (the hold
    window, which lets a burst of edits collapse into the newest before the first send).
    ``skip``: whom this worker does not want to call now, by ``OutboxEvent.lane_key``: units (as stored) whose
    journal system, and destinations (logical addresses) whose receiver, is busy with as many calls
    as it may have; more of their events would only wait here.

    Each claim is counted on its row (``open_claims``) until an outcome is recorded; an attempt an
    earlier holder left ``sending`` becomes ``unknown`` here, in the same transaction.
    """
    if session.get_bind().dialect.name == "postgresql":
        # A claim is a few milliseconds of work; compiling it (JIT) would cost more than running it.
        session.execute(text("SET LOCAL jit = off"))
    parameters: dict[str, Any] = {"now": now, "until": now + lease, "token": token, "limit": limit}
    if hold_until is not None:
        parameters["hold_until"] = hold_until
    if skip:
        parameters["skip"] = sorted(skip)
    claimed = session.execute(_claim_statement(hold_until is not None, bool(skip)), parameters).mappings().all()
    # A sending attempt is left behind only by an earlier claim that never recorded: then this claim
    # is not the first since the last outcome (releases uncount theirs and take their marks back).
    reclaimed = [row["id"] for row in claimed if row["open_claims"] > 1]
    if reclaimed:
        _mark_unknown(session, reclaimed)
    return sorted((_claimed(row, token) for row in claimed), key=lambda event: event.id)


#: What a claim reads back: what sending needs (the row's other columns are for operators).
_CLAIMED_COLUMNS = [_OUTBOX.c[name] for name in (
    "id", "certificate_id", "event_code", "occurred_at", "unit_hsa_id", "care_giver_hsa_id",
    "request_correlation_id", "acting_user_hsa_id", "payload", "payload_version", "schedule_kind",
    "series_attempts", "series_started_at", "attempts", "correlation_id", "open_claims", "contract", "recipient",
    "logical_address",
)]


@functools.cache
def _claim_statement(hold: bool, skip: bool) -> Update:
    """The claim's UPDATE, built once per shape: the values come as bound parameters.

    Building it (two aliases of the table, a correlated subquery) costs more Python than the claim's
    round trip; each of the four shapes is built once per process (bound: ``now``, ``until``,
    ``token``, ``limit``, and ``hold_until`` and the expanding ``skip`` when the shape has them).
    """
    candidate = aliased(OutboxRow, name="candidate")
    earlier = aliased(OutboxRow, name="earlier")
    now = bindparam("now", type_=UtcDateTime())
    # "No earlier pending event of the same certificate" is written as "the first pending event of its
    # certificate": a correlated scalar subquery, which PostgreSQL runs per candidate as one probe of
    # (certificate_id, id) while walking the due index in order, so a claim stops after ``limit``
    # matches. NOT EXISTS plus a sort on (next_attempt_at, id) let the planner choose an anti-join or
    # a full sort over the whole backlog instead (minutes per claim for 100,000 events).
    first_pending = (
        select(func.min(earlier.id))
        .where(earlier.certificate_id == candidate.certificate_id, earlier.destination == candidate.destination,
               earlier.status == OutboxStatus.PENDING)
        .scalar_subquery()
    )
    due = select(candidate.id).where(
        candidate.status == OutboxStatus.PENDING,
        candidate.next_attempt_at <= now,
        or_(candidate.lease_until.is_(None), candidate.lease_until < now),
        candidate.id == first_pending,
    )
    if hold:
        due = due.where(or_(candidate.attempts > 0,
                            candidate.occurred_at <= bindparam("hold_until", type_=UtcDateTime())))
    if skip:
        lane = case((candidate.destination == JOURNAL, candidate.unit_hsa_id), else_=candidate.destination)
        due = due.where(lane.not_in(bindparam("skip", expanding=True)))
    # Ordered by the due index's own order (status, next_attempt_at) only, so that the scan walks the
    # index and stops after ``limit`` claimable rows instead of sorting the whole backlog; ties are
    # taken in any order, which the per-certificate condition makes safe.
    due = due.order_by(candidate.next_attempt_at).limit(bindparam("limit", type_=Integer())).with_for_update(
        skip_locked=True, of=candidate)
    return (
        update(_OUTBOX)
        .where(_OUTBOX.c.id.in_(due.scalar_subquery()))
        .values(claimed_by=bindparam("token"), lease_until=bindparam("until", type_=UtcDateTime()),
                open_claims=_OUTBOX.c.open_claims + 1)
        .returning(*_CLAIMED_COLUMNS)
    )


def _mark_unknown(session: Tx, event_ids: list[int]) -> None:
    """Attempts still ``sending`` of events just claimed: their worker stopped during the call."""
    stale = session.execute(
        update(_ATTEMPTS)
        .where(_ATTEMPTS.c.event_id.in_(event_ids), _ATTEMPTS.c.outcome == OutcomeClass.SENDING.value)
        .values(outcome=OutcomeClass.UNKNOWN.value, decision=Decision.RETRY.value, text=UNKNOWN_TEXT)
        .returning(_ATTEMPTS.c.event_id),
    ).scalars().all()
    if stale:
        session.execute(
            update(_OUTBOX).where(_OUTBOX.c.id.in_(set(stale)))  # one stale attempt per event: one claim each
            .values(last_outcome=OutcomeClass.UNKNOWN.value, last_error=clip(f"unknown: {UNKNOWN_TEXT}"),
                    attempts=_OUTBOX.c.attempts + 1),
        )


def _claimed(row: Any, token: str) -> ClaimedEvent:
    event = OutboxEvent(
        certificate_id=row["certificate_id"],
        code=row["event_code"],
        occurred_at=row["occurred_at"],
        unit=HsaId(row["unit_hsa_id"]),
        care_giver=HsaId(row["care_giver_hsa_id"]),
        request_correlation_id=row["request_correlation_id"],
        acting_user=HsaId(row["acting_user_hsa_id"]) if row["acting_user_hsa_id"] else None,
        payload=dict(row["payload"]),
        payload_version=row["payload_version"],
        contract=OutboundContract(row["contract"]),
        recipient=row["recipient"],
        logical_address=row["logical_address"],
    )
    series = Series(row["schedule_kind"], row["series_attempts"], row["series_started_at"] or row["occurred_at"])
    return ClaimedEvent(id=row["id"], event=event, attempts=row["attempts"], series=series,
                        correlation_id=row["correlation_id"], token=token, claims=row["open_claims"])


def _held(session: Tx, claims: Iterable[ClaimedEvent]) -> set[int]:
    """The ids of ``claims`` whose rows are still pending and held by the same claim.

    Read without a row lock (on PostgreSQL a lock is one more write of every row): each statement
    that then changes an event repeats the claim in its condition, so a row taken over in between
    is left alone.
    """
    wanted = {claim.id: claim.token for claim in claims}
    if not wanted:
        return set()
    table = _OUTBOX.c
    rows = session.execute(
        select(table.id, table.claimed_by).where(table.id.in_(wanted), table.status == OutboxStatus.PENDING.value)
    )
    return {event_id for event_id, holder in rows if holder == wanted[event_id]}


def mark_sending(session: Tx, marks: Sequence[SendingMark]) -> None:
    """Write each event's attempt as ``sending``, before the calls.

    One INSERT, in the transaction that claimed the events (so they are held): a crash after it
    leaves each of these events with an attempt whose outcome is unknown. An event has at most one
    such attempt (the next claim turns it into ``unknown``), so the outcome finds it by its event.
    """
    if not marks:
        return
    rows = [{
        "event_id": mark.claimed.id, "at": mark.at, "outcome": OutcomeClass.SENDING.value,
        "decision": Decision.PENDING.value, "http_status": None, "result_code": None, "error_id": None,
        "text": None, "url": mark.url, "correlation_id": mark.claimed.correlation_id, "duration_ms": 0.0,
        "claimed_by": mark.claimed.token,
    } for mark in marks]
    if session.get_bind().dialect.name == "postgresql":  # one row set in one parameter (``json_rows``)
        session.execute(_MARK_SENDING_PG, {"attempts": json_rows(rows)})
    else:
        session.execute(insert(_ATTEMPTS), rows)


def record_outcomes(session: Tx, outcomes: Sequence[AttemptOutcome]) -> list[int]:
    """Store each attempt and its event's next state, for the rows their claims still hold.

    Returns the ids recorded; an outcome whose row was claimed by another worker after this one's
    lease ran out is not recorded (the other worker's attempt is the one that counts). On PostgreSQL
    one statement whatever the number of outcomes (``_RECORD_PG``); on SQLite a handful: read the rows
    still held, update them, complete the attempts marked ``sending`` and insert those made without
    a call.
    """
    if not outcomes:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return _record_pg(session, outcomes)
    held = _held(session, (o.claimed for o in outcomes))
    kept = [outcome for outcome in outcomes if outcome.claimed.id in held]
    if not kept:
        return []
    session.execute(_RECORD_STATES, [_state_values(outcome) for outcome in kept])
    completed = [_completion(o) for o in kept if o.marked]
    if completed:
        session.execute(_COMPLETE_MARKS, completed)
    unmarked = [o for o in kept if not o.marked]
    if unmarked:
        session.execute(insert(_ATTEMPTS), [_attempt_values(o) for o in unmarked])
    return [outcome.claimed.id for outcome in kept]


def _record_pg(session: Tx, outcomes: Sequence[AttemptOutcome]) -> list[int]:
    """``record_outcomes`` on PostgreSQL in one statement: the held rows are the ones its update finds.

    The events' update repeats the claim in its condition and returns the ids it changed; the marks'
    completion and the other attempts' insert take only those. Before, a read of the held rows and up
    to three statements each cost their round trip and their SQL building (issue 14: recording was a
    quarter of a worker's time).
    """
    found = session.execute(_RECORD_PG, {
        "states": json_rows([_state_values(o) for o in outcomes]),
        "marks": json_rows([_completion(o) for o in outcomes if o.marked]),
        "attempts": json_rows([_attempt_values(o) for o in outcomes if not o.marked]),
    })
    recorded = {event_id for (event_id,) in found}
    return [outcome.claimed.id for outcome in outcomes if outcome.claimed.id in recorded]


def _completion(outcome: AttemptOutcome) -> dict[str, Any]:
    """The values that complete an attempt marked ``sending`` (``_MARK_COLUMNS``)."""
    return {"marked_event": outcome.claimed.id, **{f"new_{k}": v for k, v in _attempt_values(outcome).items()
                                                   if k not in ("event_id", "correlation_id", "claimed_by")}}


# Each update's per-row values, named as the statements bind them (``new_`` + the column set), with the
# PostgreSQL type each is read as there; both forms of each statement are written from these.
_STATE_COLUMNS = {"event_id": "bigint", "token": "varchar", "new_status": "varchar", "new_series_attempts": "integer",
                 "new_schedule_kind": "varchar", "new_last_attempt_at": "timestamptz", "new_last_outcome": "varchar",
                 "new_last_error": "varchar", "new_next_attempt_at": "timestamptz", "new_finished_at": "timestamptz"}
_MARK_COLUMNS = {"marked_event": "bigint", "new_at": "timestamptz", "new_outcome": "varchar",
                "new_decision": "varchar", "new_http_status": "integer", "new_result_code": "varchar",
                "new_error_id": "varchar", "new_text": "varchar", "new_url": "varchar",
                "new_duration_ms": "double precision"}
_CLAIM_ENDED = {"claimed_by": None, "lease_until": None, "open_claims": 0}  # what an outcome resets


def _new_values(columns: dict[str, str]) -> dict[str, Any]:
    """``column = :new_column`` for the ``new_`` values of ``columns`` (times as ``UtcDateTime``)."""
    return {name.removeprefix("new_"): bindparam(name, type_=UtcDateTime()) if kind == "timestamptz"
            else bindparam(name) for name, kind in columns.items() if name.startswith("new_")}


def _new_from_v(columns: dict[str, str]) -> str:
    """``column = v.new_column, …`` for the ``new_`` values of ``columns`` (``json_recordset``'s rows)."""
    return ", ".join(f"{name.removeprefix('new_')} = v.{name}" for name in columns if name.startswith("new_"))


_RECORD_STATES = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("event_id"), _OUTBOX.c.claimed_by == bindparam("token"))
    .values(attempts=_OUTBOX.c.attempts + 1, **_CLAIM_ENDED, **_new_values(_STATE_COLUMNS))
)
_COMPLETE_MARKS = (
    update(_ATTEMPTS)
    .where(_ATTEMPTS.c.event_id == bindparam("marked_event"), _ATTEMPTS.c.outcome == OutcomeClass.SENDING.value)
    .values(**_new_values(_MARK_COLUMNS))
)
_ATTEMPT_COLUMNS = ("event_id", "at", "outcome", "decision", "http_status", "result_code", "error_id", "text", "url",
                    "correlation_id", "duration_ms", "claimed_by")  # _attempt_values
_MARK_SENDING_PG = text(insert_from_json("outbox_attempt", _ATTEMPT_COLUMNS, "attempts"))
_RECORDED = "event_id IN (SELECT id FROM recorded)"  # an attempt of an event the statement recorded
# The three on PostgreSQL as one statement, every row's values in JSON parameters (``json_rows``):
# the events still held by their claims are updated, and only their attempts are completed or added.
_RECORD_PG = text(
    "WITH recorded AS (UPDATE outbox_event AS o SET attempts = o.attempts + 1, claimed_by = NULL, "
    f"lease_until = NULL, open_claims = 0, {_new_from_v(_STATE_COLUMNS)} "  # _CLAIM_ENDED
    f"FROM {json_recordset(_STATE_COLUMNS, 'states')} WHERE o.id = v.event_id AND o.claimed_by = v.token "
    f"AND o.status = '{OutboxStatus.PENDING.value}' RETURNING o.id), "
    f"completed AS (UPDATE outbox_attempt AS a SET {_new_from_v(_MARK_COLUMNS)} "
    f"FROM {json_recordset(_MARK_COLUMNS, 'marks')} WHERE a.event_id = v.marked_event "
    f"AND a.outcome = '{OutcomeClass.SENDING.value}' AND a.{_RECORDED}), "
    f"added AS ({insert_from_json('outbox_attempt', _ATTEMPT_COLUMNS, 'attempts', _RECORDED)}) "
    "SELECT id FROM recorded"
)


def _state_values(outcome: AttemptOutcome) -> dict[str, Any]:
    attempt, state = outcome.attempt, outcome.state
    status = _STATUS_AFTER[state.verdict]
    final = status is not OutboxStatus.PENDING
    return {
        "event_id": outcome.claimed.id,
        "token": outcome.claimed.token,
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


def _attempt_values(outcome: AttemptOutcome) -> dict[str, Any]:
    attempt = outcome.attempt
    return {
        "event_id": outcome.claimed.id,
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
        "claimed_by": outcome.claimed.token,
    }


def release(session: Tx, claims: Sequence[ClaimedEvent]) -> list[int]:
    """Give held events back unsent (nothing was called): due again at once, the claim not counted,
    a ``sending`` mark taken back (no call was made, so there is nothing to be unsure of)."""
    held = _held(session, claims)
    if held:
        session.execute(delete(_ATTEMPTS).where(_ATTEMPTS.c.event_id.in_(held),
                                                _ATTEMPTS.c.outcome == OutcomeClass.SENDING.value))
        session.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.id.in_(held), _OUTBOX.c.claimed_by.in_({claim.token for claim in claims}))
            .values(claimed_by=None, lease_until=None,
                    open_claims=case((_OUTBOX.c.open_claims > 0, _OUTBOX.c.open_claims - 1), else_=0)),
        )
    return sorted(held)


def renew_leases(session: Tx, claims: Sequence[ClaimedEvent], lease_until: datetime) -> list[int]:
    """Extend the leases of events still held by their claims to ``lease_until``; the ids renewed."""
    if not claims:
        return []
    held = _held(session, claims)
    if held:
        session.execute(update(_OUTBOX).where(_OUTBOX.c.id.in_(held),
                                              _OUTBOX.c.claimed_by.in_({claim.token for claim in claims}))
                        .values(lease_until=lease_until))
    return sorted(held)


def delivery_contexts(session: Tx, claimed: Sequence[ClaimedEvent]) -> list[EventContext]:
    """What sending each claimed event needs: for a status update, whether its unit is integrated;
    for every event, its certificate as it is now (None when gone; not read for a unit that is not
    integrated, whose status update is not sent)."""
    status_updates = [item for item in claimed if not item.event.is_onward]
    integrated = integrated_unit_keys(session, {item.event.unit for item in status_updates})
    wanted = {item.event.certificate_id for item in claimed
              if item.event.is_onward or item.event.unit.key in integrated}
    found: dict[str, Certificate] = certificates_by_id(session, wanted)
    return [
        EventContext(item, item.event.is_onward or item.event.unit.key in integrated,
                     found.get(item.event.certificate_id))
        for item in claimed
    ]
