"""The manual's related-certificate scenarios through the operations API, with real processes on loopback.

``intygsgateway serve`` (with its worker), ``mock-journal`` and ``mock-recipient`` (Försäkringskassan)
run as processes, as in the whole FK loop (``test_onward_end_to_end``), on SQLite and PostgreSQL. A
user acts through the operations API (the development token, ``X-Acting-User``); FK asks through
the simulator. Scenarios: renew with the dropped answers; replace twice (the second call returns the
same draft), delete the replacing draft and replace again; complete A, B and C with two open KOMPLT
questions and a reminder (A reaches FK as a RegisterCertificate with ``svarPa`` and relation KOMPLT,
valid against our schemas and, with ``RIVTA_OFFICIAL_SCHEMAS``, the official ones; the journal gets
HANFRFM for each question); a completed certificate refused for renewal; revoking a replacement
names the replaced certificate; a deceased patient's allowed and refused operations; a renewal,
replacement and completion at the user's unit, whose SKAPAT reaches that unit's own journal system.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from contracts.ns import CORE, REGISTER_CERTIFICATE_V3, TYPES
from domain.directory_import import parse_directory_document
from store.directory_import import import_directory
from store.session import transaction
from tests.builders import CLINIC, OTHER_REGION, OTHER_REGION_UNIT, TWO_REGIONS_LAKARE
from tests.conformance.schemas import OFFICIAL_ENV, message_errors
from tests.integration.fk_loop import LAKARE, UNIT, Processes, create_draft, start_loop, wait
from tests.integration.onward_env import CORPORA, body_of

TOKEN = "relations-dev-token"
API = "/internal/api/v1"
ADMIN, NURSE, DENTIST = "SE2321000016-P002", "SE2321000016-P003", "SE2321000016-P005"
CONTENT = json.loads((Path(__file__).resolve().parents[2] / "docs/examples/lisjp-content.json").read_text("utf-8"))
NS = {"reg": REGISTER_CERTIFICATE_V3, "core": CORE, "types": TYPES}


@dataclass
class Loop:
    """The running processes' addresses, with helpers for the API, FK and the journal."""

    gateway: str
    journal: str
    recipient: str
    http: requests.Session
    journals: dict[str, str]  # a unit with a journal system of its own -> its simulator

    def api(self, method: str, path: str, user: str = LAKARE, body: Any = None) -> tuple[int, dict[str, Any]]:
        response = self.http.request(method, f"{self.gateway}{API}{path}", json=body, timeout=30, headers={
            "Authorization": f"Bearer {TOKEN}", "X-Acting-User": user})
        return response.status_code, response.json()

    def ok(self, method: str, path: str, user: str = LAKARE, body: Any = None, status: int = 200) -> dict[str, Any]:
        got, answer = self.api(method, path, user, body)
        assert got == status, (method, path, got, answer)
        return answer

    def signed_and_sent(self) -> str:
        """A LISJP created by the journal system, answered, signed and sent; FK has registered it."""
        cid = create_draft(self.gateway)
        self.ok("PUT", f"/certificates/{cid}/content", body=CONTENT)
        self.ok("POST", f"/certificates/{cid}/sign")
        self.ok("POST", f"/certificates/{cid}/send")
        wait("SENT", lambda: self.ok("GET", f"/certificates/{cid}")["certificate"]["status"] == "SENT")
        return cid

    def fk_asks(self, cid: str, amne: str, **extra: Any) -> str:
        asked = self.http.post(f"{self.recipient}/_mock/send-message-to-care", timeout=30, json={
            "certificateId": cid, "amne": amne, "heading": amne, "text": f"Fråga {amne}", **extra}).json()
        assert asked["result"]["resultCode"] == "OK", asked
        return str(asked["messageId"])

    def on_fk(self, contract: str) -> list[dict[str, Any]]:
        return list(self.http.get(f"{self.recipient}/_mock/received?contract={contract}", timeout=5).json())

    def journal_events(self, cid: str) -> list[str]:
        return [r["event_code"] for r in self.received(cid)]

    def received(self, cid: str, journal: str | None = None) -> list[dict[str, Any]]:
        """The status updates about ``cid`` that ``journal`` (default the demo unit's) has received."""
        return [r for r in self.http.get(f"{journal or self.journal}/_mock/received", timeout=5).json()
                if r.get("certificate_id") == cid]

    def questions(self, cid: str) -> dict[str, str]:
        return {q["messageId"]: q["status"] for q in self.ok("GET", f"/certificates/{cid}")["questions"]}


