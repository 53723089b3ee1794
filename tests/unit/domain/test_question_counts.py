"""Tests for domain.question_counts: hand-built ärenden, counted as contracts.md §7.4 says."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from domain.arenden import Amne, Arende, ArendeStatus, Direction, MessageReference
from domain.question_counts import (
    NO_QUESTIONS,
    Counts,
    QuestionCounts,
    from_payload,
    question_counts,
    to_payload,
)
from tests.builders import make_arende


def _question(message_id: str, direction: Direction = Direction.FROM_RECIPIENT, **changes: Any) -> Arende:
    return make_arende(message_id=message_id, direction=direction, **changes)


def _answer(message_id: str, to: str, direction: Direction = Direction.FROM_CARE) -> Arende:
    return make_arende(
        message_id=message_id,
        direction=direction,
        status=ArendeStatus.ANSWERED,
        answer_to=MessageReference(to),
        kompletteringar=(),
        deadline=None,
    )


def _reminder(message_id: str, of: str) -> Arende:
    return make_arende(message_id=message_id, amne=Amne.PAMINN, reminder_of=of, kompletteringar=())


def test_no_arenden_count_zero_everywhere() -> None:
    """A certificate without ärenden has all eight counts zero."""
    assert question_counts([]) == NO_QUESTIONS == QuestionCounts(Counts(0, 0, 0, 0), Counts(0, 0, 0, 0))


def test_each_question_counts_once_in_its_direction_and_state() -> None:
    """Received: one open, one answered, one handled; sent by care: one open, one answered by FK."""
    arenden = [
        _question("fk-open"),
        _question("fk-answered"),
        _answer("care-answer", to="fk-answered"),
        _question("fk-handled", status=ArendeStatus.HANDLED),
        _question("care-open", Direction.FROM_CARE, amne=Amne.KONTKT, kompletteringar=()),
        _question("care-answered", Direction.FROM_CARE, amne=Amne.OVRIGT, kompletteringar=()),
        _answer("fk-answer", to="care-answered", direction=Direction.FROM_RECIPIENT),
    ]
    assert question_counts(arenden) == QuestionCounts(
        sent_by_care=Counts(total=2, unanswered=1, answered=1, handled=0),
        received=Counts(total=3, unanswered=1, answered=1, handled=1),
    )


def test_reminders_and_answers_are_not_questions() -> None:
    """A reminder and an answer add nothing; the reminded question stays unanswered."""
    arenden = [_question("q"), _reminder("r", of="q"), _reminder("r2", of="q")]
    assert question_counts(arenden).received == Counts(total=1, unanswered=1)


def test_handled_wins_over_answered() -> None:
    """A question that was answered and then handled counts as handled only."""
    arenden = [_question("q", status=ArendeStatus.HANDLED), _answer("a", to="q")]
    assert question_counts(arenden).received == Counts(total=1, handled=1)


def test_answered_follows_the_answers_not_the_status_field() -> None:
    """An OPEN question with a stored answer counts answered; an ANSWERED one without, unanswered."""
    arenden = [_question("q1"), _answer("a1", to="q1"), _question("q2", status=ArendeStatus.ANSWERED)]
    assert question_counts(arenden).received == Counts(total=2, unanswered=1, answered=1)


def test_payload_uses_the_contract_names_and_round_trips() -> None:
    """to_payload writes skickadeFragor/mottagnaFragor with totalt..hanterade; from_payload reads it back."""
    counts = QuestionCounts(Counts(1, 0, 1, 0), Counts(4, 1, 2, 1))
    payload = to_payload(counts)
    assert payload == {
        "skickadeFragor": {"totalt": 1, "ejBesvarade": 0, "besvarade": 1, "hanterade": 0},
        "mottagnaFragor": {"totalt": 4, "ejBesvarade": 1, "besvarade": 2, "hanterade": 1},
    }
    assert from_payload(payload) == counts


def test_missing_counts_read_as_zero() -> None:
    """Events without counts (SKAPAT, SIGNAT...) report zeros, as the contract wants."""
    assert from_payload(None) == NO_QUESTIONS
    assert from_payload({"mottagnaFragor": {"totalt": 2, "ejBesvarade": 2}}) == QuestionCounts(
        received=Counts(total=2, unanswered=2)
    )


@pytest.mark.parametrize("bad", ["1", 1.5, True, None])
def test_payload_with_a_non_integer_count_is_refused(bad: object) -> None:
    """A corrupted payload fails loudly instead of sending wrong counts."""
    with pytest.raises(TypeError):
        from_payload({"skickadeFragor": {"totalt": bad}})


def test_replace_keeps_counts_consistent() -> None:
    """total is the sum of the three states for any mix (a property of the counting rule)."""
    arenden = [_question(f"q{n}", status=[ArendeStatus.OPEN, ArendeStatus.HANDLED][n % 2]) for n in range(5)]
    arenden.append(_answer("a", to="q0"))
    arenden.append(replace(_question("q9"), direction=Direction.FROM_CARE))
    for counts in (question_counts(arenden).received, question_counts(arenden).sent_by_care):
        assert counts.total == counts.unanswered + counts.answered + counts.handled
