"""CreateDraftCertificate v3 end to end: HTTP on loopback, Spyne, the XSDs, the rules and the database.

zeep builds its client from the running gateway's ``?wsdl``; refusals are posted as raw SOAP so that
each case can be exact. Every refusal must answer HTTP 200 with the contract's ERROR result and leave
no row behind.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, cast

import pytest
import structlog
from lxml import etree
from zeep.plugins import HistoryPlugin

from cli import main
from cli.settings import Settings
from cli.wiring import gateway_deps
from contracts.ns import CORE, CREATE_DRAFT_V3, TYPES
from domain import result_texts as texts
from domain.directory import DirectoryUnavailable
from domain.values import HsaId
from gateway.validation import schema_for_wsdl
from simulator.journal import MockJournal, Mode
from simulator.server import running as journal_running
from store import certificates, outbox, pdl, units
from store.session import transaction
from tests.envelopes import create_draft_envelope, date_period, delsvar, element, prefill_element, svar, zeep_draft
from tests.integration.gateway_server import (
    CREATE_DRAFT_PATH,
    Gateway,
    demo_gateway_deps,
    plain_session,
    running,
    zeep_client,
)
from tests.integration.outbox_env import Clock, catalogue_for, make_dispatcher

RIVTA_PATH = CREATE_DRAFT_PATH
INCUMBENT_PATH = "/services/create-draft-certificate/v3.0"
VALIDATION_PERSON = "191212121212"  # Tolvan: configured as a validation person in one test only
OFFICIAL_WSDL = ("clinicalprocess-healthcond-certificate/schemas/interactions/CreateDraftCertificateInteraction/"
                 "CreateDraftCertificateInteraction_3.3_RIVTABP21.wsdl")
OUR_WSDL = (Path(__file__).resolve().parents[2] / "xsd/clinicalprocess-healthcond-certificate/interactions"
            / "CreateDraftCertificateInteraction/CreateDraftCertificateInteraction_3.3_RIVTABP21.wsdl")

pytestmark = pytest.mark.integration


def _demo_patients() -> list[dict[str, Any]]:
    data = json.loads(resources.files("cli").joinpath("demo_directory.json").read_text(encoding="utf-8"))
    return list(data["patients"])


def _patient(**flags: bool) -> str:
    for patient in _demo_patients():
        if all(bool(patient.get(key)) == value for key, value in flags.items()):
            return str(patient["personId"])
    raise AssertionError(f"the demo directory has no patient with {flags}")


@pytest.fixture
def gateway(db_url: str) -> Iterator[Gateway]:
    _, deps = demo_gateway_deps(db_url, validation_persons=())
    with running(deps, db_url) as gateway:
        yield gateway


def _result(envelope: etree._Element) -> dict[str, str | None]:
    result = envelope.find(f".//{{{CREATE_DRAFT_V3}}}result")
    assert result is not None, etree.tostring(envelope)
    return {
        "code": result.findtext(f"{{{CORE}}}resultCode"),
        "error_id": result.findtext(f"{{{CORE}}}errorId"),
        "text": result.findtext(f"{{{CORE}}}resultText"),
    }


def _response_schema() -> Any:
    official = os.environ.get("RIVTA_OFFICIAL_SCHEMAS")
    return schema_for_wsdl(Path(official) / OFFICIAL_WSDL if official else OUR_WSDL)


def _assert_refused(gateway: Gateway, body: bytes, text: texts.ResultText, **kwargs: Any) -> dict[str, str | None]:
    before = gateway.row_counts()
    status, envelope, _ = gateway.post(body, **kwargs)
    assert status == 200
    result = _result(envelope)
    assert result["code"] == "ERROR"
    assert result["error_id"] == text.error_id.value
    assert text.sv.split("{")[0] in (result["text"] or ""), result["text"]
    assert envelope.find(f".//{{{CREATE_DRAFT_V3}}}intygs-id") is None
    assert not _response_schema().violations([], envelope[0][0])
    assert gateway.row_counts() == before
    return result


def test_zeep_from_wsdl_creates_a_draft_with_every_consequence_stored(gateway: Gateway) -> None:
    """zeep built from ?wsdl gets OK with an id; draft, unit, SKAPAT event and PDL record are stored."""
    session = plain_session()
    history = HistoryPlugin()  # type: ignore[no-untyped-call]
    client = zeep_client(f"{gateway.url}{RIVTA_PATH}?wsdl", session, [history])
    response = client.service.CreateDraftCertificate(
        _soapheaders={"LogicalAddress": "SE2321000016-1000"},
        intyg=zeep_draft(unit_name="Vårdcentralen", ref="journal-ref-1"),
    )
    session.close()
    assert response.result.resultCode == "OK"
    assert response["intygs-id"].root == "SE2321000016-1000"
    certificate_id = response["intygs-id"].extension
    received = history.last_received
    assert received is not None
    assert not _response_schema().violations([], received["envelope"][0][0])

    with transaction(gateway.factory) as db:
        draft = certificates.get_certificate(db, certificate_id)
        unit = units.get_integrated_unit(db, HsaId("SE2321000016-1000"))
        events = outbox.events_for_certificate(db, certificate_id)
        records = pdl.records_for_certificate(db, certificate_id)
    assert draft is not None and draft.type_code == "LISJP" and draft.ref == "journal-ref-1"
    assert draft.patient.family_name == "Tolvansson" and not draft.test_certificate
    assert unit is not None and unit.care_giver == HsaId("SE2321000016-0001")
    assert [event.code.value for event in events] == ["SKAPAT"]
    assert events[0].acting_user == HsaId("SE2321000016-P001") and events[0].payload == {"ref": "journal-ref-1"}
    assert [(r.activity, r.purpose, r.resource_type, r.patient_id) for r in records] == [
        ("Skriva", "Vård och behandling", "Intyg", "191212121212")
    ]


def test_the_incumbent_path_answers_too_and_echoes_the_correlation_id(gateway: Gateway) -> None:
    """The /services alias works, and x-skltp-correlation-id comes back."""
    status, envelope, headers = gateway.post(
        create_draft_envelope(), path=INCUMBENT_PATH, headers={"x-skltp-correlation-id": "corr-42"}
    )
    assert status == 200 and _result(envelope)["code"] == "OK"
    assert headers.get("x-skltp-correlation-id") == "corr-42"


def test_extension_content_and_prefill_are_kept(gateway: Gateway) -> None:
    """Elements at wildcard positions and forifyllnad with typed delsvar are stored, not dropped."""
    extension = etree.Element("{urn:example:extension}note")
    extension.text = "kept"
    status, envelope, _ = gateway.post(create_draft_envelope(prefill=prefill_element(), extensions=[extension]))
    assert status == 200 and _result(envelope)["code"] == "OK"
    certificate_id = envelope.findtext(f".//{{{CREATE_DRAFT_V3}}}intygs-id/{{{TYPES}}}extension")
    assert certificate_id is not None
    with transaction(gateway.factory) as db:
        draft = certificates.get_certificate(db, certificate_id)
    assert draft is not None and draft.prefill_xml and "delsvar" in draft.prefill_xml
    assert draft.extensions and all("kept" in e.xml for e in draft.extensions)


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (b"this is not xml", texts.NOT_XML),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', texts.HOSTILE_XML),
        (b"<a>" * 5000 + b"</a>" * 5000, texts.HOSTILE_XML),
        (b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>', texts.NOT_SOAP),
        (create_draft_envelope(person_id="1912121212"), texts.SCHEMA_VIOLATION),
    ],
    ids=["not-xml", "xxe", "deep", "empty-body", "schema"],
)
def test_front_door_refusals_answer_the_contract_with_http_200(
    gateway: Gateway, body: bytes, text: texts.ResultText
) -> None:
    """Bad and hostile input gets ERROR with the catalogue's errorId, never a fault, and stores nothing."""
    _assert_refused(gateway, body, text)


