"""ListCertificatesForCareWithQA v3 end to end: HTTP on loopback, Spyne, the XSDs, the rules and the database.

Certificates are made the way the field makes them: CreateDraftCertificate over SOAP, the lifecycle
and question use cases for what physicians do, SendMessageToCare over SOAP for Försäkringskassan's
questions. Each answer is checked against the official schema when ``RIVTA_OFFICIAL_SCHEMAS`` is
set (ours otherwise). A real ``serve`` process answers zeep built from its ``?wsdl``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from lxml import etree
from sqlalchemy import delete, func, select
from zeep.plugins import HistoryPlugin

from cli.wiring import gateway_deps
from contracts.intyg import local_time
from contracts.ns import LIST_CERTIFICATES_V3
from domain import result_texts as texts
from domain.arenden import Amne
from domain.events import event_about
from domain.values import CertificateStatus, EventCode, HsaId
from routing.catalogue import AccessRight, Catalogue
from routing.provider import StaticProvider
from store import certificate_events, certificates, outbox
from store.certificate_events import CertificateEventRow
from store.outbox.tables import OutboxRow
from store.pdl import PdlRow
from store.session import make_engine, make_session_factory, transaction
from tests import send_message_to_care as smtc
from tests.builders import CONTENT, make_operable_draft
from tests.conformance import list_certificates_corpus
from tests.conformance.schemas import message_errors
from tests.envelopes import SAMORDNINGSNUMMER_ROOT, create_draft_envelope
from tests.integration.gateway_server import Gateway, demo_gateway_deps, plain_session, running, zeep_client
from tests.integration.processes import stop, wait_until_up
from tests.list_certificates import INCUMBENT_PATHS, LIST_PATH, fault_of, list_envelope, read_items
from tests.pki import ALLOWED, REFUSED, build_pki
from usecases import lifecycle, questions, relations
from usecases.certificate_list import LIST_ACTIVITY, UNIDENTIFIED_CALLER
from usecases.lifecycle import LifecycleDeps

CREATE_DRAFT_PATH = "/clinicalprocess/healthcond/certificate/CreateDraftCertificate/3/rivtabp21"
SMTC_PATH = "/clinicalprocess/healthcond/certificate/SendMessageToCare/2/rivtabp21"
LAKARE = HsaId("SE2321000016-P001")
TOLVAN, SAMUEL = "191212121212", "197010632391"
UNIT, OTHER_UNIT, CARE_GIVER = "SE2321000016-1000", "SE2321000016-2000", "SE2321000016-0001"
BIN = Path(sys.executable).parent / "intygsgateway"

pytestmark = pytest.mark.integration


@pytest.fixture
def gateway(db_url: str) -> Iterator[Gateway]:
    _, deps = demo_gateway_deps(db_url, validation_persons=())
    with running(deps, db_url) as gateway:
        yield gateway



def _draft(gateway: Gateway, ref: str | None = None, **overrides: Any) -> str:
    status, envelope, _ = gateway.post(create_draft_envelope(ref=ref, **overrides), path=CREATE_DRAFT_PATH)
    assert status == 200, etree.tostring(envelope)
    certificate_id = envelope.findtext(".//{urn:riv:clinicalprocess:healthcond:certificate:types:3}extension")
    assert certificate_id
    return certificate_id


def _schema() -> etree.XMLSchema:
    compiled = (list_certificates_corpus.SCHEMA.official() if os.environ.get("RIVTA_OFFICIAL_SCHEMAS")
                else list_certificates_corpus.SCHEMA.ours())
    return compiled.schema


def _list(gateway: Gateway, path: str = LIST_PATH, **overrides: Any) -> list[Any]:
    """The items of an answered request; the answer is valid against the (official) schema."""
    status, envelope, _ = gateway.post(list_envelope(**overrides), path=path)
    assert status == 200, etree.tostring(envelope)
    assert message_errors(_schema(), etree.tostring(envelope)) == []
    return read_items(envelope)


def _reads(gateway: Gateway) -> list[tuple[str, str, str | None]]:
    """The PDL log's read records of lists: (user, unit, the certificates read there)."""
    return _list_reads(gateway.factory)


