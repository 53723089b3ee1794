"""SendMessageToCare v2 end to end: HTTP on loopback, Spyne, the XSDs, the rules and the database.

The certificate is made the way a journal system and a physician make it: CreateDraftCertificate over
SOAP, then the lifecycle use cases sign and send it. zeep, built from the gateway's ``?wsdl``,
delivers Försäkringskassan's messages. Certificates in states that are awkward to reach (a test
certificate, a plain draft) are stored directly. Refusals are posted as raw SOAP: HTTP 200 with
the contract's ERROR result and nothing stored.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import requests
import structlog
from lxml import etree
from zeep import Client
from zeep.plugins import HistoryPlugin

from domain import result_texts as texts
from domain.arenden import Amne, ArendeStatus, Direction
from domain.certificates import Certificate
from domain.question_counts import Counts, QuestionCounts, from_payload
from domain.values import CertificateStatus, EventCode, HsaId
from gateway.validation import schema_for_wsdl
from store import arenden, certificates, outbox
from store.session import transaction
from tests import send_message_to_care as smtc
from tests.builders import CONTENT, make_signed_certificate
from tests.concurrency import at_once
from tests.envelopes import create_draft_envelope
from tests.integration.gateway_server import (
    Gateway,
    demo_gateway_deps,
    plain_session,
    running,
    zeep_client,
)
from usecases import lifecycle, questions

SMTC_NS = smtc.SMTC_NS
CORE_NS = "urn:riv:clinicalprocess:healthcond:certificate:3"
RIVTA_PATH = "/clinicalprocess/healthcond/certificate/SendMessageToCare/2/rivtabp21"
INCUMBENT_PATH = "/services/send-message-to-care/v2.0"
CREATE_DRAFT_PATH = "/clinicalprocess/healthcond/certificate/CreateDraftCertificate/3/rivtabp21"
INTERACTION = ("clinicalprocess-healthcond-certificate/{}interactions/SendMessageToCareInteraction/"
               "SendMessageToCareInteraction_2.0_RIVTABP21.wsdl")
OUR_WSDL = Path(__file__).resolve().parents[2] / "xsd" / INTERACTION.format("")
LAKARE = HsaId("SE2321000016-P001")

pytestmark = pytest.mark.integration


@pytest.fixture
def gateway(db_url: str) -> Iterator[Gateway]:
    _, deps = demo_gateway_deps(db_url, validation_persons=())
    with running(deps, db_url) as gateway:
        yield gateway



def _sent_certificate(gateway: Gateway) -> str:
    """A LISJP certificate for 191212121212: created over SOAP, signed and sent by the physician."""
    status, envelope, _ = gateway.post(create_draft_envelope(), path=CREATE_DRAFT_PATH)
    assert status == 200
    certificate_id = envelope.findtext(".//{urn:riv:clinicalprocess:healthcond:certificate:types:3}extension")
    assert certificate_id
    deps = gateway.lifecycle_deps()
    lifecycle.update_content(deps, certificate_id, LAKARE, CONTENT, "test-edit")
    lifecycle.sign(deps, certificate_id, LAKARE, "test-sign")
    sent = lifecycle.send(deps, certificate_id, LAKARE, "test-send")
    assert sent.status is CertificateStatus.SENDING
    with transaction(gateway.factory) as session:  # FK accepted the registration (no worker runs here)
        assert certificates.accept_sends(session, {certificate_id}, datetime.now(UTC)) == [certificate_id]
    return certificate_id


def _stored(gateway: Gateway, certificate: Certificate) -> Certificate:
    with transaction(gateway.factory) as session:
        certificates.add_certificate(session, certificate)
    return certificate


def _response_schema() -> Any:
    official = os.environ.get("RIVTA_OFFICIAL_SCHEMAS")
    return schema_for_wsdl(Path(official) / INTERACTION.format("schemas/") if official else OUR_WSDL)


def _result(envelope: etree._Element) -> dict[str, str | None]:
    assert not _response_schema().violations([], envelope[0][0]), etree.tostring(envelope)
    result = envelope.find(f".//{{{SMTC_NS}}}result")
    assert result is not None
    return {
        "code": result.findtext(f"{{{CORE_NS}}}resultCode"),
        "error_id": result.findtext(f"{{{CORE_NS}}}errorId"),
        "text": result.findtext(f"{{{CORE_NS}}}resultText"),
    }


def _post(gateway: Gateway, body: bytes, path: str = RIVTA_PATH) -> dict[str, str | None]:
    status, envelope, _ = gateway.post(body, path=path)
    assert status == 200
    return _result(envelope)


def _assert_refused(gateway: Gateway, body: bytes, *expected: texts.ResultText) -> None:
    before = gateway.row_counts()
    result = _post(gateway, body)
    assert result["code"] == "ERROR"
    present = {text.error_id for text in expected}
    assert result["error_id"] == next(e for e in texts.ERROR_PRECEDENCE if e in present).value
    for text in expected:
        assert text.sv.split("{")[0] in (result["text"] or ""), (text.id, result["text"])
    assert gateway.row_counts() == before


def _zeep(gateway: Gateway) -> tuple[Client, HistoryPlugin, requests.Session]:
    session = plain_session()
    history = HistoryPlugin()  # type: ignore[no-untyped-call]
    return zeep_client(f"{gateway.url}{RIVTA_PATH}?wsdl", session, [history]), history, session


def test_zeep_delivers_question_reminder_and_answer_with_everything_stored(gateway: Gateway) -> None:
    """A KOMPLT question, its reminder and FK's answer to care's question: OK each, rows, counts, events."""
    certificate_id = _sent_certificate(gateway)
    client, history, session = _zeep(gateway)
    header = {"LogicalAddress": "SE2321000016-1000"}

    def deliver(**arguments: Any) -> str:
        response = client.service.SendMessageToCare(
            _soapheaders=header, **smtc.zeep_arguments(certificate_id=certificate_id, **arguments)
        )
        received = history.last_received
        assert received is not None
        _result(received["envelope"])  # valid against the official schema
        return str(response.result.resultCode)

    with structlog.testing.capture_logs() as logs:
        assert deliver(message_id="fk-q-1", kompletteringar=(("1", None, "Beskriv"), ("6", 2, "Period"))) == "OK"
        assert (
            deliver(message_id="fk-r-1", amne="PAMINN", reminder_of="fk-q-1", kompletteringar=(), deadline="2024-03-08")
            == "OK"
        )
        asked = questions.ask_question(
            gateway.lifecycle_deps(), certificate_id, LAKARE, Amne.KONTKT, "Kontakt", "Ring mig", "c-1"
        )
        assert (
            deliver(message_id="fk-a-1", amne="KONTKT", answer_to=asked.message_id, kompletteringar=(), deadline=None)
            == "OK"
        )
        assert (
            deliver(message_id="fk-a-1", amne="KONTKT", answer_to=asked.message_id, kompletteringar=(), deadline=None)
            == "INFO"
        )
    session.close()
    assert "191212121212" not in repr(logs)

    with transaction(gateway.factory) as db:
        stored = {a.message_id: a for a in arenden.arenden_for_certificate(db, certificate_id)}
        events = outbox.events_for_certificate(db, certificate_id)
    question, reminder, answer = stored["fk-q-1"], stored["fk-r-1"], stored["fk-a-1"]
    assert len(stored) == 4
    assert (question.status, question.amne, question.direction) == (
        ArendeStatus.OPEN, Amne.KOMPLT, Direction.FROM_RECIPIENT
    )
    assert [(k.question_id, k.instance, k.text) for k in question.kompletteringar] == [
        ("1", None, "Beskriv"),
        ("6", 2, "Period"),
    ]
    assert question.contact_info == ("010-1234567",) and str(question.deadline) == "2024-03-01"
    assert question.sent_at == datetime(2024, 2, 1, 9, 15, tzinfo=UTC)  # 10:15 Stockholm winter time
    assert (reminder.reminder_of, reminder.status) == ("fk-q-1", ArendeStatus.OPEN)
    assert stored[asked.message_id].status is ArendeStatus.ANSWERED
    assert answer.answer_to is not None and answer.answer_to.message_id == asked.message_id

    assert [(e.contract.value, e.code) for e in events if e.is_onward] == [
        ("RegisterCertificate", EventCode.SKICKA), ("SendMessageToRecipient", EventCode.NYFRFV)]
    events = [e for e in events if not e.is_onward]  # the status updates (no SKICKA: no worker ran)
    assert [e.code for e in events] == [
        EventCode.SKAPAT, EventCode.ANDRAT, EventCode.SIGNAT, EventCode.NYFRFM, EventCode.NYFRFM, EventCode.NYFRFV,
        EventCode.NYSVFM,
    ]  # fmt: skip
    nyfrfm, paminn, nyfrfv, nysvfm = events[3:]
    assert (nyfrfm.payload["amne"], nyfrfm.payload["sistaDatumForSvar"]) == ("KOMPLT", "2024-03-01")
    assert (paminn.payload["amne"], paminn.payload["sistaDatumForSvar"]) == ("PAMINN", "2024-03-08")
    assert nyfrfm.acting_user is None and nyfrfv.acting_user == LAKARE
    assert from_payload(nyfrfm.payload["counts"]) == QuestionCounts(received=Counts(total=1, unanswered=1))
    assert from_payload(paminn.payload["counts"]) == QuestionCounts(received=Counts(total=1, unanswered=1))
    assert from_payload(nysvfm.payload["counts"]) == QuestionCounts(
        sent_by_care=Counts(total=1, answered=1), received=Counts(total=1, unanswered=1)
    )
    assert "amne" not in nysvfm.payload


def test_incumbent_path_answers_the_same(gateway: Gateway) -> None:
    """/services/send-message-to-care/v2.0 is the same endpoint: a question is accepted there too."""
    certificate_id = _sent_certificate(gateway)
    assert _post(gateway, smtc.question(certificate_id=certificate_id), INCUMBENT_PATH)["code"] == "OK"


def test_wsdl_is_served_with_our_address(gateway: Gateway) -> None:
    """?wsdl answers the contract's WSDL with soap:address pointing back at the gateway."""
    response = requests.get(f"{gateway.url}{RIVTA_PATH}?wsdl", timeout=10)
    assert response.status_code == 200
    assert f'location="{gateway.url}{RIVTA_PATH}"' in response.text