def test_billion_laughs_is_refused_and_stores_nothing(gateway: Gateway) -> None:
    """An entity bomb is refused quickly."""
    bomb = '<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8)
    ) + "]><l>&i;</l>"
    _assert_refused(gateway, bomb.encode(), texts.HOSTILE_XML)


def test_oversize_request_is_refused_unread(db_url: str) -> None:
    """A body over max_request_bytes is answered from its Content-Length alone."""
    _, deps = demo_gateway_deps(db_url)
    with running(replace(deps, max_request_bytes=4096), db_url) as gateway:
        _assert_refused(gateway, create_draft_envelope(ref="x" * 10_000), texts.TOO_LARGE)


def test_schema_violation_names_the_element_path(gateway: Gateway) -> None:
    """A schema error names where it is."""
    result = _assert_refused(gateway, create_draft_envelope(person_id="1912121212"), texts.SCHEMA_VIOLATION)
    assert "person-id/extension" in (result["text"] or "")


@pytest.mark.parametrize(
    ("overrides", "text"),
    [
        ({"user_hsa_id": "SE2321000016-NOBODY"}, texts.ISSUER_UNKNOWN),
        ({"unit_hsa_id": "SE2321000016-2000", "unit_name": "Annan enhet"}, texts.ISSUER_NO_ASSIGNMENT),
        ({"family_name": "  "}, texts.PATIENT_FAMILY_NAME_MISSING),
        ({"person_id": "191212121213"}, texts.PERSON_ID_CHECKSUM),
        ({"type_code": "NOSUCHTYPE"}, texts.TYPE_UNKNOWN),
        ({"type_code": "LUSE", "user_hsa_id": "SE2321000016-P003"}, texts.ROLE_NOT_ALLOWED),
        ({"person_id": "190101012383"}, texts.PATIENT_UNKNOWN),
    ],
    ids=["unknown-user", "no-assignment", "blank-family-name", "checksum", "unknown-type", "role", "not-in-pu"],
)
def test_business_rules_refuse_with_the_catalogue_answer(
    gateway: Gateway, overrides: dict[str, Any], text: texts.ResultText
) -> None:
    """Each rule answers with its catalogue entry over the wire and stores nothing."""
    _assert_refused(gateway, create_draft_envelope(**overrides), text)