def _list_reads(factory: Any) -> list[tuple[str, str, str | None]]:
    with transaction(factory) as session:
        rows = session.execute(select(PdlRow.user_id, PdlRow.user_care_unit_id, PdlRow.activity_args)
                               .where(PdlRow.activity == "Läsa", PdlRow.activity_level == LIST_ACTIVITY,
                                      PdlRow.patient_id.is_not(None))
                               .order_by(PdlRow.id)).all()
    return [(row[0], row[1], row[2]) for row in rows]


def _sign(deps: LifecycleDeps, certificate_id: str) -> None:
    """Write the answers (a draft with none cannot be signed), then sign."""
    lifecycle.update_content(deps, certificate_id, LAKARE, CONTENT, "edit")
    lifecycle.sign(deps, certificate_id, LAKARE, "sign")


def test_a_patients_certificates_newest_first_with_events_counts_and_ref(gateway: Gateway) -> None:
    """Drafts, revoked and sent alike, newest first; events in order with hanteratAv and the question's
    amne; counts as status updates count them; ref as created; another unit's or patient's left out."""
    deps = gateway.lifecycle_deps()
    sent = _draft(gateway, ref="journal-1")
    _sign(deps, sent)
    lifecycle.send(deps, sent, LAKARE, "send")
    with transaction(gateway.factory) as session:  # the recipient accepted (no worker runs here)
        certificates.accept_sends(session, {sent}, datetime.now(UTC))
    for envelope in (smtc.question(message_id="fk-q-1", certificate_id=sent),
                     smtc.question(message_id="fk-q-2", certificate_id=sent, amne="KONTKT", kompletteringar=()),
                     smtc.reminder("fk-q-1", message_id="fk-r-1", certificate_id=sent, deadline="2024-03-08")):
        status, answer, _ = gateway.post(envelope, path=SMTC_PATH)
        code = answer.findtext(".//{urn:riv:clinicalprocess:healthcond:certificate:3}resultCode")
        assert status == 200 and code == "OK", etree.tostring(answer)
    questions.answer_question(deps, sent, "fk-q-2", LAKARE, "Ring oss", "answer")
    asked = questions.ask_question(deps, sent, LAKARE, Amne.KONTKT, "Kontakt", "Ring mig", "ask")
    questions.mark_question_handled(deps, sent, asked.message_id, LAKARE, "handled")
    revoked = _draft(gateway, ref="journal-2")
    _sign(deps, revoked)
    lifecycle.revoke(deps, revoked, LAKARE, "FEL_PATIENT", "Fel patient", "revoke")
    draft = _draft(gateway)  # no ref
    _draft(gateway, person_id=SAMUEL, person_id_root=SAMORDNINGSNUMMER_ROOT)  # another patient

    with structlog.testing.capture_logs() as logs:
        items = _list(gateway)
    assert TOLVAN not in repr(logs)
    assert [item.certificate_id for item in items] == [draft, revoked, sent]
    newest, middle, oldest = items
    assert [code for code, _ in newest.events] == ["SKAPAT"] and newest.ref is None
    assert [code for code, _ in middle.events] == ["SKAPAT", "ANDRAT", "SIGNAT", "MAKULE"]
    assert middle.ref == "journal-2"
    assert [code for code, _ in oldest.events] == ["SKAPAT", "ANDRAT", "SIGNAT", "NYFRFM", "NYFRFM", "NYFRFM",
                                                   "HANFRFM", "NYFRFV", "HANFRFV"]
    assert oldest.handled_by == [LAKARE.value, LAKARE.value, LAKARE.value, None, None, None, LAKARE.value,
                                 LAKARE.value, LAKARE.value]
    assert oldest.amne[3:6] == ["KOMPLT", "KONTKT", "PAMINN"]
    assert [at for _, at in oldest.events] == sorted(at for _, at in oldest.events)
    assert oldest.received == (2, 1, 1, 0)  # KOMPLT open, KONTKT answered; the reminder is no question
    assert oldest.sent == (1, 0, 0, 1)  # care's question, handled
    assert oldest.ref == "journal-1"
    assert _reads(gateway) == [(UNIDENTIFIED_CALLER.value, UNIT, f"{draft} {revoked} {sent}")]  # one per unit


