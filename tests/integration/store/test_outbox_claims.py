"""Claiming with leases, per-certificate order, superseded edits and guarded recording, on both databases."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from domain.delivery import OutcomeClass
from domain.events import ClaimedEvent
from domain.resend_policy import NextState, ScheduleKind, Series, Verdict
from domain.values import EventCode
from store.outbox import (
    UNKNOWN_TEXT,
    AttemptOutcome,
    OutboxStatus,
    SendingMark,
    claim_due,
    event_report,
    events_for_certificate,
    mark_sending,
    record_outcomes,
    release,
    renew_leases,
)
from store.session import transaction
from tests.integration.store.outbox_helpers import T0, add_events, attempt, make_event

LEASE = timedelta(seconds=60)


def claim(factory: sessionmaker[Session], token: str, seconds: float = 1, limit: int = 10,
          hold_until_seconds: float | None = None) -> list[ClaimedEvent]:
    hold = T0 + timedelta(seconds=hold_until_seconds) if hold_until_seconds is not None else None
    with transaction(factory) as session:
        return claim_due(session, token, T0 + timedelta(seconds=seconds), LEASE, limit, hold)


def deliver(factory: sessionmaker[Session], claimed: ClaimedEvent, outcome: OutcomeClass,
            verdict: Verdict, seconds: float = 2) -> list[int]:
    """Record an attempt made without a ``sending`` mark, under ``claimed``'s claim."""
    at = T0 + timedelta(seconds=seconds)
    state = NextState(verdict, claimed.series, at + timedelta(minutes=1) if verdict is Verdict.RETRY else None)
    with transaction(factory) as session:
        return record_outcomes(session, [AttemptOutcome(claimed, attempt(outcome, at), state)])


def mark(factory: sessionmaker[Session], claimed: ClaimedEvent, seconds: float = 2) -> None:
    """Commit ``claimed``'s ``sending`` attempt."""
    at = T0 + timedelta(seconds=seconds)
    with transaction(factory) as session:
        mark_sending(session, [SendingMark(claimed, "http://127.0.0.1:1/journal", at)])


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
    assert deliver(session_factory, first[0], OutcomeClass.OK, Verdict.DELIVERED) == []
    assert statuses(session_factory, "cert-1") == [OutboxStatus.PENDING]
    assert deliver(session_factory, taken[0], OutcomeClass.OK, Verdict.DELIVERED) == [event_id]
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
    deliver(session_factory, claimed[0], OutcomeClass.TIMEOUT, Verdict.RETRY)
    assert claim(session_factory, "w2", seconds=30) == []
    retried = claim(session_factory, "w3", seconds=120)
    assert [c.id for c in retried] == [first, other]  # other's lease, never recorded, ran out too
    # failed for good: the later event goes ahead
    deliver(session_factory, retried[0], OutcomeClass.VALIDATION_ERROR, Verdict.FAILED, seconds=121)
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
    deliver(session_factory, claimed[0], OutcomeClass.CONNECT_ERROR, Verdict.RETRY, seconds=15)
    # a retry is not held again
    assert len(claim(session_factory, "w", seconds=80, hold_until_seconds=0)) == 1


def test_retry_and_final_outcomes_update_the_row_and_history(session_factory: sessionmaker[Session]) -> None:
    [event_id] = add_events(session_factory, make_event("cert-1"))
    [claimed] = claim(session_factory, "w")
    at = T0 + timedelta(seconds=2)
    state = NextState(Verdict.RETRY, Series(ScheduleKind.ADDRESS, 1, T0), at + timedelta(hours=1))
    with transaction(session_factory) as session:
        record_outcomes(session, [AttemptOutcome(claimed, attempt(OutcomeClass.PLATFORM_NO_ROUTE, at,
                                                                  http_status=500, text="VP004 no route"), state)])
        report = event_report(session, event_id)
    assert report is not None
    assert report.event["status"] == OutboxStatus.PENDING
    assert report.event["next_attempt_at"] == at + timedelta(hours=1)
    assert report.event["schedule_kind"] == ScheduleKind.ADDRESS and report.event["series_attempts"] == 1
    assert report.event["last_error"] == "platform-no-route: HTTP 500: VP004 no route"
    assert report.attempts[0]["http_status"] == 500 and report.attempts[0]["decision"] == "retry-address"
    assert claimed.id == event_id


