"""The typed request context: built by the app, seen by the Spyne glue and the responder, logged once.

The gateway is called in-process as a WSGI application (no server, no database): the use cases run
on an in-memory directory that is down and a unit of work that fails the test if opened, and a
recording StoreLog responder shows what a contract is handed of the request.
"""

from __future__ import annotations

import io
from collections.abc import MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import structlog
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from cli.dev_pki import issue, make_ca
from contracts.call import SoapCall
from contracts.ns import STORE_LOG_V2
from contracts.store_log.v2 import StoreLogResponder
from contracts.store_log.v2.request import read_entries
from domain.certificate_types import load_default_registry
from domain.pdl import SystemIdentity
from domain.values import HsaId
from gateway import soap
from gateway.access import AccessControl
from gateway.app import XSD_ROOT, Endpoint, Gateway, GatewayDeps, Readiness, make_app
from gateway.identity import PEER_CERT_KEY, CallerPolicy
from gateway.request import FAULT, Outcome, SoapRequest
from routing.catalogue import AccessRight, Catalogue
from routing.provider import StaticProvider
from tests import store_log_envelopes as s
from tests.envelopes import create_draft_envelope
from tests.memory import ClosedUnitOfWork, MemoryDirectory
from usecases.create_draft import CreateDraftDeps
from usecases.receive_message import ReceiveMessageDeps
from usecases.store_log import LogStored, StoreLogDeps

NOW = datetime(2026, 11, 21, tzinfo=UTC)
CONSUMER = "SE2321000016-JOURNAL1"
STORE_LOG_PATH = "/informationsecurity/auditing/log/StoreLog/2/rivtabp21"
CREATE_DRAFT_PATH = "/clinicalprocess/healthcond/certificate/CreateDraftCertificate/3/rivtabp21"
STORE_LOG_WSDL = (XSD_ROOT / "informationsecurity-auditing-log" / "interactions" / "StoreLogInteraction"
                  / "StoreLogInteraction_2.0_RIVTABP21.wsdl")
MAX_BYTES = 64 * 1024


class RecordingStoreLog(StoreLogResponder):
    """StoreLog that keeps every ``SoapCall`` it was handed and answers as if every entry were stored."""

    def __init__(self) -> None:
        super().__init__(StoreLogDeps(ClosedUnitOfWork(), lambda: NOW))
        self.calls: list[SoapCall] = []

    def respond(self, body: etree._Element, call: SoapCall) -> etree._Element:
        self.calls.append(call)
        entries = read_entries(body)
        return self.answer(LogStored(len(entries)), entries)


def _gateway(access: AccessControl | None) -> Gateway:
    """A gateway whose use cases may not write (``ClosedUnitOfWork``): these tests are about the front door.

    StoreLog is mounted; ``_mount`` then swaps in the recording responder.
    """
    closed: Any = ClosedUnitOfWork()
    return make_app(GatewayDeps(
        create_draft=CreateDraftDeps(closed, MemoryDirectory(down=True), load_default_registry(),
                                     SystemIdentity("SE0000000000-GW", "Gateway"), lambda: NOW),
        receive_message=ReceiveMessageDeps(closed, lambda: NOW),
        readiness=lambda: Readiness(True),
        max_request_bytes=MAX_BYTES,
        access=access,
        store_log=StoreLogDeps(closed, lambda: NOW),
    ))


@pytest.fixture(scope="module")
def peer_cert() -> bytes:
    """The DER client certificate of CONSUMER, as ``cli.serve`` leaves it in the environ."""
    ca = make_ca("unit root", NOW - timedelta(days=1), NOW + timedelta(days=30))
    client = issue(ca, "journal", NOW - timedelta(days=1), NOW + timedelta(days=30), serial_number=CONSUMER)
    return client.certificate.public_bytes(Encoding.DER)


@pytest.fixture
def responder() -> RecordingStoreLog:
    return RecordingStoreLog()


def _mount(gateway: Gateway, responder: RecordingStoreLog) -> Gateway:
    """Answer StoreLog at its RIVTA path with ``responder``, behind the same WSDL and size limit."""
    gateway.endpoints[STORE_LOG_PATH] = Endpoint("StoreLog", STORE_LOG_WSDL, responder, MAX_BYTES)
    return gateway


@pytest.fixture
def secured(responder: RecordingStoreLog) -> Gateway:
    """Access control on: CONSUMER may call StoreLog for its logical address, nothing else."""
    access = AccessControl(
        catalogue=StaticProvider(Catalogue(rights=[AccessRight(CONSUMER, STORE_LOG_V2, s.LOGICAL_ADDRESS)])),
        callers=CallerPolicy(),
        producer_addresses=(s.LOGICAL_ADDRESS,),
        today=lambda: date(2026, 11, 21),
        instance="unit-gw",
    )
    return _mount(_gateway(access), responder)