def test_a_renewal_is_listed_with_its_relation_to_the_renewed(gateway: Gateway) -> None:
    """The list writes each intyg as status updates do: a renewing draft carries relation FRLANG naming
    the certificate it renews (at the issuing unit), the renewed one none; valid by the schema."""
    deps = gateway.lifecycle_deps()
    original = _draft(gateway)
    _sign(deps, original)
    renewal = relations.renew(deps, original, LAKARE, "renew").certificate.id
    status, envelope, _ = gateway.post(list_envelope(), path=LIST_PATH)
    assert status == 200 and message_errors(_schema(), etree.tostring(envelope)) == []
    found = {}
    for intyg in envelope.iterfind(".//{*}intyg"):
        relation = intyg.find("{*}relation")
        found[intyg.findtext("{*}intygs-id/{*}extension")] = None if relation is None else (
            relation.findtext("{*}typ/{*}code"), relation.findtext("{*}intygs-id/{*}extension"),
            relation.findtext("{*}intygs-id/{*}root"))
    assert found == {renewal: ("FRLANG", original, UNIT), original: None}


@pytest.mark.parametrize("cache", [1000, 0], ids=["reused", "uncached"])
def test_a_second_list_shows_every_change_since_the_first(db_url: str, cache: int) -> None:
    """Whatever the process keeps from the first list, the second shows the signing, the revocation,
    a new question and a deletion that happened in between; with the cache off as well."""
    _, deps = demo_gateway_deps(db_url, validation_persons=(), list_cache_certificates=cache)
    with running(deps, db_url) as gateway:
        changed, deleted, kept = _draft(gateway), _draft(gateway), _draft(gateway)
        first = _list(gateway)
        assert [item.certificate_id for item in first] == [kept, deleted, changed]
        life = gateway.lifecycle_deps()
        _sign(life, changed)
        lifecycle.revoke(life, changed, LAKARE, "FEL_PATIENT", None, "revoke")
        lifecycle.delete(life, deleted, LAKARE, "delete")
        second = _list(gateway)
        assert [item.certificate_id for item in second] == [kept, changed]
        assert second[0] == first[0]
        assert [code for code, _ in second[1].events] == ["SKAPAT", "ANDRAT", "SIGNAT", "MAKULE"]
        status, envelope, _ = gateway.post(list_envelope(), path=LIST_PATH)
        statuses = [s.text for s in envelope.iterfind(".//{*}status/{*}status/{*}code")]
        assert status == 200 and statuses == ["CANCEL"]


def test_histories_are_read_whole_for_certificates_read_again_and_checked_for_those_reused(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first list reads every history whole without asking for their stamps; the next one asks for
    the stamps of the certificates it reuses, and an event added to one of them without a new
    version of the certificate (as a question from the recipient adds NYFRFM) is listed."""
    asked: list[list[str]] = []
    history_stamps = certificate_events.history_stamps

    def stamps(session: Any, ids: Any) -> Any:
        asked.append(sorted(ids))
        return history_stamps(session, ids)

    monkeypatch.setattr(certificate_events, "history_stamps", stamps)
    _, deps = demo_gateway_deps(db_url, validation_persons=(), list_cache_certificates=1000)
    with running(deps, db_url) as gateway:
        first, second = _draft(gateway), _draft(gateway)
        assert [item.certificate_id for item in _list(gateway)] == [second, first]
        assert asked == [[]]
        with transaction(gateway.factory) as session:
            header = certificates.certificates_by_id(session, [first])[first].header
            outbox.enqueue(session, event_about(header, EventCode.NYFRFM, datetime.now(UTC), "test", None))
        listed = _list(gateway)
        assert asked[1] == sorted([first, second])
        assert [code for code, _ in listed[1].events] == ["SKAPAT", "NYFRFM"]
        assert [code for code, _ in listed[0].events] == ["SKAPAT"]


def test_the_list_survives_the_outbox_being_purged(gateway: Gateway) -> None:
    """The incumbent loses a certificate whose status-update rows are gone; here the history stays."""
    first, second = _draft(gateway), _draft(gateway)
    before = _list(gateway)
    with transaction(gateway.factory) as session:
        session.execute(delete(OutboxRow))
    assert _list(gateway) == before
    assert [item.certificate_id for item in before] == [second, first]


def test_a_deleted_draft_is_not_listed_and_leaves_no_history(gateway: Gateway) -> None:
    """RADERA removes the certificate and its history; the outbox keeps its events for delivery."""
    kept, deleted = _draft(gateway), _draft(gateway)
    lifecycle.delete(gateway.lifecycle_deps(), deleted, LAKARE, "delete")
    assert [item.certificate_id for item in _list(gateway)] == [kept]
    with transaction(gateway.factory) as session:
        left = session.scalar(select(func.count()).select_from(CertificateEventRow)
                              .where(CertificateEventRow.certificate_id == deleted))
    assert left == 0


def _stored_with_events(gateway: Gateway, certificate_id: str, unit: str, times: list[datetime]) -> None:
    """A certificate of Samuel's stored directly at ``unit``, with SKAPAT then ANDRAT events at ``times``
    queued as the use cases queue them (so they enter its history)."""
    draft = make_operable_draft(certificate_id, times[0])
    certificate = replace(draft, unit=replace(draft.unit, hsa_id=HsaId(unit)))
    with transaction(gateway.factory) as session:
        certificates.add_certificate(session, certificate)
        for n, at in enumerate(times):
            code = EventCode.SKAPAT if n == 0 else EventCode.ANDRAT
            outbox.enqueue(session, event_about(certificate.header, code, at, "test", LAKARE))


def _samuels(gateway: Gateway, **overrides: Any) -> list[str]:
    """The ids Samuel's list holds (see ``_stored_with_events``)."""
    return [item.certificate_id for item in _samuel(gateway, **overrides)]


def _samuel(gateway: Gateway, **overrides: Any) -> list[Any]:
    return _list(gateway, person_id=SAMUEL, person_id_root=SAMORDNINGSNUMMER_ROOT, **overrides)


def test_the_window_selects_by_event_time_both_ends_inclusive_in_swedish_local_time(gateway: Gateway) -> None:
    """fromTidpunkt/tomTidpunkt are local time; a certificate is listed with its events inside the window."""
    t0 = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)
    _stored_with_events(gateway, "early", UNIT, [t0, t0 + timedelta(days=1)])
    _stored_with_events(gateway, "late", UNIT, [t0 + timedelta(days=5), t0 + timedelta(days=6)])
    window = {"from_time": local_time(t0 + timedelta(days=1)), "to_time": local_time(t0 + timedelta(days=5))}
    items = _samuel(gateway, **window)
    assert [(item.certificate_id, [code for code, _ in item.events]) for item in items] == [
        ("late", ["SKAPAT"]), ("early", ["ANDRAT"])]
    assert _samuels(gateway, from_time=local_time(t0 + timedelta(days=7))) == []
    assert _samuels(gateway, to_time=local_time(t0)) == ["early"]
    assert _samuels(gateway) == ["late", "early"]


