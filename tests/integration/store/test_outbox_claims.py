"""Claiming with leases, per-certificate order, superseded edits and guarded recording, on both databases."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from domain.delivery import OutcomeClass
from domain.events import ClaimedEvent
from domain.resend_policy import NextState, ScheduleKind, Series, Verdict
from domain.values import EventCode
from store.outbox import (
    AttemptOutcome,
    OutboxStatus,
    claim_due,
    event_report,
    events_for_certificate,
    finish_unsent,
    record_outcomes,
    release,
)
from store.session import transaction
from tests.integration.store.outbox_helpers import T0, add_events, attempt, make_event

LEASE = timedelta(seconds=60)


def claim(factory: sessionmaker[Session], token: str, seconds: float = 1, limit: int = 10,
          hold_until_seconds: float | None = None) -> list[ClaimedEvent]:
    hold = T0 + timedelta(seconds=hold_until_seconds) if hold_until_seconds is not None else None
    with transaction(factory) as session:
        return claim_due(session, token, T0 + timedelta(seconds=seconds), LEASE, limit, hold)


def deliver(factory: sessionmaker[Session], token: str, claimed: ClaimedEvent, outcome: OutcomeClass,
            verdict: Verdict, seconds: float = 2) -> list[int]:
    at = T0 + timedelta(seconds=seconds)
    state = NextState(verdict, claimed.series, at + timedelta(minutes=1) if verdict is Verdict.RETRY else None)
    with transaction(factory) as session:
        return record_outcomes(session, token, [AttemptOutcome(claimed.id, attempt(outcome, at), state)])


def statuses(factory: sessionmaker[Session], certificate_id: str) -> list[OutboxStatus]:
    with transaction(factory) as session:
        return [event.status for event in events_for_certificate(session, certificate_id)]


def test_a_claimed_event_is_not_claimed_again_until_its_lease_expires(session_factory: sessionmaker[Session]) -> None:
    """The lease keeps a second worker off; after a crash (no record) it expires and the row is reclaimed."""
    [event_id] = add_events(session_factory, make_event("cert-1"))
    first = claim(session_factory, "worker-a")
    assert [c.id for c in first] == [event_id]
    assert first[0].series == Series(ScheduleKind.TECHNICAL, 0, T0)
    assert claim(session_factory, "worker-b", seconds=30) == []
    # worker-a "dies"; after its lease ran out, worker-b takes the row over
    taken = claim(session_factory, "worker-b", seconds=62)
    assert [c.id for c in taken] == [event_id]
    # worker-a wakes up: its outcome must not overwrite worker-b's claim
    assert deliver(session_factory, "worker-a", first[0], OutcomeClass.OK, Verdict.DELIVERED) == []
    assert statuses(session_factory, "cert-1") == [OutboxStatus.PENDING]
    assert deliver(session_factory, "worker-b", taken[0], OutcomeClass.OK, Verdict.DELIVERED) == [event_id]
    assert statuses(session_factory, "cert-1") == [OutboxStatus.DELIVERED]
    with transaction(session_factory) as session:
        report = event_report(session, event_id)
    assert report is not None
    assert [a["outcome"] for a in report.attempts] == ["ok"]
    assert report.event["attempts"] == 1 and report.event["claimed_by"] is None


def test_not_yet_due_events_wait(session_factory: sessionmaker[Session]) -> None:
    add_events(session_factory, make_event("cert-1", seconds=10))
    assert claim(session_factory, "w", seconds=5) == []
    assert len(claim(session_factory, "w", seconds=10)) == 1


def test_a_certificates_later_event_waits_for_the_earlier_one(session_factory: sessionmaker[Session]) -> None:
    """Only the first pending event of each certificate is claimable; other certificates go ahead."""
    first, second, other = add_events(
        session_factory,
        make_event("cert-1", EventCode.SKAPAT),
        make_event("cert-1", EventCode.KFSIGN),
        make_event("cert-2", EventCode.SKAPAT),
    )
    claimed = claim(session_factory, "w")
    assert [c.id for c in claimed] == [first, other]
    # a retry keeps the certificate blocked, before and after the retry is due
    deliver(session_factory, "w", claimed[0], OutcomeClass.TIMEOUT, Verdict.RETRY)
    assert claim(session_factory, "w2", seconds=30) == []
    retried = claim(session_factory, "w3", seconds=120)
    assert [c.id for c in retried] == [first, other]  # other's lease, never recorded, ran out too
    # failed for good: the later event goes ahead
    deliver(session_factory, "w3", retried[0], OutcomeClass.VALIDATION_ERROR, Verdict.FAILED, seconds=121)
    assert [c.id for c in claim(session_factory, "w4", seconds=122)] == [second]


def test_batch_claiming_respects_the_limit_and_due_order(session_factory: sessionmaker[Session]) -> None:
    ids = add_events(session_factory, *[make_event(f"cert-{n}", seconds=-n) for n in range(5)])
    claimed = claim(session_factory, "w", limit=3)
    assert {c.id for c in claimed} == set(ids[2:])  # the three that were due first
    assert {c.id for c in claim(session_factory, "w2", limit=3)} == set(ids[:2])


def test_a_newer_edit_or_signing_supersedes_unsent_edits(session_factory: sessionmaker[Session]) -> None:
    """ANDRAT, ANDRAT, SIGNAT: both edits superseded, SKAPAT and SIGNAT stay; a sending edit is kept."""
    skapat, edit1, edit2 = add_events(
        session_factory,
        make_event("cert-1", EventCode.SKAPAT),
        make_event("cert-1", EventCode.ANDRAT, 1),
        make_event("cert-1", EventCode.ANDRAT, 2),
    )
    assert statuses(session_factory, "cert-1") == [OutboxStatus.PENDING, OutboxStatus.SUPERSEDED,
                                                    OutboxStatus.PENDING]
    [signat] = add_events(session_factory, make_event("cert-1", EventCode.SIGNAT, 3))
    with transaction(session_factory) as session:
        stored = events_for_certificate(session, "cert-1")
        report = event_report(session, edit2)
    assert [e.status for e in stored] == [OutboxStatus.PENDING, OutboxStatus.SUPERSEDED,
                                          OutboxStatus.SUPERSEDED, OutboxStatus.PENDING]
    assert report is not None and report.event["superseded_by"] == signat
    # another certificate's edits are untouched; an edit being sent is not superseded
    [other] = add_events(session_factory, make_event("cert-2", EventCode.ANDRAT))
    assert [c.id for c in claim(session_factory, "w")] == [skapat, other]
    add_events(session_factory, make_event("cert-2", EventCode.ANDRAT, 5))
    assert statuses(session_factory, "cert-2") == [OutboxStatus.PENDING, OutboxStatus.PENDING]
    assert edit1 < edit2


def test_the_hold_window_delays_only_first_tries(session_factory: sessionmaker[Session]) -> None:
    add_events(session_factory, make_event("cert-1", EventCode.ANDRAT, 10))
    assert claim(session_factory, "w", seconds=12, hold_until_seconds=2) == []
    claimed = claim(session_factory, "w", seconds=15, hold_until_seconds=10)
    assert len(claimed) == 1
    deliver(session_factory, "w", claimed[0], OutcomeClass.CONNECT_ERROR, Verdict.RETRY, seconds=15)
    # a retry is not held again
    assert len(claim(session_factory, "w", seconds=80, hold_until_seconds=0)) == 1


def test_retry_and_final_outcomes_update_the_row_and_history(session_factory: sessionmaker[Session]) -> None:
    [event_id] = add_events(session_factory, make_event("cert-1"))
    [claimed] = claim(session_factory, "w")
    at = T0 + timedelta(seconds=2)
    state = NextState(Verdict.RETRY, Series(ScheduleKind.ADDRESS, 1, T0), at + timedelta(hours=1))
    with transaction(session_factory) as session:
        record_outcomes(session, "w", [AttemptOutcome(event_id, attempt(OutcomeClass.PLATFORM_NO_ROUTE, at,
                                                                  http_status=500, text="VP004 no route"), state)])
        report = event_report(session, event_id)
    assert report is not None
    assert report.event["status"] == OutboxStatus.PENDING
    assert report.event["next_attempt_at"] == at + timedelta(hours=1)
    assert report.event["schedule_kind"] == ScheduleKind.ADDRESS and report.event["series_attempts"] == 1
    assert report.event["last_error"] == "platform-no-route: HTTP 500: VP004 no route"
    assert report.attempts[0]["http_status"] == 500 and report.attempts[0]["decision"] == "retry-address"
    assert claimed.id == event_id


def test_release_and_finish_unsent(session_factory: sessionmaker[Session]) -> None:
    first, second = add_events(session_factory, make_event("cert-1"), make_event("cert-2"))
    claim(session_factory, "w")
    with transaction(session_factory) as session:
        release(session, "w", [first])
        assert finish_unsent(session, "w", [second], T0, "unit is not integrated") == [second]
        assert finish_unsent(session, "other", [first], T0, "x") == []
    assert [c.id for c in claim(session_factory, "w2", seconds=2)] == [first]
    assert statuses(session_factory, "cert-2") == [OutboxStatus.FAILED]