@contextmanager
def _loop(db_url: str, factory: sessionmaker[Session], logs: Path, own_journals: tuple[str, ...] = ()
          ) -> Iterator[Loop]:
    processes = Processes(logs, {
        "INTYGSGATEWAY_INTERNAL_API_TOKEN": TOKEN, "INTYGSGATEWAY_ONWARD_TARGET": "recipient",
        "INTYGSGATEWAY_DIRECTORY_CACHE_SECONDS": "0"})  # PU's news of a death is seen at once
    try:
        endpoints = start_loop(processes, db_url, factory, own_journals)
        yield Loop(endpoints.gateway, endpoints.journal, endpoints.recipient, endpoints.http, dict(endpoints.journals))
    finally:
        processes.stop()


@pytest.fixture
def loop(db_url: str, session_factory: sessionmaker[Session], tmp_path: Path) -> Iterator[Loop]:
    with _loop(db_url, session_factory, tmp_path) as running:
        yield running


@pytest.fixture
def clinic_loop(db_url: str, session_factory: sessionmaker[Session], tmp_path: Path) -> Iterator[Loop]:
    """The loop with a journal system of its own at the medicine clinic (unit 2000), which has created a
    draft there (so it is integrated), and a second care giver in the directory."""
    with _loop(db_url, session_factory, tmp_path, own_journals=(CLINIC,)) as running:
        with transaction(session_factory) as session:  # after the demo directory, which start_loop loads
            import_directory(session, parse_directory_document(OTHER_REGION), datetime.now(UTC))
        clinic_draft = create_draft(running.gateway, unit=CLINIC, user=DENTIST)
        wait("the clinic's own SKAPAT", lambda: running.received(clinic_draft, running.journals[CLINIC]))
        yield running


def _answer_ids(certificate: dict[str, Any]) -> list[str]:
    return [answer["id"] for answer in certificate["content"]]


def test_renew_replace_twice_and_revoke_a_replacement(loop: Loop) -> None:
    """Renew drops 1, 26 and 32; replace twice gives one draft; deleting it frees replacement; a signed
    replacement makes the original replaced (no more renewing); revoking it names the one to review."""
    original = loop.signed_and_sent()

    renewed = loop.ok("POST", f"/certificates/{original}/renew", status=201)
    renewal = renewed["certificate"]
    assert (renewed["created"], renewal["status"], renewal["relation_code"], renewal["relation_parent"]) == (
        True, "DRAFT", "FRLANG", original)
    assert _answer_ids(renewal) == ["27", "35", "17", "25"]  # 32 and 26 (and 1, not given) made anew

    first = loop.ok("POST", f"/certificates/{original}/replace", status=201)
    again = loop.ok("POST", f"/certificates/{original}/replace", user=ADMIN)  # 200: the same draft
    assert (again["created"], again["certificate"]["id"]) == (False, first["certificate"]["id"])
    assert first["certificate"]["relation_code"] == "ERSATT"
    assert _answer_ids(first["certificate"]) == _answer_ids(loop.ok("GET", f"/certificates/{original}")["certificate"])

    loop.ok("DELETE", f"/certificates/{first['certificate']['id']}")  # deleting it frees replacement
    second = loop.ok("POST", f"/certificates/{original}/replace", status=201)["certificate"]["id"]
    assert second != first["certificate"]["id"]
    loop.ok("POST", f"/certificates/{second}/sign")
    for operation in ("renew", "replace"):
        status, refused = loop.api("POST", f"/certificates/{original}/{operation}")
        assert (status, refused["code"]) == (409, "ALREADY_REPLACED")
    assert loop.ok("GET", f"/certificates/{original}")["certificate"]["status"] == "SENT"  # still valid

    revoked = loop.ok("POST", f"/certificates/{second}/revoke", body={"reason": "FEL_PATIENT"})
    assert revoked["review"]["certificateId"] == original
    assert loop.ok("POST", f"/certificates/{original}/replace", status=201)["created"] is True

    # the new draft's SKAPAT: its status update carries the relation
    [skapat] = wait("SKAPAT of the renewal", lambda: [
        r for r in loop.http.get(f"{loop.journal}/_mock/received", timeout=5).json()
        if r.get("certificate_id") == renewal["id"]])
    intyg = body_of(skapat["raw_xml"])
    assert intyg.xpath("string(//core:relation/core:typ/types:code)", namespaces=NS) == "FRLANG"
    assert intyg.xpath("string(//core:relation/core:intygs-id/types:extension)", namespaces=NS) == original