def test_units_in_any_case_or_the_care_giver_select_and_units_win(gateway: Gateway) -> None:
    """Odd casing of HSA-ids; with no unit the care giver's certificates at every unit; units beat it."""
    t0 = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)
    _stored_with_events(gateway, "here", UNIT, [t0])
    _stored_with_events(gateway, "there", OTHER_UNIT, [t0 + timedelta(minutes=1)])
    assert _samuels(gateway, units=(UNIT.lower(),)) == ["here"]
    before = len(_reads(gateway))
    assert _samuels(gateway, units=(), care_giver=CARE_GIVER.lower()) == ["there", "here"]
    assert sorted(_reads(gateway)[before:]) == [  # one read record per unit listed
        (UNIDENTIFIED_CALLER.value, UNIT, "here"), (UNIDENTIFIED_CALLER.value, OTHER_UNIT, "there")]
    assert _samuels(gateway, units=(OTHER_UNIT,), care_giver=CARE_GIVER) == ["there"]
    assert _samuels(gateway, units=("SE2321000016-9999",)) == []
    for path in INCUMBENT_PATHS:
        assert _samuels(gateway, path=path, units=(UNIT,)) == ["here"]


def test_a_samordningsnummer_patient_is_listed(gateway: Gateway) -> None:
    """person-id with the samordningsnummer root finds that patient's certificates, and only those."""
    samuel = _draft(gateway, person_id=SAMUEL, person_id_root=SAMORDNINGSNUMMER_ROOT)
    _draft(gateway)
    items = _list(gateway, person_id=SAMUEL, person_id_root=SAMORDNINGSNUMMER_ROOT)
    assert [item.certificate_id for item in items] == [samuel]


