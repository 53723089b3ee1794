"""The four onward requests carry what the facts sheet says, where it says, and read back as written."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from lxml import etree

from contracts.answers import ContractAnswer, envelope_bytes
from contracts.register_certificate.v3.request import build_register_certificate, read_registration
from contracts.register_certificate.v3.response import ALREADY_EXISTS, read_answer, says_already_registered
from contracts.register_certificate.v3.response import write_answer as write_register_answer
from contracts.revoke_certificate.v2.request import REASON_TEXTS, build_revoke_certificate, read_revocation
from contracts.revoke_certificate.v2.response import says_already_revoked
from contracts.send_certificate_to_recipient.v2.request import build_send_certificate, read_send
from contracts.send_certificate_to_recipient.v2.response import says_already_sent, says_revoked
from contracts.send_message_to_care.v2.request import read_request, write_request
from contracts.send_message_to_recipient.v2.request import build_message_to_recipient, read_message
from contracts.send_message_to_recipient.v2.response import says_already_received, says_not_unique
from domain.arenden import Amne, MessageReference
from domain.certificate_types import load_default_registry
from domain.onward import Actor, OutgoingMessage
from domain.values import HsaId, ResultCode, RevokeReason
from tests import builders
from tests import envelopes as m

NS = {"reg": m.REG_NS, "scr": m.SCR_NS, "rc": m.RC_NS, "smtr": m.SMTR_NS, "core": m.CORE_NS, "types": m.TYPES_NS,
      "gw": "urn:intygsgateway:certificate:extension:1"}
AT = datetime(2026, 11, 21, 9, 15, 30, tzinfo=UTC)  # 10:15:30 in Stockholm
ACTOR = Actor(HsaId("SE2321000016-P009"), "Sam Skötare")
SIGNED = builders.make_signed_certificate()
TYPE = load_default_registry().lookup("LISJP", "b64ea353-e8f6-4832-b563-fc7d46f29548")


def _text(element: etree._Element, path: str) -> str | None:
    found = element.find(path, NS)
    return None if found is None else (found.text or "")


def test_registration_is_the_signed_certificate_without_statuses_sent_when_signed() -> None:
    """RegisterCertificate: the unit as intygs-id root, both times the signing time, no status, no svarPa."""
    body = build_register_certificate(replace(SIGNED, sent_at=None, sent_to="FKASSA"), TYPE)
    assert _text(body, "reg:intyg/core:intygs-id/types:root") == SIGNED.unit_id.value
    assert _text(body, "reg:intyg/core:signeringstidpunkt") == "2026-11-21T10:00:00"
    assert _text(body, "reg:intyg/core:skickatTidpunkt") == "2026-11-21T10:00:00"
    assert body.find("reg:intyg/core:status", NS) is None
    assert body.find("reg:svarPa", NS) is None
    assert _text(body, "reg:intyg/core:typ/types:code") == "LISJP"
    assert _text(body, "reg:intyg/core:skapadAv/core:personal-id/types:extension") == "SE2321000016-P001"
    assert [s.get("id") for s in body.findall("reg:intyg/core:svar", NS)] == [a.id for a in SIGNED.content]


def test_completion_names_the_question_it_answers() -> None:
    """svarPa comes first, with the question's meddelande-id and referens-id in the core namespace."""
    body = build_register_certificate(SIGNED, TYPE, MessageReference("fk-q-1", "fk-ref"))
    assert etree.QName(body[0]).localname == "svarPa"
    assert _text(body, "reg:svarPa/core:meddelande-id") == "fk-q-1"
    assert _text(body, "reg:svarPa/core:referens-id") == "fk-ref"


def test_registration_reads_back_the_patient_and_the_unit() -> None:
    """The recipient simulator reads whose certificate it is and which unit (care's address) issued it."""
    found = read_registration(build_register_certificate(SIGNED, TYPE))
    assert (found.certificate_id, found.patient_id, found.unit_id, found.type_code) == (
        SIGNED.id, SIGNED.patient.person_id.digits, SIGNED.unit_id.value, "LISJP")