def test_complete_a_b_and_c_answer_every_komplt_question(loop: Loop) -> None:
    """Two open KOMPLT questions and a reminder: B (physicians only) makes a draft with the comment, and A
    returns that same completing draft; signing it sends it with svarPa (the latest question) and
    relation KOMPLT, handles both questions and the reminder, and the journal gets HANFRFM for each.
    A completed certificate is renewed, replaced and completed no more. C on another certificate
    answers both questions with one message."""
    original = loop.signed_and_sent()
    q1 = loop.fk_asks(original, "KOMPLT", komplettering=[{"frageId": "35", "text": "Beskriv mer."}])
    q2 = loop.fk_asks(original, "KOMPLT", referensId="fk-ref-2", komplettering=[{"frageId": "17", "text": "Mer."}])
    reminder = loop.fk_asks(original, "PAMINN", paminnelseMeddelandeId=q1)
    status, refused = loop.api("POST", f"/certificates/{original}/questions/{q1}/answer", body={"text": "Svar"})
    assert (status, refused["code"]) == (409, "COMPLETION_REQUIRED")
    status, refused = loop.api("POST", f"/certificates/{original}/questions/{reminder}/answer", body={"text": "x"})
    assert (status, refused["code"]) == (409, "QUESTION_IS_REMINDER")

    status, refused = loop.api("POST", f"/certificates/{original}/complete", ADMIN, {"mode": "B", "text": "Inget"})
    assert (status, refused["code"]) == (403, "ROLE_NOT_ALLOWED")
    made = loop.ok("POST", f"/certificates/{original}/complete", body={"mode": "B", "text": "Inget mer."}, status=201)
    completion = made["certificate"]
    assert (completion["relation_code"], completion["relation_parent"]) == ("KOMPLT", original)
    other = [a for a in completion["content"] if a["id"] == "25"][0]["parts"][0]["value"]
    assert other == "Återbesök om två veckor.\n\nInget mer."
    same = loop.ok("POST", f"/certificates/{original}/complete", ADMIN, {"mode": "A"})
    assert (same["created"], same["certificate"]["id"]) == (False, completion["id"])

    signed = loop.ok("POST", f"/certificates/{completion['id']}/sign")["certificate"]
    assert signed["status"] == "SENDING"  # sent on signing: no separate send
    [registration] = wait("the completion at FK", lambda: [r for r in loop.on_fk("RegisterCertificate")
                                                            if r["certificateId"] == completion["id"]])
    assert registration["valid"] and registration["resultCode"] == "OK", registration
    body = body_of(registration["xml"])
    assert body.xpath("string(//reg:svarPa/core:meddelande-id)", namespaces=NS) == q2
    assert body.xpath("string(//reg:svarPa/core:referens-id)", namespaces=NS) == "fk-ref-2"
    assert body.xpath("string(//core:relation/core:typ/types:code)", namespaces=NS) == "KOMPLT"
    assert body.xpath("string(//core:relation/core:intygs-id/types:extension)", namespaces=NS) == original
    corpus = CORPORA["RegisterCertificate"]
    official = [corpus.SCHEMA.official().schema] if os.environ.get(OFFICIAL_ENV) else []
    for schema in [corpus.SCHEMA.ours().schema, *official]:
        assert message_errors(schema, registration["xml"].encode()) == []
    wait("SENT", lambda: loop.ok("GET", f"/certificates/{completion['id']}")["certificate"]["status"] == "SENT")
    assert loop.questions(original) == {q1: "HANDLED", q2: "HANDLED", reminder: "HANDLED"}
    wait("HANFRFM for each question", lambda: loop.journal_events(original).count("HANFRFM") == 2)

    for operation, body_ in (("renew", None), ("replace", None), ("complete", {"mode": "C", "text": "x"})):
        status, refused = loop.api("POST", f"/certificates/{original}/{operation}", body=body_)
        assert (status, refused["code"]) == (409, "ALREADY_COMPLETED"), operation

    # C: nobody at the unit can take responsibility; one message answers both questions
    another = loop.signed_and_sent()
    k1, k2 = (loop.fk_asks(another, "KOMPLT", komplettering=[{"frageId": "35", "text": "?"}]) for _ in range(2))
    kontakt = loop.fk_asks(another, "KONTKT")
    answered = loop.ok("POST", f"/certificates/{another}/complete", ADMIN,
                       {"mode": "C", "text": "Ingen kan ta ansvar."}, status=201)["answer"]
    assert (answered["amne"], answered["answerTo"]) == ("KOMPLT", k2)
    assert loop.questions(another) | {answered["messageId"]: "ANSWERED"} == {
        k1: "ANSWERED", k2: "ANSWERED", kontakt: "OPEN", answered["messageId"]: "ANSWERED"}
    [message] = wait("the answer at FK", lambda: [r for r in loop.on_fk("SendMessageToRecipient")
                                                   if r["certificateId"] == another])
    assert message["resultCode"] == "OK" and k2 in message["xml"]
    wait("HANFRFM for each question", lambda: loop.journal_events(another).count("HANFRFM") == 2)
    status, refused = loop.api("POST", f"/certificates/{another}/complete", body={"mode": "A"})
    assert (status, refused["code"]) == (409, "NO_OPEN_COMPLETION")