def test_release_gives_back_and_uncounts_the_claim(session_factory: sessionmaker[Session]) -> None:
    """A released event is due again at once, its unsent mark taken back, and the release does not
    count as a claim without outcome; a release by a claim that is gone changes nothing."""
    first, second = add_events(session_factory, make_event("cert-1"), make_event("cert-2"))
    claimed = {c.id: c for c in claim(session_factory, "w")}
    mark(session_factory, claimed[first])
    with transaction(session_factory) as session:
        assert release(session, [claimed[first]]) == [first]
        assert release(session, [replace(claimed[second], token="someone-else")]) == []
        report = event_report(session, first)
    assert report is not None and report.attempts == []
    [again] = claim(session_factory, "w2", seconds=2)
    assert (again.id, again.claims) == (first, 1)


def test_a_crash_during_the_call_shows_as_unknown_and_the_event_goes_again(
        session_factory: sessionmaker[Session]) -> None:
    """The sending mark is committed before the call; the worker dies; the next claim turns it into
    ``unknown`` and counts the claim; the outcome of the second call completes its own attempt."""
    [event_id] = add_events(session_factory, make_event("cert-1"))
    [first] = claim(session_factory, "worker-a")
    mark(session_factory, first)
    with transaction(session_factory) as session:
        report = event_report(session, event_id)
    assert report is not None
    assert [a["outcome"] for a in report.attempts] == ["sending"]
    # worker-a is killed; its lease (from the claim at 1 s, 60 s) runs out
    assert claim(session_factory, "worker-b", seconds=60) == []
    [second] = claim(session_factory, "worker-b", seconds=63)
    assert second.claims == 2 and second.correlation_id == first.correlation_id
    mark(session_factory, second, seconds=64)
    at = T0 + timedelta(seconds=65)
    with transaction(session_factory) as session:
        assert record_outcomes(session, [AttemptOutcome(second, attempt(OutcomeClass.OK, at),
                                                        NextState(Verdict.DELIVERED, second.series, None),
                                                        marked=True)]) == [event_id]
        report = event_report(session, event_id)
    assert report is not None
    assert [(a["outcome"], a["decision"], a["claimed_by"]) for a in report.attempts] == [
        ("unknown", "retry", "worker-a"), ("ok", "delivered", "worker-b")]
    assert report.attempts[0]["text"] == UNKNOWN_TEXT
    assert {a["correlation_id"] for a in report.attempts} == {first.correlation_id}
    assert (report.event["status"], report.event["attempts"], report.event["open_claims"]) == (
        OutboxStatus.DELIVERED, 2, 0)


def test_each_event_has_its_own_correlation_id_beside_the_requests(session_factory: sessionmaker[Session]) -> None:
    """Every queued event gets a new, unique correlation id; the causing request's is kept beside it."""
    ids = add_events(session_factory, make_event("cert-1"), make_event("cert-2"))
    claimed = claim(session_factory, "w")
    assert len({c.correlation_id for c in claimed}) == 2
    assert [c.event.request_correlation_id for c in claimed] == [
        "corr-cert-1-SKAPAT-0", "corr-cert-2-SKAPAT-0"]
    with transaction(session_factory) as session:
        stored = events_for_certificate(session, "cert-1")
        report = event_report(session, ids[0])
    assert stored[0].correlation_id == claimed[0].correlation_id
    assert report is not None and report.event["request_correlation_id"] == "corr-cert-1-SKAPAT-0"