def test_deceased_and_protected_patients_are_refused_over_the_wire(gateway: Gateway) -> None:
    """PU facts reach the rules: deceased patient for LISJP, protected patient for a care administrator."""
    _assert_refused(gateway, create_draft_envelope(person_id=_patient(deceased=True)), texts.PATIENT_DECEASED)
    _assert_refused(
        gateway,
        create_draft_envelope(person_id=_patient(protectedIdentity=True), user_hsa_id="SE2321000016-P002"),
        texts.PROTECTED_PATIENT_ROLE,
    )


def test_a_missing_logical_address_header_is_accepted(gateway: Gateway) -> None:
    """CreateDraftCertificate does not interpret LogicalAddress, so a request without it is served."""
    status, envelope, _ = gateway.post(create_draft_envelope(logical_address=None))
    assert status == 200 and _result(envelope)["code"] == "OK"


def test_hsa_ids_are_matched_case_insensitively(gateway: Gateway) -> None:
    """A user and unit sent in other letter case are still found."""
    status, envelope, _ = gateway.post(
        create_draft_envelope(user_hsa_id="se2321000016-p001", unit_hsa_id=" se2321000016-1000")
    )
    assert status == 200 and _result(envelope)["code"] == "OK"


def test_validation_person_gets_a_test_certificate_without_pdl_record(db_url: str) -> None:
    """A configured validation person's draft is created, marked as test, and not PDL-logged."""
    _, deps = demo_gateway_deps(db_url, validation_persons=(VALIDATION_PERSON,))
    with running(deps, db_url) as gateway:
        status, envelope, _ = gateway.post(create_draft_envelope(person_id=VALIDATION_PERSON))
        certificate_id = envelope.findtext(f".//{{{CREATE_DRAFT_V3}}}intygs-id/{{{TYPES}}}extension")
        assert certificate_id is not None
        with transaction(gateway.factory) as db:
            draft = certificates.get_certificate(db, certificate_id)
            records = pdl.records_for_certificate(db, certificate_id)
    assert status == 200 and draft is not None and draft.test_certificate and records == []


