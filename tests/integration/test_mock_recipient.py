"""The recipient simulator over real HTTP on loopback: answers as the archive and FK do, modes, records, WSDLs.

Clients here are zeep (from the simulator's own ``?wsdl``) where a client is the subject, and raw
posts of the gateway's own builders where the answers are.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
import zeep
from lxml import etree

from contracts.answers import ContractAnswer
from contracts.envelope import request_envelope
from contracts.register_certificate.v3.request import build_register_certificate
from contracts.register_certificate.v3.response import read_answer as read_register
from contracts.revoke_certificate.v2.request import build_revoke_certificate
from contracts.revoke_certificate.v2.response import read_answer as read_revoke
from contracts.send_certificate_to_recipient.v2.request import build_send_certificate
from contracts.send_certificate_to_recipient.v2.response import read_answer as read_send
from contracts.send_message_to_recipient.v2.request import build_message_to_recipient
from contracts.send_message_to_recipient.v2.response import read_answer as read_message
from domain.arenden import Amne, MessageReference
from domain.certificate_types import load_default_registry
from domain.onward import Actor, OutgoingMessage
from domain.values import HsaId, PersonId, PersonIdKind
from simulator.journal import Mode
from simulator.recipient import CONTRACT_PATHS, MockRecipient
from simulator.server import serving
from tests import builders
from tests.conformance import core_corpus as core
from tests.integration.processes import stop

pytestmark = pytest.mark.integration

FK = "2021005521"
AT = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
ACTOR = Actor(HsaId("SE2321000016-P001"), "Ann Läkare")
SIGNED = builders.make_signed_certificate()
TYPE = load_default_registry().lookup("LISJP", "b64ea353-e8f6-4832-b563-fc7d46f29548")
BIN = Path(sys.executable).parent / "intygsgateway"


@pytest.fixture
def recipient() -> Iterator[tuple[MockRecipient, str, requests.Session]]:
    simulator = MockRecipient(keep_raw=3)
    with serving(simulator) as base, requests.Session() as session:
        yield simulator, base, session


def _post(session: requests.Session, base: str, contract: str, body: etree._Element,
          address: str = FK) -> ContractAnswer:
    response = session.post(f"{base}{CONTRACT_PATHS[contract]}", data=request_envelope(address, body), timeout=5,
                            headers={"Content-Type": "text/xml; charset=utf-8", "x-skltp-correlation-id": "c-1"})
    reader = {"RegisterCertificate": read_register, "SendCertificateToRecipient": read_send,
              "RevokeCertificate": read_revoke, "SendMessageToRecipient": read_message}[contract]
    answer = reader(response.content)
    assert isinstance(answer, ContractAnswer), answer
    return answer


def _codes(answer: ContractAnswer) -> tuple[str, str | None]:
    return answer.result_code.value, answer.error_id.value if answer.error_id else None


def test_a_registration_is_stored_once_and_repeats_are_answered_info(
        recipient: tuple[MockRecipient, str, requests.Session]) -> None:
    """OK, then INFO "Certificate already exists" for the same patient, VALIDATION_ERROR for another."""
    simulator, base, session = recipient
    body = build_register_certificate(SIGNED, TYPE)
    assert _codes(_post(session, base, "RegisterCertificate", body)) == ("OK", None)
    again = _post(session, base, "RegisterCertificate", body)
    assert (_codes(again), again.text) == (("INFO", None), "Certificate already exists")
    other = replace(SIGNED, patient=replace(SIGNED.patient, person_id=PersonId(PersonIdKind.PERSONNUMMER,
                                                                                  "195206142597")))
    clash = _post(session, base, "RegisterCertificate", build_register_certificate(other, TYPE))
    assert (_codes(clash), clash.text) == (("ERROR", "VALIDATION_ERROR"), "Certificate already exists")
    [held] = simulator.certificates()
    assert (held.certificate_id, held.logical_address, held.unit_id) == (SIGNED.id, FK, SIGNED.unit_id.value)


def test_received_records_contract_address_certificate_validity_and_xml(
        recipient: tuple[MockRecipient, str, requests.Session]) -> None:
    """GET /_mock/received: the keys the issue names, and the raw request; since= and contract= filter."""
    _, base, session = recipient
    _post(session, base, "RegisterCertificate", build_register_certificate(SIGNED, TYPE))
    _post(session, base, "RevokeCertificate", build_revoke_certificate(builders.make_revoked_certificate(SIGNED.id),
                                                                       ACTOR, AT))
    received = session.get(f"{base}/_mock/received", timeout=5).json()
    assert [(r["contract"], r["logicalAddress"], r["certificateId"], r["valid"], r["resultCode"]) for r in received] \
        == [("RegisterCertificate", FK, SIGNED.id, True, "OK"), ("RevokeCertificate", FK, SIGNED.id, True, "OK")]
    assert received[0]["correlationId"] == "c-1"
    assert "RegisterCertificate" in received[0]["xml"]
    assert [r["seq"] for r in session.get(f"{base}/_mock/received?since=1", timeout=5).json()] == [2]
    only = session.get(f"{base}/_mock/received?contract=RevokeCertificate", timeout=5).json()
    assert [r["contract"] for r in only] == ["RevokeCertificate"]


def test_an_invalid_request_is_recorded_invalid_and_answered_validation_error(
        recipient: tuple[MockRecipient, str, requests.Session]) -> None:
    """Schema problems are listed and answered ERROR/VALIDATION_ERROR; nothing is stored."""
    simulator, base, session = recipient
    body = build_register_certificate(SIGNED, TYPE)
    signing = body.find(".//{urn:riv:clinicalprocess:healthcond:certificate:3}signeringstidpunkt")
    assert signing is not None
    signing.text = "2026-11-21T10:00:00Z"
    answer = _post(session, base, "RegisterCertificate", body)
    assert _codes(answer) == ("ERROR", "VALIDATION_ERROR")
    [record] = simulator.received()
    assert record["valid"] is False and any("signeringstidpunkt" in p for p in record["problems"])
    assert simulator.certificates() == []


def test_the_archive_sends_once_and_refuses_what_it_does_not_hold(
        recipient: tuple[MockRecipient, str, requests.Session]) -> None:
    """SendCertificateToRecipient: unknown APPLICATION_ERROR; OK; "already sent" INFO; revoked INFO."""
    simulator, base, session = recipient
    send = build_send_certificate(SIGNED, "FKASSA", "Försäkringskassan", ACTOR, AT)
    assert _codes(_post(session, base, "SendCertificateToRecipient", send, "5565594230")) == \
        ("ERROR", "APPLICATION_ERROR")
    _post(session, base, "RegisterCertificate", build_register_certificate(SIGNED, TYPE), "5565594230")
    assert _codes(_post(session, base, "SendCertificateToRecipient", send, "5565594230")) == ("OK", None)
    again = _post(session, base, "SendCertificateToRecipient", send, "5565594230")
    assert (_codes(again), again.text) == (("INFO", None), f"Certificate '{SIGNED.id}' already sent to 'FKASSA'.")
    revoked = builders.make_revoked_certificate(SIGNED.id)
    _post(session, base, "RevokeCertificate", build_revoke_certificate(revoked, ACTOR, AT), "5565594230")
    to_transp = build_send_certificate(SIGNED, "TRANSP", None, ACTOR, AT)
    after = _post(session, base, "SendCertificateToRecipient", to_transp, "5565594230")
    assert (_codes(after), after.text) == (("INFO", None), f"Certificate '{SIGNED.id}' has been revoked.")
    assert simulator.certificates()[0].sent_to == ["FKASSA"]


def test_a_revocation_is_done_once(recipient: tuple[MockRecipient, str, requests.Session]) -> None:
    """Unknown for the patient: APPLICATION_ERROR; then OK; then INFO "already revoked"."""
    _, base, session = recipient
    revoke = build_revoke_certificate(builders.make_revoked_certificate(SIGNED.id), ACTOR, AT)
    assert _codes(_post(session, base, "RevokeCertificate", revoke)) == ("ERROR", "APPLICATION_ERROR")
    _post(session, base, "RegisterCertificate", build_register_certificate(SIGNED, TYPE))
    assert _codes(_post(session, base, "RevokeCertificate", revoke)) == ("OK", None)
    again = _post(session, base, "RevokeCertificate", revoke)
    assert (_codes(again), again.text) == (("INFO", None), f"Certificate {SIGNED.id} is already revoked.")


def _care_message(message_id: str, *, answer_to: str | None = None, amne: Amne = Amne.KONTKT) -> etree._Element:
    outgoing = OutgoingMessage(message_id, AT, amne, None, "Ring oss", ACTOR, FK,
                               answer_to=MessageReference(answer_to) if answer_to else None)
    return build_message_to_recipient(SIGNED, outgoing)


def test_cares_messages_are_checked_stored_once_and_repeats_answered_info(
        recipient: tuple[MockRecipient, str, requests.Session]) -> None:
    """A question is stored; the same meddelande-id again is INFO; an answer naming no question of ours
    is VALIDATION_ERROR; a message about an unknown certificate APPLICATION_ERROR; revoked: REVOKED."""
    _, base, session = recipient
    assert _codes(_post(session, base, "SendMessageToRecipient", _care_message("q-1"))) == \
        ("ERROR", "APPLICATION_ERROR")
    _post(session, base, "RegisterCertificate", build_register_certificate(SIGNED, TYPE))
    assert _codes(_post(session, base, "SendMessageToRecipient", _care_message("q-1"))) == ("OK", None)
    again = _post(session, base, "SendMessageToRecipient", _care_message("q-1"))
    assert (_codes(again), again.text) == (("INFO", None), "This message has already been received.")
    stray = _post(session, base, "SendMessageToRecipient", _care_message("a-1", answer_to="never-asked"))
    assert _codes(stray) == ("ERROR", "VALIDATION_ERROR") and "names no question" in (stray.text or "")
    _post(session, base, "RevokeCertificate", build_revoke_certificate(builders.make_revoked_certificate(SIGNED.id),
                                                                       ACTOR, AT))
    assert _codes(_post(session, base, "SendMessageToRecipient", _care_message("q-2"))) == ("ERROR", "REVOKED")


@pytest.mark.parametrize(("mode", "status", "codes"), [
    (Mode.TECHNICAL_ERROR, 200, ("ERROR", "TECHNICAL_ERROR")),
    (Mode.VALIDATION_ERROR, 200, ("ERROR", "VALIDATION_ERROR")),
    (Mode.FAULT, 500, None),
])
def test_failures_on_demand_per_contract_and_address(recipient: tuple[MockRecipient, str, requests.Session],
                                                     mode: Mode, status: int, codes: tuple[str, str] | None) -> None:
    """PUT /_mock/mode/<mode>?contract=...&address=...: only that contract at that address fails, and
    nothing is stored; the most specific setting wins; DELETE restores it."""
    simulator, base, session = recipient
    session.put(f"{base}/_mock/mode/{mode.value}?contract=RegisterCertificate&address={FK}", timeout=5)
    body = request_envelope(FK, build_register_certificate(SIGNED, TYPE))
    response = session.post(f"{base}{CONTRACT_PATHS['RegisterCertificate']}", data=body, timeout=5)
    assert response.status_code == status
    if codes is not None:
        answer = read_register(response.content)
        assert isinstance(answer, ContractAnswer) and _codes(answer) == codes
    assert simulator.certificates() == []
    assert _codes(_post(session, base, "RegisterCertificate", build_register_certificate(SIGNED, TYPE),
                        "2021006099")) == ("OK", None)  # another address: as a recipient would
    mode_now = session.get(f"{base}/_mock/mode?contract=RegisterCertificate&address={FK}", timeout=5).json()
    assert mode_now["mode"] == mode.value
    session.delete(f"{base}/_mock/mode?contract=RegisterCertificate&address={FK}", timeout=5)
    assert simulator.mode_for("RegisterCertificate", FK) is Mode.OK


def test_an_unknown_mode_or_contract_is_a_400(recipient: tuple[MockRecipient, str, requests.Session]) -> None:
    _, base, session = recipient
    assert session.put(f"{base}/_mock/mode/sometimes", timeout=5).status_code == 400
    assert session.put(f"{base}/_mock/mode/ok?contract=RegisterCertificat", timeout=5).status_code == 400


def test_zeep_from_the_simulators_wsdl_registers_a_certificate(
        recipient: tuple[MockRecipient, str, requests.Session]) -> None:
    """Each contract's ?wsdl (address rewritten to the simulator) builds a working zeep client."""
    simulator, base, _ = recipient
    for contract, path in CONTRACT_PATHS.items():
        client = zeep.Client(f"{base}{path}?wsdl")  # type: ignore[no-untyped-call]
        assert contract in {op for binding in client.wsdl.bindings.values() for op in binding._operations}
    client = zeep.Client(f"{base}{CONTRACT_PATHS['RegisterCertificate']}?wsdl")  # type: ignore[no-untyped-call]
    intyg = {
        "intygs-id": {"root": SIGNED.unit_id.value, "extension": "zeep-1"},
        "typ": {"code": "LISJP", "codeSystem": "b64ea353-e8f6-4832-b563-fc7d46f29548"}, "version": "1.0",
        "signeringstidpunkt": "2026-11-21T10:00:00",
        "patient": {"person-id": {"root": "1.2.752.129.2.1.3.1", "extension": "191212121212"}, "fornamn": "T",
                    "efternamn": "T", "postadress": "", "postnummer": "", "postort": ""},
        "skapadAv": {"personal-id": {"root": "1.2.752.129.2.1.4.1", "extension": "SE2321000016-P001"},
                     "fullstandigtNamn": "Ann", "enhet": {
                         "enhets-id": {"root": "1.2.752.129.2.1.4.1", "extension": SIGNED.unit_id.value},
                         "arbetsplatskod": {"root": core.ARBETSPLATSKOD, "extension": "1"}, "enhetsnamn": "A",
                         "postadress": "", "postnummer": "", "postort": "", "telefonnummer": "",
                         "vardgivare": {"vardgivare-id": {"root": "1.2.752.129.2.1.4.1",
                                                          "extension": "SE2321000016-0001"}, "vardgivarnamn": "V"}}},
    }
    result = client.service.RegisterCertificate(intyg=intyg, _soapheaders={"LogicalAddress": FK})
    assert result.result.resultCode == "OK"
    assert [r.certificate_id for r in simulator.certificates()] == ["zeep-1"]


