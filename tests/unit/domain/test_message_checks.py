"""Tests for domain.message_checks: every SendMessageToCare rule, one case each, and all problems together."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from domain import result_texts as texts
from domain.arenden import (
    Amne,
    Arende,
    ArendeStatus,
    Direction,
    Komplettering,
    MessageReference,
    fingerprint,
)
from domain.certificates import Certificate
from domain.message_checks import check_message, is_resend
from domain.result_texts import ResultText, result_for
from domain.values import CertificateStatus, ErrorId, PersonIdKind
from tests.builders import make_arende, make_incoming_message, make_signed_certificate

CERTIFICATE = make_signed_certificate()
QUESTION = make_arende(CERTIFICATE, message_id="fk-q-1")
CARE_QUESTION = make_arende(
    CERTIFICATE,
    message_id="care-q-1",
    direction=Direction.FROM_CARE,
    amne=Amne.KONTKT,
    kompletteringar=(),
)
REMINDER = make_arende(
    CERTIFICATE,
    message_id="fk-r-1",
    amne=Amne.PAMINN,
    reminder_of="fk-q-1",
    kompletteringar=(),
)
ARENDEN = (QUESTION, CARE_QUESTION, REMINDER)


def _ids(
    message_changes: dict[str, object],
    certificate: Certificate | None = CERTIFICATE,
    arenden: tuple[Arende, ...] = ARENDEN,
) -> list[str]:
    message = make_incoming_message(
        CERTIFICATE, **{"message_id": "fk-new", **message_changes}
    )
    header = certificate.header if certificate is not None else None
    return [problem.text_id for problem in check_message(message, header, arenden)]


def _answer(**changes: object) -> dict[str, object]:
    """An FK answer to care's KONTKT question: the valid starting point for answer rules."""
    values: dict[str, object] = {
        "amne": "KONTKT",
        "answer_to": MessageReference("care-q-1", "r"),
        "kompletteringar": (),
        "deadline": None,
    }
    return {**values, **changes}


def _reminder(**changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "amne": "PAMINN",
        "reminder_of": "fk-q-1",
        "kompletteringar": (),
    }
    return {**values, **changes}


@pytest.mark.parametrize(
    "changes",
    [
        {},
        _answer(),
        _reminder(),
        {"amne": "OVRIGT", "kompletteringar": ()},
        _reminder(deadline=None),
    ],
    ids=["question", "answer", "reminder", "ovrigt", "reminder-without-deadline"],
)
def test_valid_messages_pass(changes: dict[str, object]) -> None:
    """A question, an answer to care's question and a reminder of an open question break no rule."""
    assert _ids(changes) == []


CASES: list[tuple[str, dict[str, object], ResultText]] = [
    ("empty-message-id", {"message_id": "  "}, texts.MESSAGE_ID_MISSING),
    ("unknown-amne", {"amne": "ARENDE", "kompletteringar": ()}, texts.AMNE_UNKNOWN),
    (
        "komplettering-without-komplt",
        {"amne": "OVRIGT"},
        texts.KOMPLETTERING_NOT_KOMPLT,
    ),
    ("paminn-without-id", _reminder(reminder_of=None), texts.REMINDER_ID_MISSING),
    ("paminn-with-blank-id", _reminder(reminder_of=" "), texts.REMINDER_ID_MISSING),
    ("paminn-of-unknown", _reminder(reminder_of="nope"), texts.REMINDER_OF_UNKNOWN),
    (
        "paminn-of-a-reminder",
        _reminder(reminder_of="fk-r-1"),
        texts.REMINDER_OF_UNKNOWN,
    ),
    (
        "paminnelse-id-on-question",
        {"reminder_of": "fk-q-1"},
        texts.REMINDER_ID_NOT_PAMINN,
    ),
    (
        "answer-to-unknown",
        _answer(answer_to=MessageReference("nope")),
        texts.ANSWER_TO_UNKNOWN,
    ),
    (
        "paminn-with-svarpa-is-a-reminder",
        _answer(answer_to=MessageReference("fk-r-1"), amne="PAMINN", reminder_of=None),
        texts.REMINDER_ID_MISSING,
    ),
    (
        "answer-with-deadline",
        _answer(deadline=CERTIFICATE.created_at.date()),
        texts.ANSWER_WITH_DEADLINE,
    ),
    ("answer-other-amne", _answer(amne="OVRIGT"), texts.ANSWER_AMNE_MISMATCH),
    ("unknown-sender", {"sender_part": "HSAVARD"}, texts.SENDER_UNKNOWN),
    ("patient-mismatch", {"person_id": "191212121212"}, texts.MESSAGE_PATIENT_MISMATCH),
    (
        "patient-root-mismatch",
        {"person_id_root": PersonIdKind.PERSONNUMMER.value},
        texts.MESSAGE_PATIENT_MISMATCH,
    ),
]


@pytest.mark.parametrize(
    ("changes", "expected"), [(c, e) for _, c, e in CASES], ids=[n for n, _, _ in CASES]
)
def test_each_rule_refuses_with_its_text(
    changes: dict[str, object], expected: ResultText
) -> None:
    """Breaking one rule gives exactly that rule's problem."""
    assert _ids(changes) == [expected.id]


def test_answering_a_reminder_is_refused() -> None:
    """Reminders cannot be answered: svarPa naming a reminder is its own problem."""
    assert _ids(_answer(answer_to=MessageReference("fk-r-1"))) == [
        texts.ANSWER_TO_REMINDER.id
    ]