def test_repeated_message_is_stored_once_and_answers_info(gateway: Gateway) -> None:
    """The same message twice: OK, then INFO "already received"; one row, one event."""
    certificate_id = _sent_certificate(gateway)
    body = smtc.question(certificate_id=certificate_id)
    assert _post(gateway, body)["code"] == "OK"
    before = gateway.row_counts()
    again = _post(gateway, body)
    assert again == {"code": "INFO", "error_id": None, "text": "This message has already been received."}
    assert gateway.row_counts() == before


def test_reused_message_id_with_other_content_is_refused(gateway: Gateway) -> None:
    """The same meddelande-id with another text is VALIDATION_ERROR and changes nothing."""
    certificate_id = _sent_certificate(gateway)
    assert _post(gateway, smtc.question(certificate_id=certificate_id))["code"] == "OK"
    _assert_refused(gateway, smtc.question(certificate_id=certificate_id, text="Annat"), texts.MESSAGE_ID_REUSED)


def test_concurrent_deliveries_of_one_message_store_it_once(gateway: Gateway) -> None:
    """Two identical messages at the same moment: one OK, one INFO, one row (the unique constraint holds)."""
    certificate_id = _sent_certificate(gateway)
    body = smtc.question(certificate_id=certificate_id, message_id="fk-race")
    results = at_once({n: partial(_post, gateway, body) for n in range(4)})
    assert sorted((r["code"] for r in results.values()), key=str) == ["INFO", "INFO", "INFO", "OK"]
    with transaction(gateway.factory) as db:
        assert [a.message_id for a in arenden.arenden_for_certificate(db, certificate_id)] == ["fk-race"]
        assert [e.code for e in outbox.events_for_certificate(db, certificate_id)][-1:] == [EventCode.NYFRFM]
        # SKAPAT, ANDRAT, SIGNAT, the registration, NYFRFM
        assert len(outbox.events_for_certificate(db, certificate_id)) == 5


