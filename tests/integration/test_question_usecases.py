"""Care's ärende operations on a real database: answer, mark handled, ask; events, counts, PDL, refusals.

The lifecycle use case tests' fixtures are reused: the demo directory, a settable clock, and a
certificate stored directly in the state each test needs.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from domain.arenden import Amne, ArendeStatus, DeliveryState, Direction, MessageReference
from domain.lifecycle import Action, LifecycleRefused, RefusalReason
from domain.question_counts import Counts, QuestionCounts, from_payload
from domain.values import CertificateStatus, EventCode, HsaId
from store import arenden, outbox
from tests.builders import make_arende, make_signed_certificate
from tests.integration.test_lifecycle_usecases import (
    CID,
    LAKARE,
    _activities,
    _events,
    _store,
    deps,
)
from usecases import questions
from usecases.lifecycle import LifecycleDeps

__all__ = ["deps"]  # the fixture, re-exported for pytest

ADMIN = HsaId("SE2321000016-P002")
SIGNED = {"signed_at": make_signed_certificate().signed_at, "sent_at": make_signed_certificate().sent_at}


def _sent(deps: LifecycleDeps, status: CertificateStatus = CertificateStatus.SENT) -> None:
    _store(deps, status, sent_to="FKASSA", **SIGNED)


def _add(deps: LifecycleDeps, **changes: object) -> None:
    certificate = make_signed_certificate(CID)
    with deps.transaction() as session:
        arenden.add_arende(session, make_arende(certificate, **changes))


def _arenden(deps: LifecycleDeps) -> dict[str, object]:
    with deps.transaction() as session:
        return {a.message_id: a for a in arenden.arenden_for_certificate(session, CID)}


def _counts(deps: LifecycleDeps) -> QuestionCounts:
    with deps.transaction() as session:
        status_updates = [e for e in outbox.events_for_certificate(session, CID) if not e.is_onward]
        return from_payload(status_updates[-1].payload["counts"])


def _messages_onward(deps: LifecycleDeps) -> list[tuple[str, str | None, str | None, dict[str, object]]]:
    """The certificate's SendMessageToRecipient events: code, recipient, address, the message."""
    with deps.transaction() as session:
        return [(e.code.value, e.recipient, e.logical_address, e.payload["message"])
                for e in outbox.events_for_certificate(session, CID) if e.is_onward]


def _refusal(call: Callable[[], object]) -> tuple[RefusalReason, Action]:
    with pytest.raises(LifecycleRefused) as caught:
        call()
    return caught.value.reason, caught.value.action


def test_answering_the_recipients_question(deps: LifecycleDeps) -> None:
    """The answer is stored from care, the question becomes answered (its reminder handled), HANFRFM with
    counts, Skriva."""
    _sent(deps)
    _add(deps, amne=Amne.KONTKT, kompletteringar=())
    _add(deps, message_id="fk-r", amne=Amne.PAMINN, reminder_of="fk-q-1", kompletteringar=())
    answer = questions.answer_question(deps, CID, "fk-q-1", ADMIN, "Här är svaret", "c1")
    stored = _arenden(deps)
    assert stored[answer.message_id] == answer
    assert (answer.direction, answer.amne, answer.author, answer.answer_to) == (
        Direction.FROM_CARE, Amne.KONTKT, ADMIN, MessageReference("fk-q-1", "fk-ref-1"),
    )  # fmt: skip
    assert stored["fk-q-1"].status is ArendeStatus.ANSWERED  # type: ignore[attr-defined]
    assert stored["fk-r"].status is ArendeStatus.HANDLED  # type: ignore[attr-defined]
    assert _events(deps) == [(EventCode.HANFRFM, ADMIN.value)]
    assert answer.delivery is DeliveryState.PENDING
    [(code, recipient, address, message)] = _messages_onward(deps)
    assert (code, recipient, address) == ("HANFRFM", "FKASSA", "2021005521")
    assert (message["messageId"], message["answerTo"], message["recipientAddress"]) == (
        answer.message_id, {"messageId": "fk-q-1", "referenceId": "fk-ref-1"}, "2021005521")
    assert _counts(deps) == QuestionCounts(received=Counts(total=1, answered=1))
    assert _activities(deps) == [("Skriva", ADMIN.value)]


def test_marking_handled_by_direction(deps: LifecycleDeps) -> None:
    """The recipient's question handled is HANFRFM, care's own is HANFRFV; handled twice is refused."""
    _sent(deps)
    _add(deps)
    _add(deps, message_id="care-q", direction=Direction.FROM_CARE, amne=Amne.OVRIGT, kompletteringar=())
    _add(deps, message_id="fk-r", amne=Amne.PAMINN, reminder_of="fk-q-1", kompletteringar=())
    handled = questions.mark_question_handled(deps, CID, "fk-q-1", LAKARE, "c1")
    assert (handled.status, handled.handled_by) == (ArendeStatus.HANDLED, LAKARE)
    assert _arenden(deps)["fk-r"].status is ArendeStatus.HANDLED  # type: ignore[attr-defined]
    questions.mark_question_handled(deps, CID, "care-q", LAKARE, "c2")
    assert [code for code, _ in _events(deps)] == [EventCode.HANFRFM, EventCode.HANFRFV]
    assert _counts(deps) == QuestionCounts(Counts(total=1, handled=1), Counts(total=1, handled=1))
    assert _refusal(lambda: questions.mark_question_handled(deps, CID, "care-q", LAKARE, "c3")) == (
        RefusalReason.QUESTION_HANDLED, Action.HANDLE_QUESTION,
    )  # fmt: skip
    assert len(_events(deps)) == 2