def test_an_answer_to_an_answered_question_is_refused() -> None:
    """A question has at most one answer."""
    earlier = make_arende(
        CERTIFICATE,
        message_id="fk-a-0",
        amne=Amne.KONTKT,
        answer_to=MessageReference("care-q-1"),
        status=ArendeStatus.ANSWERED,
        kompletteringar=(),
        deadline=None,
    )
    assert _ids(_answer(), arenden=(*ARENDEN, earlier)) == [texts.ANSWER_EXISTS.id]


def test_reminder_of_a_question_in_another_certificate_is_unknown() -> None:
    """References are looked up among this certificate's ärenden only."""
    assert _ids(_reminder(), arenden=(CARE_QUESTION,)) == [texts.REMINDER_OF_UNKNOWN.id]


@pytest.mark.parametrize(
    ("certificate", "expected"),
    [
        (None, texts.MESSAGE_CERTIFICATE_UNKNOWN),
        (
            replace(
                CERTIFICATE,
                status=CertificateStatus.DRAFT,
                signed_at=None,
                sent_at=None,
            ),
            texts.MESSAGE_CERTIFICATE_NOT_SIGNED,
        ),
        (replace(CERTIFICATE, test_certificate=True), texts.MESSAGE_TEST_CERTIFICATE),
        (
            replace(CERTIFICATE, status=CertificateStatus.REVOKED),
            texts.MESSAGE_CERTIFICATE_REVOKED,
        ),
    ],
    ids=["unknown", "not-signed", "test-certificate", "revoked"],
)
def test_certificate_rules(
    certificate: Certificate | None, expected: ResultText
) -> None:
    """The certificate must be held here, signed, real and not revoked."""
    assert _ids({}, certificate=certificate) == [expected.id]


def test_signed_but_not_sent_certificate_may_get_messages() -> None:
    """Signing is what the rule asks for (the recipient may have it from the patient)."""
    assert (
        _ids(
            {},
            certificate=replace(
                CERTIFICATE, status=CertificateStatus.SIGNED, sent_at=None
            ),
        )
        == []
    )


def test_revoked_certificate_answers_application_error_but_validation_wins() -> None:
    """Revoked alone is APPLICATION_ERROR; with a malformed message too, VALIDATION_ERROR."""
    revoked = replace(CERTIFICATE, status=CertificateStatus.REVOKED)
    alone = check_message(make_incoming_message(CERTIFICATE), revoked.header, ())
    assert result_for(alone)[0] is ErrorId.APPLICATION_ERROR
    both = check_message(
        make_incoming_message(CERTIFICATE, amne="X", kompletteringar=()), revoked.header, ()
    )
    assert result_for(both)[0] is ErrorId.VALIDATION_ERROR


def test_every_problem_is_reported_at_once() -> None:
    """An answer breaking four rules gets four problems, and the text names each of them."""
    message = make_incoming_message(
        CERTIFICATE,
        amne="OVRIGT",
        answer_to=MessageReference("care-q-1"),
        reminder_of="fk-q-1",
        sender_part="NOBODY",
        kompletteringar=(Komplettering("1", None, "x"),),
    )
    problems = check_message(message, CERTIFICATE.header, ARENDEN)
    assert [p.text_id for p in problems] == [
        texts.KOMPLETTERING_NOT_KOMPLT.id,
        texts.REMINDER_ID_NOT_PAMINN.id,
        texts.ANSWER_WITH_DEADLINE.id,
        texts.SENDER_UNKNOWN.id,
        texts.ANSWER_AMNE_MISMATCH.id,
    ]
    _, text = result_for(problems)
    assert all(problem.text in text for problem in problems)


def test_unknown_certificate_skips_reference_checks() -> None:
    """Without the certificate, an unknown reminder target is not reported on top."""
    assert _ids(_reminder(reminder_of="nope"), certificate=None, arenden=()) == [
        texts.MESSAGE_CERTIFICATE_UNKNOWN.id
    ]


def test_texts_never_echo_the_patient() -> None:
    """A patient mismatch names the certificate, never a personnummer."""
    message = make_incoming_message(CERTIFICATE, person_id="191212121212")
    (problem,) = check_message(message, CERTIFICATE.header, ARENDEN)
    assert (
        "191212121212" not in problem.text
        and CERTIFICATE.patient.person_id.digits not in problem.text
    )


def test_resend_is_the_same_content_and_reuse_is_not() -> None:
    """is_resend compares fingerprints: same message again yes, another text or a missing hash no."""
    message = make_incoming_message(CERTIFICATE)
    stored = make_arende(CERTIFICATE, content_hash=fingerprint(message))
    assert is_resend(replace(message, logical_address="another-route"), stored)
    assert not is_resend(replace(message, text="Annan text"), stored)
    assert not is_resend(message, replace(stored, content_hash=None))


def test_fingerprint_keeps_the_digest_format_of_stored_messages() -> None:
    """Digests already stored in content_hash were made from dataclasses.asdict; the fast path must match.

    A message with kompletteringar, a reference, a deadline and contact info covers every kind of
    field (nested dataclasses, tuples, dates, enums).
    """
    import hashlib
    import json
    from dataclasses import asdict

    message = make_incoming_message(
        CERTIFICATE,
        answer_to=MessageReference("care-q-1", "care-ref-1"),
        contact_info=("Handläggare Ett", "010-123 45 67"),
        deadline=date(2026, 12, 24),
    )
    fields = asdict(replace(message, logical_address=""))
    text = json.dumps(fields, sort_keys=True, default=str, ensure_ascii=False)
    assert fingerprint(message) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert fingerprint(message) != fingerprint(replace(message, kompletteringar=message.kompletteringar[:1]))
