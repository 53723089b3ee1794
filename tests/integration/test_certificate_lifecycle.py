"""A certificate's whole life over real HTTP: SOAP for the journal system and FK, the operations API for care.

zeep creates the draft from the running gateway's CreateDraftCertificate ``?wsdl`` and delivers FK's
question from SendMessageToCare's ``?wsdl``; the editor's steps go through ``/internal/api/v1/``
with the bearer token and the acting user's header. The outbox must then hold exactly the expected
events, in order and with the right ``hanteratAv``, and the PDL log the expected records.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from zeep import Client

from cli.serve import load_demo_directory
from cli.settings import Settings
from cli.wiring import gateway_deps
from gateway import make_app
from store import arenden, certificates, outbox, pdl
from store.migrate import upgrade
from store.session import make_engine, make_session_factory, transaction
from tests.envelopes import zeep_draft
from tests.integration.gateway_server import plain_session, serving, zeep_client
from tests.send_message_to_care import zeep_arguments

TOKEN = "lifecycle-test-token"
API = "/internal/api/v1"
CREATE_PATH = "/clinicalprocess/healthcond/certificate/CreateDraftCertificate/3/rivtabp21"
SEND_MESSAGE_PATH = "/clinicalprocess/healthcond/certificate/SendMessageToCare/2/rivtabp21"
UNIT = "SE2321000016-1000"
LAKARE, ADMIN = "SE2321000016-P001", "SE2321000016-P002"
CONTENT = [
    {"id": "1", "instance": None, "parts": [{"id": "1.1", "value": "Hosta sedan två veckor", "xml": None}]},
    {"id": "27", "instance": None, "parts": [{"id": "27.1", "value": "true", "xml": None}]},
]


@pytest.fixture
def gateway_url(db_url: str) -> Iterator[str]:
    upgrade(db_url)
    load_demo_directory(db_url)
    deps = gateway_deps(Settings(database_url=db_url, internal_api_token=TOKEN))
    try:
        with serving(make_app(deps)) as url:
            yield url
    finally:
        deps.close()


def _zeep(url: str) -> tuple[Client, requests.Session]:
    session = plain_session()
    return zeep_client(f"{url}?wsdl", session), session


def _create_draft(base: str) -> str:
    client, session = _zeep(base + CREATE_PATH)
    try:
        response = client.service.CreateDraftCertificate(
            _soapheaders={"LogicalAddress": UNIT},
            intyg=zeep_draft(UNIT, "Vårdcentralen", LAKARE, ref="journal-ref-9"),
        )
    finally:
        session.close()
    assert response.result.resultCode == "OK"
    return str(response["intygs-id"].extension)


def _fk_question(base: str, certificate_id: str, message_id: str) -> None:
    client, session = _zeep(base + SEND_MESSAGE_PATH)
    try:
        response = client.service.SendMessageToCare(
            _soapheaders={"LogicalAddress": UNIT},
            **zeep_arguments(message_id=message_id, certificate_id=certificate_id, deadline="2030-01-31"),
        )
    finally:
        session.close()
    assert response.result.resultCode == "OK", response.result


def _api(
    base: str, method: str, path: str, user: str | None, body: Any = None, token: str = TOKEN
) -> tuple[int, dict[str, Any]]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if user is not None:
        headers["X-Acting-User"] = user
    request = urllib.request.Request(base + API + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_full_lifecycle_leaves_exactly_the_expected_events_and_pdl_records(gateway_url: str, db_url: str) -> None:
    """Create, edit, ready, sign, send, FK question, answer, handled, revoke: every event and record.

    No worker runs here, so nothing goes onward: the send stays SENDING (no SKICKA), and the
    revocation cancels the registration and the answer that never started (and revokes nowhere)."""
    base = gateway_url
    cid = _create_draft(base)
    path = f"/certificates/{cid}"

    status, body = _api(base, "PUT", f"{path}/content", ADMIN, {"content": CONTENT})
    assert (status, body["certificate"]["status"], body["certificate"]["content"]) == (200, "DRAFT", CONTENT)
    assert _api(base, "POST", f"{path}/ready", ADMIN)[1]["certificate"]["status"] == "READY"
    status, body = _api(base, "POST", f"{path}/sign", ADMIN)  # a vårdadministratör may not sign
    assert (status, body["code"], body["role"]) == (403, "ROLE_NOT_ALLOWED", "VARDADMINISTRATOR")
    assert _api(base, "POST", f"{path}/sign", LAKARE)[1]["certificate"]["signed_by"] == LAKARE
    status, body = _api(base, "POST", f"{path}/send", LAKARE)
    assert (status, body["certificate"]["status"], body["certificate"]["sent_to"]) == (200, "SENDING", "FKASSA")

    _fk_question(base, cid, "fk-question-1")
    status, view = _api(base, "GET", path, LAKARE)
    assert status == 200
    assert [(q["messageId"], q["amne"], q["status"]) for q in view["questions"]] == [
        ("fk-question-1", "KOMPLT", "OPEN")
    ]
    assert view["counts"]["mottagnaFragor"] == {"totalt": 1, "ejBesvarade": 1, "besvarade": 0, "hanterade": 0}

    status, refused = _api(base, "POST", f"{path}/questions/fk-question-1/answer", LAKARE,
                           {"text": "Arbetet är tungt."})  # a completion request is answered by completing
    assert (status, refused["code"]) == (409, "COMPLETION_REQUIRED")
    status, answered = _api(base, "POST", f"{path}/complete", LAKARE, {"mode": "C", "text": "Arbetet är tungt."})
    assert (status, answered["answer"]["answerTo"], answered["answer"]["delivery"]) == (201, "fk-question-1", "PENDING")
    status, body = _api(base, "POST", f"{path}/questions/fk-question-1/handled", LAKARE)
    assert (status, body["question"]["status"], body["question"]["handledBy"]) == (200, "HANDLED", LAKARE)
    # A free-text reason (the old body) is no reason code; "annat allvarligt fel" needs a real description.
    status, body = _api(base, "POST", f"{path}/revoke", LAKARE, {"reason": "Fel patient"})
    assert (status, body["code"]) == (400, "REASON_UNKNOWN")
    status, body = _api(base, "POST", f"{path}/revoke", LAKARE, {"reason": "ANNAT_ALLVARLIGT_FEL"})
    assert (status, body["code"]) == (400, "DESCRIPTION_MISSING")
    for vague in ("c", ".", "dubblett", "xxxxxxxxxxxx"):
        status, body = _api(base, "POST", f"{path}/revoke", LAKARE,
                            {"reason": "ANNAT_ALLVARLIGT_FEL", "description": vague})
        assert (status, body["code"], body["action"]) == (400, "DESCRIPTION_TOO_VAGUE", "REVOKE")
    status, body = _api(base, "POST", f"{path}/revoke", LAKARE,
                        {"reason": "ANNAT_ALLVARLIGT_FEL", "description": "Fel sjukskrivningsperiod i fält 8"})
    revoked = body["certificate"]
    assert (status, revoked["status"], revoked["revoke_reason_code"], revoked["revoke_reason"]) == (
        200, "REVOKED", "ANNAT_ALLVARLIGT_FEL", "Fel sjukskrivningsperiod i fält 8"
    )
    status, body = _api(base, "POST", f"{path}/revoke", LAKARE, {"reason": "FEL_PATIENT"})
    assert (status, body["code"], body["certificateStatus"]) == (409, "WRONG_STATUS", "REVOKED")

    engine = make_engine(db_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            events = outbox.events_for_certificate(session, cid)
            records = pdl.records_for_certificate(session, cid)
            stored = certificates.get_certificate(session, cid)
            conversation = arenden.arenden_for_certificate(session, cid)
    finally:
        engine.dispose()
    onward = [(e.contract.value, e.status.value) for e in events if e.is_onward]
    assert onward == [("RegisterCertificate", "CANCELLED"), ("SendMessageToRecipient", "CANCELLED")]
    assert {a.message_id: a.delivery.value for a in conversation if a.delivery} == {
        body["answer"]["messageId"]: "CANCELLED" for body in [answered]}
    events = [e for e in events if not e.is_onward]
    assert [(e.code.value, e.acting_user.value if e.acting_user else None) for e in events] == [
        ("SKAPAT", LAKARE), ("ANDRAT", ADMIN), ("KFSIGN", ADMIN), ("SIGNAT", LAKARE),
        ("NYFRFM", None), ("HANFRFM", LAKARE), ("HANFRFM", LAKARE), ("MAKULE", LAKARE),
    ]
    assert events[-1].payload["reason"] == {
        "code": "ANNAT_ALLVARLIGT_FEL", "description": "Fel sjukskrivningsperiod i fält 8"
    }
    assert events[-1].payload["counts"]["mottagnaFragor"] == {
        "totalt": 1, "ejBesvarade": 0, "besvarade": 0, "hanterade": 1
    }
    assert [(r.activity, r.user_id) for r in records] == [
        ("Skriva", LAKARE), ("Skriva", ADMIN), ("Skriva", ADMIN), ("Signera", LAKARE), ("Utskrift", LAKARE),
        ("Läsa", LAKARE), ("Skriva", LAKARE), ("Skriva", LAKARE), ("Radera", LAKARE),
    ]
    assert all(r.patient_id == "191212121212" and r.user_care_unit_id == UNIT for r in records)
    assert stored is not None and stored.status.value == "REVOKED" and stored.version == 6
    assert {a.message_id: a.status.value for a in conversation if a.is_question} == {"fk-question-1": "HANDLED"}


def test_api_refuses_without_token_and_for_unknown_users(gateway_url: str) -> None:
    """Wrong token: 401; a user HSA does not know: 403; a certificate nobody has: 404; bad JSON body: 400."""
    cid = _create_draft(gateway_url)
    assert _api(gateway_url, "GET", f"/certificates/{cid}", LAKARE, token="wrong")[0] == 401
    status, body = _api(gateway_url, "GET", f"/certificates/{cid}", "SE2321000016-NOBODY")
    assert (status, body["code"]) == (403, "USER_UNKNOWN")
    assert _api(gateway_url, "GET", "/certificates/no-such-id", LAKARE)[1]["code"] == "CERTIFICATE_NOT_FOUND"
    status, body = _api(gateway_url, "PUT", f"/certificates/{cid}/content", LAKARE, {"content": [{"id": 1}]})
    assert (status, body["code"]) == (400, "INVALID_CONTENT")
    status, document = _api(gateway_url, "GET", "/openapi.json", None)
    assert status == 200 and "/certificates/{certificate_id}/sign" in document["paths"]


@pytest.mark.parametrize(
    ("xml", "fault"),
    [
        ("<unclosed>", "not-xml"),
        ('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', "hostile-xml"),
        ("<code>HELT_NEDSATT</code>", "schema"),
    ],
    ids=["unclosed", "external-entity", "unqualified"],
)
def test_content_that_cannot_be_sent_is_refused_and_nothing_is_stored(gateway_url: str, db_url: str, xml: str,
                                                                      fault: str) -> None:
    """The review's ``"xml": "<unclosed>"`` (and its cousins) answer 400 with a code and every problem;
    the draft keeps its version and no ANDRAT is queued, so no status update can be poisoned by it."""
    cid = _create_draft(gateway_url)
    bad = [*CONTENT, {"id": "32", "instance": None, "parts": [{"id": "32.1", "value": "", "xml": xml}]}]
    status, body = _api(gateway_url, "PUT", f"/certificates/{cid}/content", ADMIN, {"content": bad})
    assert (status, body["code"]) == (400, "INVALID_CONTENT_XML")
    assert [(p["answerId"], p["fault"]) for p in body["problems"]] == [("32", fault)]
    engine = make_engine(db_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            stored = certificates.get_certificate(session, cid)
            events = outbox.events_for_certificate(session, cid)
    finally:
        engine.dispose()
    assert stored is not None and stored.version == 1 and stored.content == ()
    assert [e.code.value for e in events] == ["SKAPAT"]
    good = [*CONTENT, {"id": "32", "instance": None, "parts": [{"id": "32.1", "value": "", "xml": (
        "<types:cv xmlns:types='urn:riv:clinicalprocess:healthcond:certificate:types:3'>"
        "<types:code>HELT_NEDSATT</types:code><types:codeSystem>KV_FKMU_0003</types:codeSystem></types:cv>")}]}]
    assert _api(gateway_url, "PUT", f"/certificates/{cid}/content", ADMIN, {"content": good})[0] == 200


def test_a_send_names_its_recipient_and_the_certificate_shows_its_deliveries(gateway_url: str) -> None:
    """POST .../send with a recipient that does not take the type: 409 with its code, nothing queued;
    with the default recipient: SENDING, and GET lists the registration queued for FK."""
    cid = _create_draft(gateway_url)
    path = f"/certificates/{cid}"
    assert _api(gateway_url, "PUT", f"{path}/content", LAKARE, {"content": CONTENT})[0] == 200
    assert _api(gateway_url, "POST", f"{path}/sign", LAKARE)[0] == 200
    status, body = _api(gateway_url, "POST", f"{path}/send", LAKARE, {"recipient": "TRANSP"})
    assert (status, body["code"], body["certificateStatus"]) == (409, "RECIPIENT_NOT_FOR_TYPE", "SIGNED")
    status, body = _api(gateway_url, "POST", f"{path}/send", LAKARE, {"recipient": "SKV"})
    assert (status, body["code"]) == (409, "RECIPIENT_UNKNOWN")
    assert _api(gateway_url, "GET", path, LAKARE)[1]["deliveries"] == []
    status, body = _api(gateway_url, "POST", f"{path}/send", LAKARE)
    assert (status, body["certificate"]["status"], body["certificate"]["send_requested_at"] is not None) == (
        200, "SENDING", True)
    [delivery] = _api(gateway_url, "GET", path, LAKARE)[1]["deliveries"]
    assert (delivery["contract"], delivery["recipient"], delivery["logicalAddress"], delivery["status"]) == (
        "RegisterCertificate", "FKASSA", "2021005521", "PENDING")
    status, body = _api(gateway_url, "POST", f"{path}/send", LAKARE)
    assert (status, body["code"], body["certificateStatus"]) == (409, "WRONG_STATUS", "SENDING")