def test_send_names_recipient_sender_and_time() -> None:
    """SendCertificateToRecipient: mottagare with KV_PART and the name; hosPersonal at the certificate's unit."""
    body = build_send_certificate(SIGNED, "FKASSA", "Försäkringskassan", ACTOR, AT)
    assert _text(body, "scr:skickatTidpunkt") == "2026-11-21T10:15:30"
    assert _text(body, "scr:mottagare/types:code") == "FKASSA"
    assert _text(body, "scr:mottagare/types:displayName") == "Försäkringskassan"
    assert _text(body, "scr:skickatAv/scr:hosPersonal/core:personal-id/types:extension") == "SE2321000016-P009"
    assert _text(body, "scr:skickatAv/scr:hosPersonal/core:enhet/core:enhets-id/types:extension") == \
        SIGNED.unit_id.value
    assert read_send(body).recipient == "FKASSA"


def test_revocation_carries_the_description_and_the_reason_code_at_the_wildcard() -> None:
    """meddelande is the description; gw:makulering holds the code and description after skickatAv."""
    revoked = replace(builders.make_revoked_certificate(), revoke_reason_code=RevokeReason.ANNAT_ALLVARLIGT_FEL,
                      revoke_reason="Fel diagnoskod i fält 3")
    body = build_revoke_certificate(revoked, ACTOR, AT)
    assert _text(body, "rc:meddelande") == "Fel diagnoskod i fält 3"
    assert etree.QName(body[-1]).localname == "makulering"
    assert _text(body, "gw:makulering/gw:orsak") == "ANNAT_ALLVARLIGT_FEL"
    assert _text(body, "gw:makulering/gw:beskrivning") == "Fel diagnoskod i fält 3"
    assert read_revocation(body).text == "Fel diagnoskod i fält 3"


def test_revocation_without_a_description_says_the_reason_in_words() -> None:
    """FEL_PATIENT needs no description: the recipient still reads why in meddelande."""
    revoked = replace(builders.make_revoked_certificate(), revoke_reason=None)
    body = build_revoke_certificate(revoked, ACTOR, AT)
    assert _text(body, "rc:meddelande") == REASON_TEXTS[RevokeReason.FEL_PATIENT]
    assert body.find("gw:makulering/gw:beskrivning", NS) is None


def test_question_and_answer_to_the_recipient() -> None:
    """A question keeps its deadline and heading; an answer has svarPa and never a deadline."""
    question = OutgoingMessage("care-1", AT, Amne.KONTKT, "Kontakt", "Ring oss", ACTOR, "2021005521",
                               deadline=date(2026, 12, 1))
    body = build_message_to_recipient(SIGNED, question)
    assert _text(body, "smtr:logiskAdressMottagare") == "2021005521"
    assert _text(body, "smtr:amne/types:displayName") == "Kontakt"
    assert _text(body, "smtr:sistaDatumForSvar") == "2026-12-01"
    assert body.find("smtr:svarPa", NS) is None
    answer = replace(question, message_id="care-2", heading=None,
                     answer_to=MessageReference("fk-q-1", None), deadline=date(2026, 12, 1))
    body = build_message_to_recipient(SIGNED, answer)
    assert _text(body, "smtr:svarPa/core:meddelande-id") == "fk-q-1"
    assert body.find("smtr:sistaDatumForSvar", NS) is None
    assert body.find("smtr:rubrik", NS) is None
    read = read_message(body)
    assert (read.message_id, read.answer_to, read.amne) == ("care-2", "fk-q-1", "KONTKT")


def test_send_message_to_care_writes_what_it_reads() -> None:
    """The simulator's SendMessageToCare is the inverse of the gateway's reader."""
    message = builders.make_incoming_message(reference_id="fk-ref", contact_info=("Handläggare 1",))
    assert read_request(write_request(message), message.logical_address) == message


def test_repeat_texts_are_recognised_as_written_by_the_incumbent() -> None:
    """The idempotent answers' texts, spelled as the incumbent's archive spells them, case aside."""
    assert says_already_registered("Certificate already exists")
    assert says_already_registered(" certificate ALREADY exists")
    assert not says_already_registered("Certificate with type: LISJP does not support version: 2.0")
    assert says_already_sent("Certificate 'abc' already sent to 'FKASSA'.")
    assert says_revoked("Certificate 'abc' has been revoked.") and not says_already_sent("has been revoked")
    assert says_already_revoked("Certificate abc is already revoked.")
    assert says_already_received("This message has already been received.")
    assert says_not_unique("MeddelandeId is not globally unique")


def test_the_keepers_answer_reads_back() -> None:
    """What the simulator writes, the client reads: INFO with the text."""
    answer = read_answer(envelope_bytes(write_register_answer(ResultCode.INFO, ALREADY_EXISTS)))
    assert answer == ContractAnswer(ResultCode.INFO, None, ALREADY_EXISTS)