@pytest.fixture
def open_gateway(responder: RecordingStoreLog) -> Gateway:
    """Access control off: every caller is admitted unidentified."""
    return _mount(_gateway(None), responder)


def _post(app: Gateway, path: str, body: bytes, **environ: Any) -> tuple[int, dict[str, str], bytes]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": "", "REMOTE_ADDR": "192.0.2.7",
        "SERVER_NAME": "localhost", "SERVER_PORT": "80", "wsgi.url_scheme": "http",
        "CONTENT_TYPE": "text/xml; charset=utf-8", "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
        **environ,
    }
    seen: list[tuple[str, list[tuple[str, str]]]] = []
    chunks = app(env, lambda status, headers, exc_info=None: seen.append((status, headers)))
    status, headers = seen[0]
    return int(status[:3]), dict(headers), b"".join(chunks)


def _request_lines(logs: Sequence[MutableMapping[str, Any]]) -> list[MutableMapping[str, Any]]:
    return [line for line in logs if line["event"] == "soap_request"]


def test_log_line_carries_the_caller_and_the_outcome(secured: Gateway, peer_cert: bytes) -> None:
    """An identified caller's request is logged once with its consumer, path, status and result code."""
    with structlog.testing.capture_logs() as logs:
        status, headers, _ = _post(
            secured, STORE_LOG_PATH, s.store_log_envelope(s.entry()), **{PEER_CERT_KEY: peer_cert}
        )
    [line] = _request_lines(logs)
    assert status == 200
    assert (line["contract"], line["consumer"], line["path"], line["http_status"]) == (
        "StoreLog", CONSUMER, STORE_LOG_PATH, 200
    )
    assert (line["result_code"], line["error_id"]) == ("OK", None)
    assert isinstance(line["duration_ms"], float) and headers["x-skltp-correlation-id"]


def test_responder_gets_address_correlation_id_and_consumer(
    secured: Gateway, responder: RecordingStoreLog, peer_cert: bytes
) -> None:
    """The responder's SoapCall holds the LogicalAddress, the caller's correlation id and the consumer as an HsaId."""
    status, headers, _ = _post(secured, STORE_LOG_PATH, s.store_log_envelope(s.entry()),
                               **{PEER_CERT_KEY: peer_cert, "HTTP_X_SKLTP_CORRELATION_ID": "corr-7"})
    assert (status, headers["x-skltp-correlation-id"]) == (200, "corr-7")
    assert responder.calls == [SoapCall(s.LOGICAL_ADDRESS, "corr-7", HsaId(CONSUMER.lower()), "mtls")]


def test_without_access_control_the_call_names_no_consumer(open_gateway: Gateway, responder: RecordingStoreLog) -> None:
    """Access control off: nobody is identified, and neither the call nor the log line invents a consumer."""
    with structlog.testing.capture_logs() as logs:
        assert _post(open_gateway, STORE_LOG_PATH, s.store_log_envelope(s.entry()))[0] == 200
    assert [call.consumer for call in responder.calls] == [None]
    assert [(line["consumer"], line["result_code"]) for line in _request_lines(logs)] == [(None, "OK")]


def test_request_is_not_visible_to_the_next_one_on_the_same_thread(
    secured: Gateway, open_gateway: Gateway, responder: RecordingStoreLog, peer_cert: bytes
) -> None:
    """Once a call returns its request is unbound; the next call on that thread sees only its own."""

    def bound_after_call() -> bool:
        try:
            soap._current()
        except RuntimeError:
            return False
        return True

    envelope = s.store_log_envelope(s.entry())
    with ThreadPoolExecutor(max_workers=1) as pool:  # one thread, reused as gunicorn's gthread workers reuse theirs
        first = pool.submit(_post, secured, STORE_LOG_PATH, envelope, **{PEER_CERT_KEY: peer_cert}).result()
        leftover = pool.submit(bound_after_call).result()
        second = pool.submit(_post, open_gateway, STORE_LOG_PATH, envelope).result()
    assert (first[0], second[0], leftover) == (200, 200, False)
    assert [call.consumer for call in responder.calls] == [HsaId(CONSUMER), None]
    assert not bound_after_call()


def test_refused_caller_gets_the_fault_and_it_is_logged(secured: Gateway, responder: RecordingStoreLog) -> None:
    """Plain HTTP from a non-proxy is VP011 before the body is read; the log line says FAULT VP011, no consumer."""
    with structlog.testing.capture_logs() as logs:
        status, _, body = _post(secured, STORE_LOG_PATH, s.store_log_envelope(s.entry()))
    [line] = _request_lines(logs)
    assert status == 500 and b"VP011" in body and responder.calls == []
    assert (line["consumer"], line["result_code"], line["error_id"], line["http_status"]) == (None, FAULT, "VP011", 500)


