"""``decide``: a group of received messages gets the answers one transaction per message would give.

Plain Python: the certificates and stored ärenden are built in memory, as the use case reads them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from domain import result_texts as texts
from domain.arenden import Amne, ArendeStatus, Direction, MessageReference
from domain.certificates import Certificate
from domain.values import EventCode
from tests.builders import make_arende, make_incoming_message, make_signed_certificate
from usecases.receive_message import (
    GroupDecision,
    MessageAccepted,
    MessageRefused,
    ReceivedMessage,
    decide,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
CERTIFICATE = make_signed_certificate()
OTHER = replace(make_signed_certificate(), id="other-certificate")
CARE_QUESTION = make_arende(
    CERTIFICATE, message_id="care-q-1", direction=Direction.FROM_CARE, amne=Amne.KONTKT, kompletteringar=()
)


def _question(message_id: str, certificate: Certificate = CERTIFICATE) -> ReceivedMessage:
    return ReceivedMessage(make_incoming_message(certificate, message_id=message_id), f"corr-{message_id}")


def _answer(message_id: str) -> ReceivedMessage:
    message = make_incoming_message(
        CERTIFICATE,
        message_id=message_id,
        amne="KONTKT",
        answer_to=MessageReference("care-q-1", "r"),
        kompletteringar=(),
        deadline=None,
    )
    return ReceivedMessage(message, f"corr-{message_id}")


def _decide(*deliveries: ReceivedMessage) -> GroupDecision:
    certificates = {CERTIFICATE.id: CERTIFICATE.header, OTHER.id: OTHER.header}
    conversations = {CERTIFICATE.id: [CARE_QUESTION], OTHER.id: []}
    return decide(deliveries, certificates, {}, conversations, NOW)


def _text_ids(outcome: object) -> list[str]:
    assert isinstance(outcome, MessageRefused)
    return [problem.text_id for problem in outcome.problems]


def test_a_message_twice_in_one_group_is_stored_once_and_the_second_is_a_resend() -> None:
    first, again = _question("fk-q-1"), _question("fk-q-1")
    decision = _decide(first, again)
    assert [v.outcome for v in decision.verdicts] == [MessageAccepted(), MessageAccepted(already_received=True)]
    assert [a.message_id for a in decision.arenden] == ["fk-q-1"]
    assert [e.code for e in decision.events] == [EventCode.NYFRFM]


def test_a_reused_id_later_in_the_group_is_refused() -> None:
    first = _question("fk-q-1")
    reused = ReceivedMessage(replace(first.message, text="Helt annan fråga"), "corr-2")
    decision = _decide(first, reused)
    assert decision.verdicts[0].outcome == MessageAccepted()
    assert _text_ids(decision.verdicts[1].outcome) == [texts.MESSAGE_ID_REUSED.id]
    assert len(decision.arenden) == len(decision.events) == 1


def test_a_second_answer_in_the_group_sees_the_first() -> None:
    decision = _decide(_answer("fk-a-1"), _answer("fk-a-2"))
    assert decision.verdicts[0].outcome == MessageAccepted()
    assert _text_ids(decision.verdicts[1].outcome) == [texts.ANSWER_EXISTS.id]
    assert decision.answered == ["care-q-1"]
    (event,) = decision.events
    assert event.code is EventCode.NYSVFM
    assert event.payload["counts"]["skickadeFragor"] == {"totalt": 1, "ejBesvarade": 0, "besvarade": 1, "hanterade": 0}


def test_counts_in_each_event_include_the_messages_before_it_and_stay_per_certificate() -> None:
    decision = _decide(_question("fk-q-1"), _question("fk-q-9", OTHER), _question("fk-q-2"))
    received = [(e.certificate_id, e.payload["counts"]["mottagnaFragor"]["totalt"]) for e in decision.events]
    assert received == [(CERTIFICATE.id, 1), (OTHER.id, 1), (CERTIFICATE.id, 2)]
    assert [e.request_correlation_id for e in decision.events] == ["corr-fk-q-1", "corr-fk-q-9", "corr-fk-q-2"]


def test_a_refused_message_leaves_the_others_of_its_group_alone() -> None:
    unknown = ReceivedMessage(make_incoming_message(CERTIFICATE, message_id="fk-x", certificate_id="no-such"), "c")
    decision = _decide(_question("fk-q-1"), unknown, _question("fk-q-2"))
    outcomes = [v.outcome for v in decision.verdicts]
    assert outcomes[0] == outcomes[2] == MessageAccepted()
    assert _text_ids(outcomes[1]) == [texts.MESSAGE_CERTIFICATE_UNKNOWN.id]
    assert [a.message_id for a in decision.arenden] == ["fk-q-1", "fk-q-2"]


def test_the_stored_conversation_is_not_changed() -> None:
    conversations = {CERTIFICATE.id: [CARE_QUESTION]}
    decide([_answer("fk-a-1")], {CERTIFICATE.id: CERTIFICATE.header}, {}, conversations, NOW)
    assert conversations == {CERTIFICATE.id: [CARE_QUESTION]}
    assert CARE_QUESTION.status is ArendeStatus.OPEN