@pytest.mark.parametrize(("overrides", "client", "expected"), [
    ({"units": ()}, True, texts.LIST_NO_UNIT_OR_CARE_GIVER.sv),
    ({"units": ("  ",)}, True, texts.LIST_NO_UNIT_OR_CARE_GIVER.sv),
    ({"person_id": "191212121213"}, True, "Patientens person-id i person-id är inte ett giltigt"),
    ({"person_id": "19121212-1212"}, True, "ListCertificatesForCareWithQA/person-id/extension"),
    ({"from_time": "2026-12-02T00:00:00", "to_time": "2026-12-01T00:00:00"}, True, texts.LIST_WINDOW_REVERSED.sv),
    ({"from_time": "2026-12-01T00:00:00+01:00"}, True, "fromTidpunkt"),
])
def test_a_request_that_cannot_be_answered_gets_a_soap_fault_with_a_clear_text(
    gateway: Gateway, overrides: dict[str, Any], client: bool, expected: str
) -> None:
    """HTTP 500, soap:Client, the text names what to fix; nothing is read or written."""
    _draft(gateway)
    before = gateway.row_counts()
    status, envelope, _ = gateway.post(list_envelope(**overrides), path=LIST_PATH)
    fault = fault_of(envelope)
    assert status == 500 and fault is not None, etree.tostring(envelope)
    assert fault[0] == ("soap:Client" if client else "soap:Server") and expected in fault[1], fault
    assert TOLVAN not in fault[1]
    assert gateway.row_counts() == before


def test_a_body_of_another_contract_and_hostile_xml_are_faults_too(gateway: Gateway) -> None:
    """The front door's refusals come as this contract's faults, not as a ResultType it does not have."""
    status, envelope, _ = gateway.post(create_draft_envelope(), path=LIST_PATH)
    assert status == 500 and fault_of(envelope) is not None
    assert "ListCertificatesForCareWithQA" in fault_of(envelope)[1]  # type: ignore[index]
    hostile = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>'
    status, envelope, _ = gateway.post(hostile, path=LIST_PATH)
    assert status == 500 and fault_of(envelope) is not None


def test_field_shapes_a_byte_order_mark_and_iso_8859_1_are_read(gateway: Gateway) -> None:
    """What journal systems send: UTF-8 with a BOM, or ISO-8859-1 with its declaration; both answer the list."""
    certificate_id = _draft(gateway)
    utf8 = list_envelope()
    for body in (b"\xef\xbb\xbf" + utf8,
                 utf8.replace(b"encoding='UTF-8'", b"encoding='ISO-8859-1'").replace(b"encoding=\"UTF-8\"",
                                                                                   b"encoding=\"ISO-8859-1\"")):
        status, envelope, _ = gateway.post(body, path=LIST_PATH)
        assert status == 200, etree.tostring(envelope)
        assert [item.certificate_id for item in read_items(envelope)] == [certificate_id]


def test_an_oversize_request_gets_the_size_cap_as_a_fault(db_url: str) -> None:
    """The gateway's size cap holds here too, answered as this contract answers: a soap:Client fault."""
    _, deps = demo_gateway_deps(db_url, max_request_bytes=2048)
    with running(deps, db_url) as gateway:
        body = list_envelope(units=tuple(f"SE2321000016-{n:04d}" for n in range(200)))
        status, envelope, _ = gateway.post(body, path=LIST_PATH)
    fault = fault_of(envelope)
    assert status == 500 and fault is not None and fault[0] == "soap:Client"
    assert fault[1] == texts.TOO_LARGE.sv.format(limit=2048)


def test_zeep_from_the_served_wsdl_and_the_xsd_imports(gateway: Gateway) -> None:
    """zeep builds its client from ?wsdl (resolving ?xsd= imports) and reads the list."""
    first = _draft(gateway, ref="zeep-ref")
    session = plain_session()
    history = HistoryPlugin()  # type: ignore[no-untyped-call]
    client = zeep_client(f"{gateway.url}{LIST_PATH}?wsdl", session, [history])
    response = client.service.ListCertificatesForCareWithQA(
        _soapheaders={"LogicalAddress": "SE5565594230-B8N"},
        **{"person-id": {"root": "1.2.752.129.2.1.3.1", "extension": TOLVAN},
           "enhets-id": [{"root": "1.2.752.129.2.1.4.1", "extension": UNIT}]},
    )
    session.close()
    [item] = response.list.item
    assert item.intyg["intygs-id"].extension == first and item.ref == "zeep-ref"
    assert [h.handelsekod.code for h in item.handelser.handelse] == ["SKAPAT"]
    received = history.last_received
    assert received is not None
    assert message_errors(_schema(), etree.tostring(received["envelope"])) == []