def test_concurrent_answers_to_one_question_store_one(gateway: Gateway) -> None:
    """Two different answers to one question at once: one OK, the other SMTC-ANSWER-EXISTS."""
    certificate_id = _sent_certificate(gateway)
    asked = questions.ask_question(gateway.lifecycle_deps(), certificate_id, LAKARE, Amne.OVRIGT, None, "Fråga", "c")
    bodies = [
        smtc.answer(asked.message_id, amne="OVRIGT", certificate_id=certificate_id, message_id=f"a{n}")
        for n in range(2)
    ]
    results = list(at_once({n: partial(_post, gateway, body) for n, body in enumerate(bodies)}).values())
    assert sorted(r["code"] or "" for r in results) == ["ERROR", "OK"]
    refused = next(r for r in results if r["code"] == "ERROR")
    assert texts.ANSWER_EXISTS.sv.split("{")[0] in (refused["text"] or "")


def test_unknown_certificate_is_a_validation_error(gateway: Gateway) -> None:
    """A certificate the gateway does not hold."""
    _assert_refused(gateway, smtc.question(certificate_id="no-such-certificate"), texts.MESSAGE_CERTIFICATE_UNKNOWN)


def test_unsigned_certificate_is_a_validation_error(gateway: Gateway) -> None:
    """A draft cannot have ärenden."""
    status, envelope, _ = gateway.post(create_draft_envelope(), path=CREATE_DRAFT_PATH)
    draft_id = envelope.findtext(".//{urn:riv:clinicalprocess:healthcond:certificate:types:3}extension")
    assert status == 200 and draft_id
    _assert_refused(gateway, smtc.question(certificate_id=draft_id), texts.MESSAGE_CERTIFICATE_NOT_SIGNED)