def test_asking_the_recipient(deps: LifecycleDeps) -> None:
    """Care's question is stored open, to the certificate's recipient, with NYFRFV and counts."""
    _sent(deps)
    asked = questions.ask_question(deps, CID, LAKARE, Amne.AVSTMN, "Möte", "När kan vi ses?", "c1")
    assert (asked.direction, asked.status, asked.recipient, asked.sender_part) == (
        Direction.FROM_CARE, ArendeStatus.OPEN, "FKASSA", "HSVARD",
    )  # fmt: skip
    assert _arenden(deps) == {asked.message_id: asked}
    assert _events(deps) == [(EventCode.NYFRFV, LAKARE.value)]
    [(code, recipient, address, message)] = _messages_onward(deps)
    assert (code, recipient, address, message["amne"], message["heading"]) == (
        "NYFRFV", "FKASSA", "2021005521", "AVSTMN", "Möte")
    assert message["author"] == {"hsaId": LAKARE.value, "name": "Ann Läkare"}
    assert _counts(deps) == QuestionCounts(sent_by_care=Counts(total=1, unanswered=1))


@pytest.mark.parametrize(
    ("arrange", "call", "reason"),
    [
        ("none", lambda d: questions.answer_question(d, CID, "nope", LAKARE, "x", "c"),
         RefusalReason.QUESTION_NOT_FOUND),
        ("care", lambda d: questions.answer_question(d, CID, "care-q", LAKARE, "x", "c"),
         RefusalReason.QUESTION_NOT_ANSWERABLE),
        ("answered", lambda d: questions.answer_question(d, CID, "fk-q-1", LAKARE, "x", "c"),
         RefusalReason.QUESTION_ANSWERED),
        ("handled", lambda d: questions.answer_question(d, CID, "fk-q-1", LAKARE, "x", "c"),
         RefusalReason.QUESTION_HANDLED),
        ("question", lambda d: questions.answer_question(d, CID, "fk-q-1", LAKARE, " ", "c"),
         RefusalReason.TEXT_MISSING),
        ("question", lambda d: questions.answer_question(d, CID, "fk-r", LAKARE, "x", "c"),
         RefusalReason.QUESTION_IS_REMINDER),
        ("komplt", lambda d: questions.answer_question(d, CID, "fk-q-1", LAKARE, "x", "c"),
         RefusalReason.COMPLETION_REQUIRED),
        ("none", lambda d: questions.ask_question(d, CID, LAKARE, Amne.KOMPLT, None, "x", "c"),
         RefusalReason.AMNE_NOT_ALLOWED),
        ("none", lambda d: questions.ask_question(d, CID, LAKARE, Amne.PAMINN, None, "x", "c"),
         RefusalReason.AMNE_NOT_ALLOWED),
        ("none", lambda d: questions.ask_question(d, "nope", LAKARE, Amne.OVRIGT, None, "x", "c"),
         RefusalReason.CERTIFICATE_NOT_FOUND),
        ("none", lambda d: questions.ask_question(d, CID, HsaId("SE2321000016-NOBODY"), Amne.OVRIGT, None, "x", "c"),
         RefusalReason.USER_UNKNOWN),
    ],
    ids=["unknown", "care-question", "answered", "handled", "no-text", "reminder", "answer-komplt", "komplt",
         "paminn", "no-certificate", "no-user"],
)
def test_refusals_write_nothing(
    deps: LifecycleDeps, arrange: str, call: Callable[[LifecycleDeps], object], reason: RefusalReason
) -> None:
    """Each refusal names its reason, and no ärende, event or PDL record is written."""
    _sent(deps)
    if arrange != "none":
        _add(deps, **({} if arrange == "komplt" else {"amne": Amne.KONTKT, "kompletteringar": ()}))
        _add(deps, message_id="fk-r", amne=Amne.PAMINN, reminder_of="fk-q-1", kompletteringar=())
    if arrange == "care":
        _add(deps, message_id="care-q", direction=Direction.FROM_CARE, amne=Amne.OVRIGT, kompletteringar=())
    if arrange == "answered":
        _add(deps, message_id="a", answer_to=MessageReference("fk-q-1"), kompletteringar=(), deadline=None)
    if arrange == "handled":
        with deps.transaction() as session:
            arenden.mark_handled(session, "fk-q-1", None, make_signed_certificate().created_at)
    before = _arenden(deps)
    assert _refusal(lambda: call(deps))[0] is reason
    assert _arenden(deps) == before
    assert (_events(deps), _activities(deps)) == ([], [])


@pytest.mark.parametrize("status", [CertificateStatus.SIGNED, CertificateStatus.REVOKED])
def test_asking_needs_a_sent_certificate_and_revoked_takes_nothing(
    deps: LifecycleDeps, status: CertificateStatus
) -> None:
    """Care asks only about a sent certificate; on a revoked one every ärende operation is refused."""
    _sent(deps, status)
    _add(deps)
    assert _refusal(lambda: questions.ask_question(deps, CID, LAKARE, Amne.OVRIGT, None, "x", "c"))[0] is (
        RefusalReason.WRONG_STATUS
    )
    if status is CertificateStatus.REVOKED:
        for call in (
            lambda: questions.answer_question(deps, CID, "fk-q-1", LAKARE, "x", "c"),
            lambda: questions.mark_question_handled(deps, CID, "fk-q-1", LAKARE, "c"),
        ):
            assert _refusal(call)[0] is RefusalReason.WRONG_STATUS
    assert _events(deps) == []