def test_the_fk_push_needs_a_care_url_and_a_registered_certificate(
        recipient: tuple[MockRecipient, str, requests.Session]) -> None:
    """Without --care-url 409; with one, an unknown certificate is 404 and a broken body 400."""
    _, base, session = recipient
    asked = {"certificateId": SIGNED.id, "amne": "KONTKT", "heading": "Kontakt", "text": "Ring oss"}
    assert session.post(f"{base}/_mock/send-message-to-care", json=asked, timeout=5).status_code == 409
    with serving(MockRecipient("http://127.0.0.1:9")) as other:
        assert session.post(f"{other}/_mock/send-message-to-care", json=asked, timeout=5).status_code == 404
        assert session.post(f"{other}/_mock/send-message-to-care", data=b"[", timeout=5).status_code == 400
        assert session.post(f"{other}/_mock/send-message-to-care", json={"amne": "KONTKT"},
                            timeout=5).status_code == 400


def test_the_command_serves_and_stops(tmp_path: Path) -> None:
    """``intygsgateway mock-recipient --port 0`` prints its contracts' URLs and stops on SIGTERM."""
    process = subprocess.Popen([str(BIN), "mock-recipient", "--port", "0"], stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        first = process.stdout.readline().decode()
        assert first.startswith("mock recipient listening at http://127.0.0.1:")
        paths = [process.stdout.readline().decode().strip() for _ in CONTRACT_PATHS]
        assert [line.split(": ")[0] for line in paths] == list(CONTRACT_PATHS)
    finally:
        stop(process)
        if process.stdout is not None:
            process.stdout.close()
    assert process.returncode == 0
    bad = subprocess.run([str(BIN), "mock-recipient", "--care-url", "ftp://x"], capture_output=True, text=True,
                         timeout=30, check=False)
    assert bad.returncode == 2 and "care-url" in bad.stderr