def test_a_deceased_patients_allowed_and_refused_operations(loop: Loop, session_factory: sessionmaker[Session]
                                                            ) -> None:
    """PU marks the patient deceased: nothing new (renew, replace, complete A) for them; a draft written
    while they lived is signed and sent, FK's questions are answered (C), and a certificate is revoked."""
    sent = loop.signed_and_sent()
    draft = create_draft(loop.gateway)
    loop.ok("PUT", f"/certificates/{draft}/content", body=CONTENT)
    with transaction(session_factory) as session:
        session.execute(text("UPDATE patient SET deceased = :yes WHERE person_id = '191212121212'"), {"yes": True})

    question = loop.fk_asks(sent, "KOMPLT", komplettering=[{"frageId": "35", "text": "?"}])
    for operation, body in (("renew", None), ("replace", None), ("complete", {"mode": "A"})):
        status, refused = loop.api("POST", f"/certificates/{sent}/{operation}", body=body)
        assert (status, refused["code"]) == (409, "PATIENT_DECEASED"), operation

    assert loop.ok("POST", f"/certificates/{draft}/sign")["certificate"]["status"] == "SIGNED"
    assert loop.ok("POST", f"/certificates/{draft}/send")["certificate"]["status"] == "SENDING"
    answer = loop.ok("POST", f"/certificates/{sent}/complete", body={"mode": "C", "text": "Patienten har avlidit."},
                     status=201)["answer"]
    assert answer["answerTo"] == question
    kontakt = loop.fk_asks(sent, "KONTKT")
    loop.ok("POST", f"/certificates/{sent}/questions/{kontakt}/answer", body={"text": "Ring oss."}, status=201)
    assert loop.ok("POST", f"/certificates/{sent}/revoke", body={"reason": "FEL_PATIENT"})["certificate"][
        "status"] == "REVOKED"


