"""Content checked as the ``svar`` it becomes: well-formed through the hardened parser, valid against xsd/."""

from __future__ import annotations

import pytest

from domain.certificates import Answer, AnswerPart
from gateway.content import ContentFault, ContentValidator

TYPES = "urn:riv:clinicalprocess:healthcond:certificate:types:3"
CV = (f"<types:cv xmlns:types='{TYPES}'><types:code>HELT_NEDSATT</types:code>"
      "<types:codeSystem>KV_FKMU_0003</types:codeSystem></types:cv>")
CHECK = ContentValidator()


def _one(part: AnswerPart, answer_id: str = "32", instance: int | None = None) -> list[tuple[str, str | None, str]]:
    return [(p.answer_id, p.part_id, p.fault.value) for p in CHECK.problems([Answer(answer_id, instance, (part,))])]


@pytest.mark.parametrize(
    "part",
    [
        AnswerPart("1.1", "Hosta sedan två veckor"),
        AnswerPart("32.1", "", xml=CV),
        AnswerPart("32.1", "", xml="\ufeff" + CV),  # a BOM a text editor left in front
        AnswerPart("32.2", "", xml=f"<t:datePeriod xmlns:t='{TYPES}'><t:start>2026-11-20</t:start></t:datePeriod>"),
        AnswerPart("6.1", "", xml="<cv xmlns='urn:example'><code>NEDSATT_HALFTEN</code></cv>"),  # another namespace
        AnswerPart("6.2", "text and", xml=CV),  # mixed: text and a typed value
    ],
    ids=["text", "cv", "bom", "date-period", "foreign-namespace", "mixed"],
)
def test_content_as_journal_systems_and_editors_send_it_is_accepted(part: AnswerPart) -> None:
    """Plain text, typed values of the types schema, and extensions in other namespaces pass."""
    assert _one(part, answer_id=part.id.split(".")[0]) == []


@pytest.mark.parametrize(
    ("part", "fault"),
    [
        (AnswerPart("32.1", "", xml="<unclosed>"), ContentFault.NOT_XML),
        (AnswerPart("32.1", "", xml="<types:cv><types:code>X</types:code></types:cv>"), ContentFault.NOT_XML),
        (AnswerPart("32.1", "", xml='<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>'), ContentFault.HOSTILE_XML),
        (AnswerPart("32.1", "", xml="<a>" * 80 + "</a>" * 80), ContentFault.HOSTILE_XML),
        (AnswerPart("32.1", "", xml="<code>X</code>"), ContentFault.SCHEMA),  # no namespace: not allowed
        (AnswerPart("32.1", "", xml=f"<t:date xmlns:t='{TYPES}'>2024-13-01</t:date>"), ContentFault.SCHEMA),
        (AnswerPart("32.1", "", xml=f"<t:cv xmlns:t='{TYPES}'><t:codeSystem>K</t:codeSystem></t:cv>"),
         ContentFault.SCHEMA),  # a cv without its code
        (AnswerPart("32.one", "x"), ContentFault.SCHEMA),  # a delsvar id outside the contract's pattern
        (AnswerPart("32.1", "", xml="<core:note xmlns:core='urn:riv:clinicalprocess:healthcond:certificate:3'/>"),
         ContentFault.SCHEMA),  # the core namespace is not the wildcard's
    ],
    ids=["unclosed", "undeclared-prefix", "entity", "too-deep", "unqualified", "bad-date", "cv-without-code",
         "part-id", "core-namespace"],
)
def test_content_that_would_break_a_status_update_is_refused(part: AnswerPart, fault: ContentFault) -> None:
    """Each problem names the answer (and the part when its XML cannot be read) and why."""
    [(answer_id, part_id, found)] = _one(part)
    assert (answer_id, found) == ("32", fault.value)
    assert part_id == (part.id if fault is not ContentFault.SCHEMA else None)


def test_every_answer_is_checked_and_question_ids_too() -> None:
    """Problems of several answers are all reported, in order; a question id that is not a number is one."""
    problems = CHECK.problems([
        Answer("1", None, (AnswerPart("1.1", "ok"),)),
        Answer("x", None, (AnswerPart("1.1", "bad question id"),)),
        Answer("3", 2, (AnswerPart("3.1", "", xml="<unclosed>"),)),
    ])
    assert [(p.answer_id, p.fault.value) for p in problems] == [("x", "schema"), ("3", "not-xml")]
    assert all(p.reason for p in problems)
