"""Manual resend selection, caps and the resend log; the outbox summary operators read."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from domain.delivery import OutcomeClass
from domain.events import OutboundContract
from domain.resend_policy import NextState, ScheduleKind, Series, Verdict
from domain.resend_request import ResendRefusalReason, ResendRefused, ResendSelection
from domain.values import EventCode, HsaId
from store.outbox import (
    AttemptOutcome,
    OutboxStatus,
    ResendRequestRow,
    SelectionCount,
    claim_due,
    event_report,
    outbox_summary,
    preview,
    record_outcomes,
    resend,
)
from store.session import transaction
from tests.integration.store.outbox_helpers import T0, add_events, attempt, make_event

OTHER_GIVER = "SE2321000016-00011"  # its id starts with the first care giver's id: not a prefix match
OTHER_UNIT = "SE2321000016-00011-UNIT"


def settle(factory: sessionmaker[Session], verdicts: dict[int, Verdict]) -> None:
    """Claim every due event and record ``verdicts`` (FAILED by default) for them."""
    now = T0 + timedelta(hours=2)
    with transaction(factory) as session:
        claimed = claim_due(session, "t", now, timedelta(minutes=1), 100)
        outcomes = []
        for item in claimed:
            verdict = verdicts.get(item.id, Verdict.FAILED)
            outcome = {Verdict.DELIVERED: OutcomeClass.OK, Verdict.FAILED: OutcomeClass.APPLICATION_ERROR,
                       Verdict.RETRY: OutcomeClass.CONNECT_ERROR}[verdict]
            next_at = now + timedelta(minutes=1) if verdict is Verdict.RETRY else None
            outcomes.append(AttemptOutcome(item, attempt(outcome, now), NextState(verdict, item.series, next_at)))
        record_outcomes(session, outcomes)


@pytest.fixture
def events(session_factory: sessionmaker[Session]) -> dict[str, int]:
    ids = add_events(
        session_factory,
        make_event("cert-failed"),
        make_event("cert-delivered"),
        make_event("cert-pending"),
        make_event("cert-other-giver", unit=OTHER_UNIT, care_giver=OTHER_GIVER, seconds=3600),
    )
    named = dict(zip(["failed", "delivered", "pending", "other"], ids, strict=True))
    settle(session_factory, {named["delivered"]: Verdict.DELIVERED, named["pending"]: Verdict.RETRY})
    return named


def test_care_giver_selects_by_its_id_not_a_prefix(session_factory: sessionmaker[Session],
                                                   events: dict[str, int]) -> None:
    with transaction(session_factory) as session:
        counts = preview(session, ResendSelection(care_giver=HsaId("se2321000016-0001")))
    # the other care giver's id starts with this one's: it must not be selected
    assert counts == [
        SelectionCount("SE2321000016-1000", "FAILED", 1),
        SelectionCount("SE2321000016-1000", "PENDING", 1),
    ]


def test_resend_rearms_failed_events_keeps_their_time_and_logs_who_and_why(
        session_factory: sessionmaker[Session], events: dict[str, int]) -> None:
    now = T0 + timedelta(days=40)
    with transaction(session_factory) as session:
        result = resend(session, ResendSelection(unit=HsaId("SE2321000016-1000")), now, "op", "journal fixed")
    assert (result.selected, result.rearmed, result.already_pending) == (1, 1, 1)
    with transaction(session_factory) as session:
        report = event_report(session, events["failed"])
        logged = session.scalars(select(ResendRequestRow)).one()
        # due at once; a new series with its own 30 days
        claimed = claim_due(session, "w", now, timedelta(minutes=1), 10)
    assert report is not None
    assert report.event["status"] == OutboxStatus.PENDING and report.event["occurred_at"] == T0
    assert report.event["series_started_at"] == now and report.event["series_attempts"] == 0
    assert len(report.attempts) == 1  # the history is kept
    assert (logged.requested_by, logged.reason, logged.selected, logged.rearmed) == ("op", "journal fixed", 1, 1)
    assert logged.selection["unit"] == "SE2321000016-1000"
    assert {c.id for c in claimed} == {events["failed"], events["pending"]}
    assert next(c for c in claimed if c.id == events["failed"]).series == Series(ScheduleKind.TECHNICAL, 0, now)


def test_a_pending_event_is_never_queued_twice(session_factory: sessionmaker[Session], events: dict[str, int]) -> None:
    with transaction(session_factory) as session:
        result = resend(session, ResendSelection(event_ids=(events["pending"],), include_delivered=True), T0, "op", "x")
    assert (result.selected, result.rearmed, result.already_pending) == (0, 0, 1)


def test_delivered_events_only_on_request_and_time_windows(session_factory: sessionmaker[Session],
                                                           events: dict[str, int]) -> None:
    window = ResendSelection(occurred_from=T0, occurred_to=T0 + timedelta(minutes=1))
    with_delivered = ResendSelection(occurred_from=T0, occurred_to=T0 + timedelta(minutes=1), include_delivered=True)
    with transaction(session_factory) as session:
        assert resend(session, window, T0, "op", "x").rearmed == 1
        assert resend(session, with_delivered, T0, "op", "x").rearmed == 1  # the delivered one; failed is pending now
        later = preview(session, ResendSelection(occurred_from=T0 + timedelta(minutes=30)))
    assert later == [SelectionCount(OTHER_UNIT, "FAILED", 1)]


def test_the_cap_refuses_a_broad_selection_and_nothing_changes(session_factory: sessionmaker[Session],
                                                               events: dict[str, int]) -> None:
    everything = ResendSelection(occurred_from=T0 - timedelta(days=1), include_delivered=True)
    with pytest.raises(ResendRefused) as refused, transaction(session_factory) as session:
        resend(session, everything, T0, "op", "x", cap=2)
    assert (refused.value.reason, refused.value.selected, refused.value.cap) == (ResendRefusalReason.OVER_CAP, 3, 2)
    with transaction(session_factory) as session:
        assert resend(session, everything, T0, "op", "x", cap=3).rearmed == 3
    with pytest.raises(ResendRefused) as empty, transaction(session_factory) as session:
        resend(session, ResendSelection(include_delivered=True), T0, "op", "x")
    assert empty.value.reason is ResendRefusalReason.NO_CRITERIA


def test_summary_counts_by_status_unit_and_outcome(session_factory: sessionmaker[Session],
                                                   events: dict[str, int]) -> None:
    add_events(session_factory, make_event("cert-1", EventCode.SKAPAT, 7200), make_event("cert-2", EventCode.ANDRAT),
               make_event("cert-2", EventCode.ANDRAT, 1))
    with transaction(session_factory) as session:
        summary = outbox_summary(session)
    assert summary.counts == {"PENDING": 3, "DELIVERED": 1, "FAILED": 2, "SUPERSEDED": 1, "PURGED": 0, "CANCELLED": 0}
    assert summary.oldest_pending == T0
    units = {line.unit: (line.pending, line.failed, line.oldest_pending) for line in summary.units}
    assert units == {"SE2321000016-1000": (3, 1, T0), OTHER_UNIT: (0, 1, None)}
    outcomes = {line.outcome: (line.pending, line.failed) for line in summary.outcomes}
    assert outcomes == {"-": (2, 0), "connect-error": (1, 0), "application-error": (0, 2)}
    assert summary.destinations == []  # status updates only: no onward destination
    assert [(c.contract, c.pending, c.failed) for c in summary.contracts] == [("CertificateStatusUpdateForCare", 3, 2)]


def test_a_failed_send_is_not_re_armed_but_a_failed_revocation_is(session_factory: sessionmaker[Session]) -> None:
    """A registration that carried a send returned its certificate to SIGNED when it failed: sending
    again is ``certificate send``, which checks the recipient and marks it SENDING. A failed
    revocation or message, or the archive's own registration, is resent like a status update."""
    onward = {contract: replace(make_event(f"cert-{contract.value}"), contract=contract, recipient=recipient,
                                logical_address="2021005521")
              for contract, recipient in ((OutboundContract.REGISTER, "FKASSA"), (OutboundContract.SEND, "FKASSA"),
                                          (OutboundContract.REVOKE, "FKASSA"), (OutboundContract.MESSAGE, "FKASSA"))}
    archive = replace(make_event("cert-archive"), contract=OutboundContract.REGISTER, logical_address="5565594230")
    ids = add_events(session_factory, *onward.values(), archive)
    settle(session_factory, {})  # all FAILED
    with transaction(session_factory) as session:
        result = resend(session, ResendSelection(event_ids=tuple(ids)), T0 + timedelta(hours=3), "anna", "fixed")
        statuses = {event_id: event_report(session, event_id).event["status"] for event_id in ids}  # type: ignore[union-attr]
    assert (result.selected, result.rearmed) == (3, 3)
    register, send, revoke, message, registration_at_archive = ids
    assert {event_id: status.value for event_id, status in statuses.items()} == {
        register: "FAILED", send: "FAILED", revoke: "PENDING", message: "PENDING", registration_at_archive: "PENDING"}