def test_leases_are_renewed_only_for_the_claims_still_held(session_factory: sessionmaker[Session]) -> None:
    """A renewal keeps a held event from being claimed by others; a stale claim renews nothing."""
    add_events(session_factory, make_event("cert-1"))
    [held] = claim(session_factory, "w")
    with transaction(session_factory) as session:
        assert renew_leases(session, [held], T0 + timedelta(seconds=200)) == [held.id]
        assert renew_leases(session, [replace(held, token="stale")], T0 + timedelta(seconds=900)) == []
    assert claim(session_factory, "w2", seconds=150) == []
    assert len(claim(session_factory, "w2", seconds=201)) == 1


def test_units_whose_journal_is_busy_are_skipped(session_factory: sessionmaker[Session]) -> None:
    """``skip`` leaves those units' events for a later claim."""
    busy, free = add_events(session_factory, make_event("cert-1", unit="SE2321000016-B001"),
                            make_event("cert-2", unit="SE2321000016-F001"))
    with transaction(session_factory) as session:
        claimed = claim_due(session, "w", T0 + timedelta(seconds=1), LEASE, 10, None, {"SE2321000016-B001"})
    assert [c.id for c in claimed] == [free]
    assert [c.id for c in claim(session_factory, "w2")] == [busy]


def test_one_record_of_many_outcomes_gives_each_event_its_own_values(session_factory: sessionmaker[Session]) -> None:
    """Outcomes recorded together (one statement on PostgreSQL) land on their own rows: a delivered
    marked call, a retried marked call and a final failure without a call, side by side; an outcome
    whose claim was taken over changes nothing, not even the new holder's ``sending`` mark."""
    ids = add_events(session_factory, make_event("cert-1"), make_event("cert-2"), make_event("cert-3"),
                     make_event("cert-4"))
    claimed = claim(session_factory, "w")
    for held in (claimed[0], claimed[1], claimed[3]):
        mark(session_factory, held)
    at = T0 + timedelta(seconds=3)
    delivered, retried, failed, stale = claimed
    stale = replace(stale, token="someone-else")
    outcomes = [
        AttemptOutcome(delivered, attempt(OutcomeClass.OK, at), NextState(Verdict.DELIVERED, delivered.series, None),
                       marked=True),
        AttemptOutcome(retried, attempt(OutcomeClass.TECHNICAL_ERROR, at, http_status=503, text="busy"),
                       NextState(Verdict.RETRY, Series(ScheduleKind.TECHNICAL, 1, T0), at + timedelta(minutes=5)),
                       marked=True),
        AttemptOutcome(failed, attempt(OutcomeClass.VALIDATION_ERROR, at, text="bad"),
                       NextState(Verdict.FAILED, failed.series, None)),
        AttemptOutcome(stale, attempt(OutcomeClass.OK, at), NextState(Verdict.DELIVERED, stale.series, None),
                       marked=True),  # the holder's own sending mark stays as it is
    ]
    with transaction(session_factory) as session:
        assert sorted(record_outcomes(session, outcomes)) == sorted(ids[:3])
        reports = [event_report(session, event_id) for event_id in ids]
    rows = [(r.event["status"], r.event["attempts"], r.event["last_outcome"], r.event["claimed_by"],
             [(a["outcome"], a["http_status"], a["text"]) for a in r.attempts]) for r in reports if r is not None]
    assert rows == [
        (OutboxStatus.DELIVERED, 1, "ok", None, [("ok", None, None)]),
        (OutboxStatus.PENDING, 1, "technical-error", None, [("technical-error", 503, "busy")]),
        (OutboxStatus.FAILED, 1, "validation-error", None, [("validation-error", None, "bad")]),
        (OutboxStatus.PENDING, 0, None, "w", [("sending", None, None)]),
    ]
    assert reports[1] is not None and reports[1].event["next_attempt_at"] == at + timedelta(minutes=5)
    assert reports[1].event["last_error"] == "technical-error: HTTP 503: busy"
    assert reports[2] is not None and reports[2].event["finished_at"] == at