def test_related_drafts_at_the_users_unit_reach_that_units_journal(clinic_loop: Loop) -> None:
    """A dentist working at the clinic renews, replaces and completes a certificate of the health centre
    with "unit": the clinic. Each draft is at the clinic, with the clinic's name; its SKAPAT is addressed to
    the clinic and reaches the clinic's own journal system, not the health centre's. A unit the directory
    does not know, one the user has no assignment on, one of another care giver and one that is no HSA-id
    are refused with their codes, and without a unit the draft is at the certificate's own unit."""
    loop = clinic_loop
    clinic_journal = loop.journals[CLINIC]
    original = loop.signed_and_sent()

    renewal = loop.ok("POST", f"/certificates/{original}/renew", DENTIST, {"unit": CLINIC}, status=201)["certificate"]
    assert (renewal["unit"]["hsa_id"], renewal["unit"]["name"], renewal["care_giver"]["hsa_id"]) == (
        CLINIC, "Sjukhuset Demo, medicinkliniken", "SE2321000016-0001")
    [skapat] = wait("SKAPAT at the clinic's journal", lambda: loop.received(renewal["id"], clinic_journal))
    assert (skapat["event_code"], skapat["logical_address"], skapat["valid"]) == ("SKAPAT", CLINIC, True), skapat
    intyg = body_of(skapat["raw_xml"])
    assert intyg.xpath("string(//core:skapadAv/core:enhet/core:enhets-id/types:extension)", namespaces=NS) == CLINIC
    assert intyg.xpath("string(//core:relation/core:typ/types:code)", namespaces=NS) == "FRLANG"
    assert loop.received(renewal["id"]) == []  # nothing about it at the health centre's journal

    fk_question = loop.fk_asks(original, "KOMPLT", komplettering=[{"frageId": "35", "text": "?"}])
    completion = loop.ok("POST", f"/certificates/{original}/complete", DENTIST, {"mode": "A", "unit": CLINIC},
                         status=201)["certificate"]
    assert completion["unit"]["hsa_id"] == CLINIC and loop.questions(original)[fk_question] == "OPEN"
    replacing = loop.ok("POST", f"/certificates/{original}/replace", DENTIST, {"unit": CLINIC.lower()},
                        status=201)["certificate"]
    assert replacing["unit"]["hsa_id"] == CLINIC
    again = loop.ok("POST", f"/certificates/{original}/replace", LAKARE, {"unit": UNIT})  # exists: returned
    assert (again["created"], again["certificate"]["id"]) == (False, replacing["id"])
    wait("both SKAPAT at the clinic's journal", lambda: all(
        loop.received(c["id"], clinic_journal) for c in (completion, replacing)))

    for user, body, expected in (
        (DENTIST, {"unit": "SE2321000016-9999"}, (400, "UNIT_UNKNOWN", "SE2321000016-9999")),
        (LAKARE, {"unit": CLINIC}, (403, "NO_ASSIGNMENT", CLINIC)),
        (TWO_REGIONS_LAKARE, {"unit": OTHER_REGION_UNIT}, (403, "OTHER_CARE_GIVER", OTHER_REGION_UNIT)),
        (DENTIST, {"unit": "Sjukhuset Demo"}, (400, "INVALID_BODY", None)),
        (DENTIST, {"unit": ""}, (400, "INVALID_BODY", None)),
    ):
        status, refused = loop.api("POST", f"/certificates/{original}/renew", user, body)
        assert (status, refused["code"], refused.get("unit")) == expected, refused

    at_home = loop.ok("POST", f"/certificates/{original}/renew", DENTIST, {"unit": None}, status=201)["certificate"]
    assert at_home["unit"]["hsa_id"] == UNIT
    wait("SKAPAT at the health centre's journal", lambda: loop.received(at_home["id"]))
    children = {c["id"] for c in (renewal, completion, replacing, at_home)}
    assert len(children) == 4