def test_other_patient_is_a_validation_error(gateway: Gateway) -> None:
    """patientPerson-id must be the certificate's patient."""
    certificate_id = _sent_certificate(gateway)
    _assert_refused(
        gateway, smtc.question(certificate_id=certificate_id, person_id="194011306125"), texts.MESSAGE_PATIENT_MISMATCH
    )


def test_revoked_certificate_is_an_application_error(gateway: Gateway) -> None:
    """A revoked certificate takes no new messages; its open question was closed by the revocation."""
    certificate_id = _sent_certificate(gateway)
    assert _post(gateway, smtc.question(certificate_id=certificate_id))["code"] == "OK"
    lifecycle.revoke(gateway.lifecycle_deps(), certificate_id, LAKARE, "FEL_PATIENT", None, "c")
    with transaction(gateway.factory) as db:
        (question,) = arenden.arenden_for_certificate(db, certificate_id)
    assert question.status is ArendeStatus.HANDLED and question.handled_by == LAKARE
    _assert_refused(
        gateway, smtc.question(certificate_id=certificate_id, message_id="fk-q-2"), texts.MESSAGE_CERTIFICATE_REVOKED
    )


def test_test_certificate_is_refused(gateway: Gateway) -> None:
    """A validation person's certificate never gets ärenden."""
    certificate = _stored(gateway, replace(make_signed_certificate("test-cert"), test_certificate=True))
    person = certificate.patient.person_id
    body = smtc.question(certificate_id=certificate.id, person_id=person.digits, person_id_root=person.kind.value)
    _assert_refused(gateway, body, texts.MESSAGE_TEST_CERTIFICATE)


def test_every_problem_is_named_in_one_answer(gateway: Gateway) -> None:
    """A reminder without an id, with komplettering, from an unknown sender: all three in one text."""
    certificate_id = _sent_certificate(gateway)
    body = smtc.send_message_envelope(certificate_id=certificate_id, amne="PAMINN", sender="NOBODY")
    _assert_refused(gateway, body, texts.KOMPLETTERING_NOT_KOMPLT, texts.REMINDER_ID_MISSING, texts.SENDER_UNKNOWN)


def test_reminder_and_answer_rules_over_http(gateway: Gateway) -> None:
    """A reminder of an unknown question, an answer to a reminder and an answer with a deadline."""
    certificate_id = _sent_certificate(gateway)
    assert _post(gateway, smtc.question(certificate_id=certificate_id))["code"] == "OK"
    assert (
        _post(gateway, smtc.reminder(smtc.DEFAULT_MESSAGE_ID, certificate_id=certificate_id, message_id="r1"))["code"]
        == "OK"
    )
    _assert_refused(
        gateway, smtc.reminder("nope", certificate_id=certificate_id, message_id="r2"), texts.REMINDER_OF_UNKNOWN
    )
    _assert_refused(
        gateway, smtc.answer("r1", certificate_id=certificate_id, message_id="a1"), texts.ANSWER_TO_REMINDER
    )
    _assert_refused(
        gateway,
        smtc.answer(smtc.DEFAULT_MESSAGE_ID, certificate_id=certificate_id, message_id="a2", deadline="2024-04-01"),
        texts.ANSWER_WITH_DEADLINE,
    )


def test_schema_violation_is_answered_in_the_contract(gateway: Gateway) -> None:
    """A body the XSD refuses gets HTTP 200, ERROR/VALIDATION_ERROR and the schema's reason."""
    result = _post(gateway, smtc.question(sent_at="2024-02-01T10:15:00Z"))
    assert (result["code"], result["error_id"]) == ("ERROR", "VALIDATION_ERROR")
    assert texts.SCHEMA_VIOLATION.sv.split("{")[0] in (result["text"] or "")
