"""Question counts of a certificate, as status updates report them (contracts.md §7.4).

A status update carries two ``Arenden`` blocks: ``skickadeFragor`` (questions care sent the
recipient) and ``mottagnaFragor`` (questions received from the recipient). Each counts, over the
certificate's questions only (answers and reminders are skipped), ``totalt`` and exactly one of
``hanterade`` (the question is handled), ``besvarade`` (an answer to it exists) or ``ejBesvarade``.

Events that need counts carry them in ``payload["counts"]`` in the shape ``to_payload`` writes,
keyed by the contract's own element names so that the status-update writer needs no mapping::

    {"skickadeFragor": {"totalt": 1, "ejBesvarade": 0, "besvarade": 1, "hanterade": 0},
     "mottagnaFragor": {"totalt": 2, "ejBesvarade": 1, "besvarade": 0, "hanterade": 1}}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.arenden import ArendeStatus, ConversationEntry, Direction

SENT_BY_CARE = "skickadeFragor"
RECEIVED = "mottagnaFragor"
_FIELDS = (
    ("total", "totalt"),
    ("unanswered", "ejBesvarade"),
    ("answered", "besvarade"),
    ("handled", "hanterade"),
)


@dataclass(frozen=True, slots=True)
class Counts:
    """One ``core:Arenden`` block: ``total`` = ``unanswered`` + ``answered`` + ``handled``."""

    total: int = 0
    unanswered: int = 0
    answered: int = 0
    handled: int = 0


@dataclass(frozen=True, slots=True)
class QuestionCounts:
    """Both blocks of a status update: questions sent by care and questions received from the recipient."""

    sent_by_care: Counts = Counts()
    received: Counts = Counts()


NO_QUESTIONS = QuestionCounts()


def question_counts(arenden: Iterable[ConversationEntry]) -> QuestionCounts:
    """Count the questions among ``arenden`` (all of one certificate) per direction and state.

    A handled question counts as handled even if it was answered first; an unhandled question
    counts as answered when any stored answer names it, whatever its own status says.
    """
    arenden = list(arenden)
    answered_ids = {
        a.answer_to.message_id
        for a in arenden
        if a.is_answer and a.answer_to is not None
    }
    tallies = {
        Direction.FROM_CARE: [0, 0, 0, 0],
        Direction.FROM_RECIPIENT: [0, 0, 0, 0],
    }
    for arende in arenden:
        if not arende.is_question:
            continue
        tally = tallies[arende.direction]
        tally[0] += 1
        if arende.status == ArendeStatus.HANDLED:
            tally[3] += 1
        elif arende.message_id in answered_ids:
            tally[2] += 1
        else:
            tally[1] += 1
    return QuestionCounts(
        sent_by_care=Counts(*tallies[Direction.FROM_CARE]),
        received=Counts(*tallies[Direction.FROM_RECIPIENT]),
    )


def to_payload(counts: QuestionCounts) -> dict[str, dict[str, int]]:
    """The counts as an event's ``payload["counts"]`` (see the module docstring)."""
    return {
        SENT_BY_CARE: {
            wire: getattr(counts.sent_by_care, name) for name, wire in _FIELDS
        },
        RECEIVED: {wire: getattr(counts.received, name) for name, wire in _FIELDS},
    }


def from_payload(data: Mapping[str, Any] | None) -> QuestionCounts:
    """The inverse of ``to_payload``; a missing block (or no counts at all) reads as zeros.

    Events other than the question events carry no counts, and the contract sends all four zero
    for them, so absence means zero rather than an error.

    Raises:
        TypeError: a count is not an integer.
    """

    def block(key: str) -> Counts:
        values = (data or {}).get(key) or {}
        numbers = {name: values.get(wire, 0) for name, wire in _FIELDS}
        if any(isinstance(n, bool) or not isinstance(n, int) for n in numbers.values()):
            raise TypeError(f"counts in {key} must be integers")
        return Counts(**numbers)

    return QuestionCounts(sent_by_care=block(SENT_BY_CARE), received=block(RECEIVED))
