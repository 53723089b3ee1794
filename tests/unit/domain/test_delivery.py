"""Tests for domain.delivery: one decision per outcome class, and what an attempt keeps of a text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.delivery import TEXT_LIMIT, Attempt, Decision, OutcomeClass, clip, decide
from domain.resend_policy import ScheduleKind, Schedules, Series, Verdict, after_attempt
from domain.resend_schedule import DEFAULT_ADDRESS, DEFAULT_TECHNICAL, parse_schedule


@pytest.mark.parametrize(
    ("outcome", "decision"),
    [
        (OutcomeClass.OK, Decision.DELIVERED),
        (OutcomeClass.INFO, Decision.DELIVERED),
        (OutcomeClass.REPEAT, Decision.DELIVERED),
        (OutcomeClass.VALIDATION_ERROR, Decision.FAILED),
        (OutcomeClass.APPLICATION_ERROR, Decision.FAILED),
        (OutcomeClass.REVOKED, Decision.FAILED),
        (OutcomeClass.TECHNICAL_ERROR, Decision.RETRY),
        (OutcomeClass.SOAP_FAULT, Decision.RETRY),
        (OutcomeClass.PLATFORM_NO_ROUTE, Decision.RETRY_ADDRESS),
        (OutcomeClass.PLATFORM_NO_ACCESS, Decision.RETRY_ADDRESS),
        (OutcomeClass.HTTP_ERROR, Decision.RETRY),
        (OutcomeClass.EMPTY_BODY, Decision.RETRY),
        (OutcomeClass.NON_SOAP_BODY, Decision.RETRY),
        (OutcomeClass.TIMEOUT, Decision.RETRY),
        (OutcomeClass.CONNECT_ERROR, Decision.RETRY),
        (OutcomeClass.TLS_ERROR, Decision.RETRY),
        (OutcomeClass.RESPONSE_TOO_LARGE, Decision.RETRY),
        (OutcomeClass.SENDING, Decision.PENDING),
        (OutcomeClass.UNKNOWN, Decision.RETRY),
        (OutcomeClass.UNBUILDABLE, Decision.FAILED),
        (OutcomeClass.NOT_INTEGRATED, Decision.FAILED),
        (OutcomeClass.CLAIM_LIMIT, Decision.FAILED),
        (OutcomeClass.CANCELLED, Decision.CANCELLED),
    ],
)
def test_each_outcome_class_has_the_issue_decision(outcome: OutcomeClass, decision: Decision) -> None:
    """The table of issue 6 item 4, class by class (the parameters cover the whole closed set)."""
    assert decide(outcome) is decision


def test_the_closed_set_is_exactly_the_issue_list() -> None:
    """The answers' fifteen classes and the idempotent repeat, the oversize answer, our refusal to send
    over plain http, and the engine's own six, spelled as in the history column and docs/resend.md."""
    assert [c.value for c in OutcomeClass] == [
        "ok", "info", "repeat", "validation-error", "application-error", "revoked", "technical-error",
        "soap-fault", "platform-no-route", "platform-no-access", "insecure-route", "http-error", "empty-body",
        "non-soap-body", "timeout", "connect-error", "tls-error", "response-too-large",
        "sending", "unknown", "unbuildable", "not-integrated", "claim-limit", "cancelled",
    ]  # fmt: skip


def test_a_cancelled_delivery_is_final_without_being_a_failure() -> None:
    """An onward delivery of a revoked certificate is cancelled: no retry, and not counted as failed."""
    at = datetime(2026, 11, 20, tzinfo=UTC)
    cancelled = Attempt(at, OutcomeClass.CANCELLED, Decision.CANCELLED, None, None, None, None, None, "c", 0.0)
    schedules = Schedules(parse_schedule(DEFAULT_TECHNICAL), parse_schedule(DEFAULT_ADDRESS))
    state = after_attempt(cancelled, Series(ScheduleKind.TECHNICAL, 0, at), schedules)
    assert (state.verdict, state.next_attempt_at) == (Verdict.CANCELLED, None)


def test_an_attempt_in_flight_has_no_next_state() -> None:
    """``sending`` is not an outcome: asking the resend policy what follows it is a programming error."""
    at = datetime(2026, 11, 20, tzinfo=UTC)
    sending = Attempt(at, OutcomeClass.SENDING, Decision.PENDING, "http://j", None, None, None, None, "c", 0.0)
    schedules = Schedules(parse_schedule(DEFAULT_TECHNICAL), parse_schedule(DEFAULT_ADDRESS))
    with pytest.raises(ValueError, match="in flight"):
        after_attempt(sending, Series(ScheduleKind.TECHNICAL, 0, at), schedules)


def test_malformed_soap_fault_fails_at_once() -> None:
    """A fault that says our message was malformed is not retried: the same bytes would fail again."""
    assert decide(OutcomeClass.SOAP_FAULT, malformed=True) is Decision.FAILED


def test_malformed_is_refused_for_anything_but_a_fault() -> None:
    """Only a SOAP fault can carry that verdict; anything else is a caller's mistake."""
    with pytest.raises(ValueError, match="only a SOAP fault"):
        decide(OutcomeClass.TIMEOUT, malformed=True)


def test_clip_keeps_the_start_of_a_text() -> None:
    """Attempts keep the first TEXT_LIMIT characters; empty text is no text."""
    assert clip("x" * (TEXT_LIMIT + 50)) == "x" * TEXT_LIMIT
    assert clip("short") == "short"
    assert clip("") is None
    assert clip(None) is None