class _DownDirectory:
    def __getattr__(self, name: str) -> Any:
        def unavailable(*args: Any) -> Any:
            raise DirectoryUnavailable("HSA does not answer")

        return unavailable


def test_directory_outage_answers_technical_error(db_url: str) -> None:
    """When HSA/PU does not answer, the journal system is told to try again (TECHNICAL_ERROR)."""
    config, deps = demo_gateway_deps(db_url)
    deps.close()
    with running(gateway_deps(config, directory=_DownDirectory()), db_url) as gateway:
        _assert_refused(gateway, create_draft_envelope(), texts.DEPENDENCY_UNAVAILABLE)


def test_database_outage_answers_technical_error(db_url: str) -> None:
    """A database that cannot be reached gives TECHNICAL_ERROR, not a stack trace."""
    config = Settings(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    with running(gateway_deps(config), db_url) as gateway:
        status, envelope, _ = gateway.post(create_draft_envelope())
    result = _result(envelope)
    assert status == 200 and result["code"] == "ERROR" and result["error_id"] == "TECHNICAL_ERROR"
    assert "Traceback" not in (result["text"] or "")


def test_request_log_line_has_outcome_and_no_personnummer(gateway: Gateway) -> None:
    """One log line per request with contract, result, duration and the new draft; never the personnummer.

    The draft is named on the call's own line (``usecases.call_line``), in the request's context: the
    refused request after it, served by the same threads, names none. (The unit's first draft also
    logs what registering the unit did, here that no route is known yet.)
    """
    with structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        gateway.post(create_draft_envelope())
        _, created, _ = gateway.post(create_draft_envelope())
        gateway.post(create_draft_envelope(person_id="191212121213"))
    calls = [line for line in logs if line["event"] == "soap_request"]
    assert [(line["result_code"], line["error_id"]) for line in calls] == [
        ("OK", None), ("OK", None), ("ERROR", "VALIDATION_ERROR")
    ]
    assert all("duration_ms" in line and line["contract"] == "CreateDraftCertificate" for line in calls)
    assert len({line["correlation_id"] for line in calls}) == 3
    for call in calls[1:]:  # the only line each of these requests wrote
        assert [line for line in logs if line.get("correlation_id") == call["correlation_id"]] == [call]
    certificate_id = created.findtext(f".//{{{CREATE_DRAFT_V3}}}intygs-id/{{{TYPES}}}extension")
    assert certificate_id and {key: calls[1].get(key) for key in ("certificate_id", "unit", "test_certificate")} == {
        "certificate_id": certificate_id, "unit": "SE2321000016-1000", "test_certificate": False
    }
    assert calls[1]["certificate_type"] and calls[0]["certificate_id"] != certificate_id
    assert "certificate_id" not in calls[2]
    assert "191212121212" not in repr(logs) and "191212121213" not in repr(logs)


def test_wsdl_and_imported_schemas_are_served_with_rewritten_addresses(gateway: Gateway) -> None:
    """?wsdl names the URL it came from; ?xsd= serves only whitelisted schemas."""
    with urllib.request.urlopen(f"{gateway.url}{INCUMBENT_PATH}?wsdl", timeout=10) as response:
        wsdl = etree.fromstring(response.read())
    address = wsdl.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert address is not None and address.get("location") == f"{gateway.url}{INCUMBENT_PATH}"
    locations = cast(list[str], wsdl.xpath("//@schemaLocation"))  # an attribute path selects strings
    assert locations and all(loc.startswith(f"{gateway.url}{INCUMBENT_PATH}?xsd=") for loc in locations)
    for location in locations:
        with urllib.request.urlopen(location, timeout=10) as response:
            assert etree.fromstring(response.read()).tag == "{http://www.w3.org/2001/XMLSchema}schema"
    for bad in ("../../../../../etc/passwd", "nope.xsd"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{gateway.url}{RIVTA_PATH}?xsd={bad}", timeout=10)
        assert refused.value.code == 404
        refused.value.close()


def test_probes_answer(gateway: Gateway) -> None:
    """/healthz is up; /readyz reports the database and the directory's age."""
    with urllib.request.urlopen(f"{gateway.url}/healthz", timeout=10) as response:
        assert json.loads(response.read()) == {"status": "up"}
    with urllib.request.urlopen(f"{gateway.url}/readyz", timeout=10) as response:
        ready = json.loads(response.read())
    assert ready["status"] == "ready" and ready["database"] == "ok"
    assert ready["directory"]["ageSeconds"] is not None and ready["directory"]["ageSeconds"] >= 0


@pytest.mark.parametrize(
    "prefill",
    [
        prefill_element(svar("28", delsvar("28.x", "Snickare"))),
        prefill_element(svar("32", delsvar("32.2", date_period("2024-13-01")))),
        prefill_element(svar("29", delsvar("29.1", element("core:note", "n")))),
    ],
    ids=["part-id", "bad-date", "core-element-in-delsvar"],
)
def test_a_prefill_that_is_not_a_valid_svar_is_refused_and_stores_nothing(gateway: Gateway, prefill: Any) -> None:
    """forifyllnad is validated with the request against the same schema as content written later:
    a bad svar answers VALIDATION_ERROR and leaves no draft, event or PDL record behind."""
    _assert_refused(gateway, create_draft_envelope(prefill=prefill), texts.SCHEMA_VIOLATION)


def test_one_request_can_be_followed_to_its_status_updates_by_correlation_id(
        gateway: Gateway, capsys: pytest.CaptureFixture[str]) -> None:
    """The request's x-skltp-correlation-id is kept with the SKAPAT it caused; every attempt to deliver
    SKAPAT (a technical error, then OK) sends the event's own id, and ``outbox show`` prints both."""
    status, envelope, _ = gateway.post(create_draft_envelope(), headers={"x-skltp-correlation-id": "journal-req-77"})
    assert status == 200 and _result(envelope)["code"] == "OK"
    certificate_id = envelope.findtext(f".//{{{CREATE_DRAFT_V3}}}intygs-id/{{{TYPES}}}extension")
    assert certificate_id is not None
    with transaction(gateway.factory) as db:
        [skapat] = outbox.events_for_certificate(db, certificate_id)
    assert skapat.request_correlation_id == "journal-req-77" != skapat.correlation_id
    journal = MockJournal(Mode.TECHNICAL_ERROR)
    clock = Clock(datetime.now(UTC) + timedelta(seconds=1))
    with journal_running(journal) as url:
        dispatcher, sender = make_dispatcher(gateway.factory, catalogue_for(url, address="*"), clock)
        try:
            assert dispatcher.run_batch() == 1
            journal.set_mode(Mode.OK)
            clock.advance(timedelta(minutes=1))
            assert dispatcher.run_batch() == 1
        finally:
            sender.close()
    assert [(r.event_code, r.correlation_id) for r in journal.received()] == [
        ("SKAPAT", skapat.correlation_id), ("SKAPAT", skapat.correlation_id)]
    capsys.readouterr()  # what the gateway logged so far
    assert main(["outbox", "show", str(skapat.id), "--db", gateway.db_url, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["event"]["request_correlation_id"] == "journal-req-77"
    assert [(a["outcome"], a["correlation_id"]) for a in shown["attempts"]] == [
        ("technical-error", skapat.correlation_id), ("ok", skapat.correlation_id)]
    assert main(["outbox", "show", str(skapat.id), "--db", gateway.db_url]) == 0
    printed = capsys.readouterr().out
    assert f"correlation_id     {skapat.correlation_id}" in printed
    assert "request_correlation_id journal-req-77" in printed.replace("  ", " ")