def test_missing_access_right_fault_is_logged_with_the_consumer(secured: Gateway, peer_cert: bytes) -> None:
    """An identified caller without a right for the contract gets VP007; the log line names who it was."""
    with structlog.testing.capture_logs() as logs:
        status, _, body = _post(secured, CREATE_DRAFT_PATH, create_draft_envelope(), **{PEER_CERT_KEY: peer_cert})
    [line] = _request_lines(logs)
    assert status == 500 and b"VP007" in body
    assert (line["contract"], line["consumer"], line["result_code"], line["error_id"]) == (
        "CreateDraftCertificate", CONSUMER, FAULT, "VP007"
    )


def test_oversize_body_is_answered_directly_and_logged(open_gateway: Gateway, responder: RecordingStoreLog) -> None:
    """A body over the limit gets the contract's ERROR answer without Spyne; its outcome is still logged."""
    with structlog.testing.capture_logs() as logs:
        status, _, _ = _post(open_gateway, STORE_LOG_PATH, b"", CONTENT_LENGTH=str(MAX_BYTES + 1))
    [line] = _request_lines(logs)
    assert status == 200 and responder.calls == []
    assert (line["result_code"], line["error_id"]) == ("VALIDATION_ERROR", None)


def test_outcome_records_an_answer_or_a_fault_and_the_last_one_counts() -> None:
    """An answer is its result code and error id; a fault is FAULT and its VP code; a later record replaces."""
    outcome = Outcome()
    assert (outcome.result_code, outcome.error_id) == (None, None)
    outcome.answered("ERROR", "VALIDATION_ERROR")
    assert (outcome.result_code, outcome.error_id) == ("ERROR", "VALIDATION_ERROR")
    outcome.faulted("VP007")
    assert (outcome.result_code, outcome.error_id) == (FAULT, "VP007")


def test_request_is_frozen_and_compares_without_its_outcome() -> None:
    """The context cannot be rewritten on its way down; recording the outcome does not change what it is."""
    request = SoapRequest("cid", "StoreLog", STORE_LOG_PATH, STORE_LOG_V2)
    same = SoapRequest("cid", "StoreLog", STORE_LOG_PATH, STORE_LOG_V2)
    request.outcome.answered("OK", None)
    assert request == same and hash(request) == hash(same) and request.consumer is None
    with pytest.raises(AttributeError):
        request.correlation_id = "other"  # type: ignore[misc]


def _result(body: bytes) -> tuple[str | None, str | None, str]:
    """resultCode, errorId and resultText of any contract's answer, read by local name."""
    values: dict[str, str] = {}
    for element in etree.fromstring(body).iter():
        if isinstance(element.tag, str) and element.text:
            values.setdefault(etree.QName(element).localname, element.text)
    return values.get("resultCode"), values.get("errorId"), values.get("resultText", "")


def test_a_draft_posted_to_the_store_log_address_gets_the_wrong_operation_answer(
    secured: Gateway, responder: RecordingStoreLog, peer_cert: bytes
) -> None:
    """The commonest misrouting: StoreLog's own ResultType, HTTP 200, naming StoreLog and the element received."""
    status, _, body = _post(secured, STORE_LOG_PATH, create_draft_envelope(), **{PEER_CERT_KEY: peer_cert})
    code, error_id, text = _result(body)
    assert (status, code, error_id) == (200, "VALIDATION_ERROR", None) and responder.calls == []
    assert text.startswith("Tjänsten på den här adressen tar bara emot StoreLog "
                           "(urn:riv:informationsecurity:auditing:log:StoreLogResponder:2), men meddelandet innehåller "
                           "CreateDraftCertificate (urn:riv:clinicalprocess:healthcond:certificate:"
                           "CreateDraftCertificateResponder:3).")
    assert "No matching global declaration" not in text


@pytest.mark.parametrize(
    "body",
    [
        s.store_log_envelope(s.entry()),
        s.store_log_envelope(s.entry()).replace(b"StoreLogResponder:2", b"StoreLogResponder:9"),
        b"<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'><s:Body><Hello/></s:Body></s:Envelope>",
    ],
    ids=["another contract", "unknown namespace", "no namespace"],
)
def test_misrouted_bodies_are_answered_before_the_access_right_is_checked(
    secured: Gateway, peer_cert: bytes, body: bytes
) -> None:
    """CONSUMER has no CreateDraftCertificate right, yet learns the address is wrong rather than getting VP007."""
    status, _, answer = _post(secured, CREATE_DRAFT_PATH, body, **{PEER_CERT_KEY: peer_cert})
    code, error_id, text = _result(answer)
    assert (status, code, error_id) == (200, "ERROR", "VALIDATION_ERROR")
    assert "tar bara emot CreateDraftCertificate" in text and b"VP007" not in answer