# --- a real serve process, with access control ---------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real ``serve`` (gunicorn, one worker) on loopback; yields its URL and its database."""
    folder = tmp_path_factory.mktemp("serve-list")
    port, url = _free_port(), f"sqlite:///{folder / 'gw.db'}"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("INTYGSGATEWAY_")},
           "INTYGSGATEWAY_LOG_LEVEL": "warning"}
    subprocess.run([str(BIN), "db", "upgrade", "--db", url], env=env, check=True, capture_output=True, timeout=60)
    log = folder / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen([str(BIN), "serve", "--demo", "--db", url, "--port", str(port), "--workers", "1",
                                   "--threads", "2", "--no-worker"], stdout=output, stderr=subprocess.STDOUT, env=env)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", server, log)
        yield f"http://127.0.0.1:{port}", url
    finally:
        stop(server)


def test_zeep_calls_a_real_serve_process(served: tuple[str, str]) -> None:
    """zeep built from the process's ?wsdl lists a draft created over SOAP; the read is PDL-logged."""
    base, db = served
    session = plain_session()
    created = session.post(base + CREATE_DRAFT_PATH, data=create_draft_envelope(ref="served"), timeout=30,
                           headers={"Content-Type": "text/xml; charset=utf-8"})
    certificate_id = etree.fromstring(created.content).findtext(
        ".//{urn:riv:clinicalprocess:healthcond:certificate:types:3}extension")
    client = zeep_client(f"{base}/services/list-certificates-for-care-with-qa/v3.0?wsdl", session)
    response = client.service.ListCertificatesForCareWithQA(
        _soapheaders={"LogicalAddress": "SE5565594230-B8N"},
        **{"person-id": {"root": "1.2.752.129.2.1.3.1", "extension": TOLVAN},
           "enhets-id": [{"root": "1.2.752.129.2.1.4.1", "extension": UNIT}]},
    )
    session.close()
    assert [item.intyg["intygs-id"].extension for item in response.list.item] == [certificate_id]
    engine = make_engine(db)
    try:
        assert _list_reads(make_session_factory(engine)) == [(UNIDENTIFIED_CALLER.value, UNIT, certificate_id)]
    finally:
        engine.dispose()


@pytest.mark.parametrize("db_backend", ["sqlite"])
def test_access_rights_come_from_the_catalogue_and_the_reader_is_the_calling_system(db_url: str) -> None:
    """A trusted proxy names the caller; one with the right gets the list (logged as its read), one without VP007."""
    pki = build_pki(Path(db_url.removeprefix("sqlite:///")).parent / "pki", datetime.now(UTC))
    granted = StaticProvider(Catalogue(rights=[AccessRight(ALLOWED, LIST_CERTIFICATES_V3, "SE5565594230-B8N")]))
    settings, _ = demo_gateway_deps(db_url)
    deps = gateway_deps(replace(settings, trusted_proxies=("127.0.0.1/32",), producer_addresses=("SE5565594230-B8N",),
                                proxy_cert_header="X-Forwarded-Tls-Client-Cert", tls_client_ca=pki.trusted_roots),
                        catalogue=granted)
    def as_(client: str) -> dict[str, str]:
        return {"X-Forwarded-Tls-Client-Cert": urllib.parse.quote(pki.clients[client].pem)}

    with running(deps, db_url) as gateway:
        with transaction(gateway.factory) as session:
            stored = make_operable_draft("stored-1", datetime.now(UTC))
            certificates.add_certificate(session, stored)
            outbox.enqueue(session, event_about(stored.header, EventCode.SKAPAT, stored.created_at, "t", LAKARE))
        body = list_envelope(person_id=stored.patient.person_id.digits,
                             person_id_root=stored.patient.person_id.kind.value, units=(stored.unit.hsa_id.value,))
        allowed_status, allowed, _ = gateway.post(body, path=LIST_PATH, headers=as_("allowed"))
        refused_status, refused, _ = gateway.post(body, path=LIST_PATH, headers=as_("refused"))
        reads = _reads(gateway)
    assert allowed_status == 200 and [i.certificate_id for i in read_items(allowed)] == ["stored-1"]
    assert refused_status == 500 and fault_of(refused) is not None
    assert fault_of(refused)[1].startswith("VP007 ")  # type: ignore[index]
    assert reads == [(ALLOWED, stored.unit.hsa_id.value, "stored-1")]
    assert REFUSED not in {user for user, _, _ in reads}
    assert stored.status is CertificateStatus.DRAFT
