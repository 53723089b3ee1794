"""The gateway as one WSGI application: every contract at its paths, WSDL serving, and the probes.

Reading this module top to bottom gives the request path: ``Gateway.__call__`` picks the endpoint by
path and binds the correlation id; an ``Endpoint`` serves ``?wsdl``/``?xsd=`` itself. For a POST the
gateway identifies the caller and builds the request's typed context (``gateway.request.SoapRequest``),
then passes it to the endpoint, which hands it with the POST to the contract's Spyne application
(``gateway.soap``); that parses, validates and calls the contract's responder in ``contracts``. One
JSON log line is written per SOAP request, from that context, and the request is counted in the
Prometheus instruments (``gateway.metrics``). Paths under ``/internal/api/v1/`` go to the operations
API (``gateway.internal_api``), JSON instead of SOAP; ``/console/`` to the operator console
(``gateway.console``), HTML behind the same credentials; ``/metrics`` to the Prometheus exposition,
behind those credentials too, or alone on its own port (``metrics_port``).
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import structlog
from lxml import etree

from contracts.create_draft_certificate.v3 import CreateDraftResponder
from contracts.list_certificates_for_care_with_qa.v3 import ListCertificatesResponder
from contracts.send_message_to_care.v2 import SendMessageResponder
from contracts.store_log.v2 import StoreLogResponder
from domain.result_texts import TOO_LARGE
from gateway import correlation
from gateway.access import ACCESS_CONTROL_OFF, AccessControl
from gateway.body import AnswerThenDrain, DrainLimits, RequestBody, content_length, read_body
from gateway.console import PREFIX as CONSOLE_PREFIX
from gateway.console import Console
from gateway.correlation import HEADER as CORRELATION_HEADER
from gateway.faults import STATUS as FAULT_STATUS
from gateway.faults import fault_bytes
from gateway.identity import Caller, CallerRefused
from gateway.internal_api import PREFIX as INTERNAL_API_PREFIX
from gateway.internal_api import ApiError, InternalApi
from gateway.internal_api.auth import Scope
from gateway.metrics import MetricsExposition, SoapMetrics
from gateway.request import SoapRequest
from gateway.soap import ContractApplication, ContractResponder, envelope, record_answer, refusal_status
from gateway.validation import schema_for_wsdl
from gateway.wsdl import WsdlDocuments
from usecases.certificate_list import CertificateListDeps
from usecases.create_draft import CreateDraftDeps
from usecases.receive_message import ReceiveMessageDeps
from usecases.store_log import StoreLogDeps

XSD_ROOT = Path(__file__).resolve().parent.parent / "xsd"
CERTIFICATE_INTERACTIONS = XSD_ROOT / "clinicalprocess-healthcond-certificate" / "interactions"

StartResponse = Callable[..., Any]
log = structlog.get_logger("gateway.app")


@dataclass(frozen=True, slots=True)
class Readiness:
    """What ``/readyz`` reports: ready or not, and the facts behind it."""

    ready: bool
    checks: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GatewayDeps:
    """Everything the front door calls into, wired by ``cli``."""

    create_draft: CreateDraftDeps
    receive_message: ReceiveMessageDeps
    readiness: Callable[[], Readiness]
    max_request_bytes: int = 2 * 1024 * 1024
    # How much of a body over max_request_bytes is read and dropped after the answer (gateway.body).
    oversize_drain: DrainLimits = field(default_factory=DrainLimits)
    close: Callable[[], None] = lambda: None  # releases pools when the process stops serving
    access: AccessControl | None = None  # None: every caller may call (local development only)
    certificates: Callable[[], Mapping[str, Any]] = dict  # days left on our own certificates, for /readyz
    # StoreLog v2 (PDL log entries from other systems); None leaves its endpoints out.
    store_log: StoreLogDeps | None = None
    # ListCertificatesForCareWithQA v3 (a patient's certificates for journal systems); None leaves it out.
    list_certificates: CertificateListDeps | None = None
    # The operations API under /internal/api/v1/ (gateway.internal_api); None: those paths answer 404.
    internal_api: InternalApi | None = None
    # The operator console under /console/ (gateway.console), behind the API's credentials; None: 404.
    console: Console | None = None
    # The Prometheus instruments of this process, and what GET /metrics answers (None: 404).
    soap_metrics: SoapMetrics = field(default_factory=SoapMetrics)
    metrics: MetricsExposition | None = None
    # 0: /metrics on the main port behind the credentials (scope metrics); N: only on port N, open.
    metrics_port: int = 0


class Endpoint:
    """One contract at one or more paths: ``GET ?wsdl``, ``GET ?xsd=…`` and SOAP ``POST``."""

    def __init__(self, name: str, wsdl_path: Path, responder: ContractResponder, max_bytes: int,
                 drain: DrainLimits | None = None) -> None:
        self.name = name
        self.documents = WsdlDocuments(wsdl_path)
        self._responder = responder
        self._max_bytes = max_bytes
        self._drain = drain or DrainLimits()
        self._soap = ContractApplication(schema_for_wsdl(wsdl_path), responder, max_bytes)
        self.contract = self._soap.contract

    def post(self, request: SoapRequest, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Answer a SOAP POST from an admitted caller; the answer's outcome is left in ``request``.

        The body is read here, within the cap, so that an oversize one (declared, or chunked) is
        answered without being parsed and then drained (``gateway.body``); Spyne gets the body read.
        """
        body = read_body(environ, self._max_bytes)
        if body.data is None:
            return self._too_large(request, environ, body, start_response)
        read = {**environ, "wsgi.input": io.BytesIO(body.data), "CONTENT_LENGTH": str(len(body.data))}
        return self._soap(request, read, start_response)

    def serve_documents(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Answer anything but a POST: ``?wsdl`` and ``?xsd=`` for GET and HEAD, 405 otherwise."""
        if environ.get("REQUEST_METHOD", "GET") in ("GET", "HEAD"):
            return self._documents(environ, start_response)
        return _plain(start_response, "405 Method Not Allowed", "use GET ?wsdl or POST a SOAP message\n")

    def _documents(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        query = environ.get("QUERY_STRING", "")
        url = _request_url(environ)
        if query.lower() == "wsdl":
            body: bytes | None = self.documents.wsdl(url)
        elif query.startswith("xsd="):
            body = self.documents.schema(parse_qs(query).get("xsd", [""])[0], url)
        else:
            return _plain(start_response, "404 Not Found", "add ?wsdl to get the service description\n")
        if body is None:
            return _plain(start_response, "404 Not Found", "no such schema\n")
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]

    def _too_large(self, request: SoapRequest, environ: dict[str, Any], body: RequestBody,
                   start_response: StartResponse) -> AnswerThenDrain:
        """The contract's TOO_LARGE answer, with the rest of the body drained after it is written."""
        element = self._responder.refuse([TOO_LARGE.problem(limit=self._max_bytes)])
        record_answer(request.outcome, element)
        answer = etree.tostring(envelope(element), xml_declaration=True, encoding="UTF-8")
        start_response(refusal_status(self._responder),
                       [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(answer)))])
        return AnswerThenDrain([answer], environ["wsgi.input"], body, self._drain)


def contract_endpoints(deps: GatewayDeps) -> dict[str, Endpoint]:
    """Every contract we answer, by path: the RIVTA path and the incumbent's path for each."""
    create_draft = Endpoint(
        "CreateDraftCertificate",
        CERTIFICATE_INTERACTIONS
        / "CreateDraftCertificateInteraction"
        / "CreateDraftCertificateInteraction_3.3_RIVTABP21.wsdl",
        CreateDraftResponder(deps.create_draft),
        deps.max_request_bytes,
        deps.oversize_drain,
    )
    send_message = Endpoint(
        "SendMessageToCare",
        CERTIFICATE_INTERACTIONS / "SendMessageToCareInteraction" / "SendMessageToCareInteraction_2.0_RIVTABP21.wsdl",
        SendMessageResponder(deps.receive_message),
        deps.max_request_bytes,
        deps.oversize_drain,
    )
    return {
        "/clinicalprocess/healthcond/certificate/CreateDraftCertificate/3/rivtabp21": create_draft,
        "/services/create-draft-certificate/v3.0": create_draft,
        "/clinicalprocess/healthcond/certificate/SendMessageToCare/2/rivtabp21": send_message,
        "/services/send-message-to-care/v2.0": send_message,
        **_store_log_endpoints(deps),
        **_list_certificates_endpoints(deps),
    }


def _list_certificates_endpoints(deps: GatewayDeps) -> dict[str, Endpoint]:
    """ListCertificatesForCareWithQA v3 at the RIVTA path and the incumbent's, with and without its
    ``/services`` prefix (contracts.md has it with the prefix, onward-flows.md §1.1 without)."""
    if deps.list_certificates is None:
        return {}
    list_certificates = Endpoint(
        "ListCertificatesForCareWithQA",
        CERTIFICATE_INTERACTIONS / "ListCertificatesForCareWithQAInteraction"
        / "ListCertificatesForCareWithQAInteraction_3.3_RIVTABP21.wsdl",
        ListCertificatesResponder(deps.list_certificates),
        deps.max_request_bytes,
        deps.oversize_drain,
    )
    return {
        "/clinicalprocess/healthcond/certificate/ListCertificatesForCareWithQA/3/rivtabp21": list_certificates,
        "/services/list-certificates-for-care-with-qa/v3.0": list_certificates,
        "/list-certificates-for-care-with-qa/v3.0": list_certificates,
    }


def _store_log_endpoints(deps: GatewayDeps) -> dict[str, Endpoint]:
    """StoreLog v2 at the RIVTA path and at the ``v2`` spelling logsender and the platform use."""
    if deps.store_log is None:
        return {}
    store_log = Endpoint(
        "StoreLog",
        XSD_ROOT / "informationsecurity-auditing-log" / "interactions" / "StoreLogInteraction"
        / "StoreLogInteraction_2.0_RIVTABP21.wsdl",
        StoreLogResponder(deps.store_log),
        deps.max_request_bytes,
        deps.oversize_drain,
    )
    return {
        "/informationsecurity/auditing/log/StoreLog/2/rivtabp21": store_log,
        "/informationsecurity/auditing/log/StoreLog/v2/rivtabp21": store_log,
    }


class Gateway:
    """The WSGI application: probes, then contract endpoints by exact path."""

    def __init__(self, deps: GatewayDeps) -> None:
        self._deps = deps
        self.endpoints = contract_endpoints(deps)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        metrics_port = self._deps.metrics_port
        if metrics_port and environ.get("SERVER_PORT") == str(metrics_port):
            if path == "/metrics":
                return self._metrics(environ, start_response, open_port=True)
            return _plain(start_response, "404 Not Found", "only /metrics is served on this port\n")
        if path == "/metrics":
            if metrics_port:
                return _plain(start_response, "404 Not Found", f"/metrics is served on port {metrics_port}\n")
            return self._metrics(environ, start_response, open_port=False)
        if path == "/healthz":
            return _json(start_response, "200 OK", {"status": "up"})
        if path == "/readyz":
            readiness = self._deps.readiness()
            status = "200 OK" if readiness.ready else "503 Service Unavailable"
            return _json(start_response, status, {
                "status": "ready" if readiness.ready else "not ready",
                **readiness.checks,
                "accessControl": self._deps.access.describe() if self._deps.access else ACCESS_CONTROL_OFF,
                "operationsApi": self._deps.internal_api.describe() if self._deps.internal_api else {"enabled": False},
                "certificates": self._deps.certificates(),
            })
        if path == INTERNAL_API_PREFIX or path.startswith(INTERNAL_API_PREFIX + "/"):
            if self._deps.internal_api is None:
                return _plain(start_response, "404 Not Found", "no service at this path\n")
            return self._deps.internal_api(environ, start_response)
        if path == CONSOLE_PREFIX or path.startswith(CONSOLE_PREFIX + "/"):
            if self._deps.console is None:
                return _plain(start_response, "404 Not Found", "no service at this path\n")
            return self._deps.console(environ, start_response)
        endpoint = self.endpoints.get(path.rstrip("/") or "/")
        if endpoint is None:
            return _plain(start_response, "404 Not Found", "no service at this path\n")
        return self._call_endpoint(endpoint, path, environ, start_response)

    def _call_endpoint(
        self, endpoint: Endpoint, path: str, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        with correlation.bound(environ) as cid:
            started = time.perf_counter()
            status_seen: list[str] = []

            def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                status_seen.append(status)
                return start_response(status, [*headers, (CORRELATION_HEADER, cid)], exc_info)

            if environ.get("REQUEST_METHOD") != "POST":
                return list(endpoint.serve_documents(self._as_the_client_asked(environ), start))
            admitted = self._admit(environ)
            request = SoapRequest(
                correlation_id=cid,
                endpoint=endpoint.name,
                path=path,
                contract=endpoint.contract,
                caller=admitted if isinstance(admitted, Caller) else None,
                access=self._deps.access,
            )
            body: Iterable[bytes]
            if isinstance(admitted, CallerRefused):
                body = self._refuse(request, admitted, environ, start)
            else:
                body = endpoint.post(request, environ, start)
            elapsed = time.perf_counter() - started
            log.info(
                "soap_request",
                contract=request.endpoint,
                consumer=request.consumer,
                path=request.path,
                http_status=int(status_seen[0][:3]) if status_seen else None,
                result_code=request.outcome.result_code,
                error_id=request.outcome.error_id,
                duration_ms=round(elapsed * 1000, 2),
            )
            self._deps.soap_metrics.observe(request, elapsed)
        return body

    def _metrics(self, environ: dict[str, Any], start_response: StartResponse, open_port: bool) -> Iterable[bytes]:
        """The Prometheus exposition: open on the metrics port, behind the scope ``metrics`` otherwise."""
        exposition, api = self._deps.metrics, self._deps.internal_api
        if exposition is None or (not open_port and api is None):
            return _plain(start_response, "404 Not Found", "no service at this path\n")
        if not open_port:
            assert api is not None
            try:
                api.admit(environ, Scope.METRICS)
            except ApiError as refused:
                log.warning("metrics_refused", status=refused.status, code=refused.code,
                            remote_addr=environ.get("REMOTE_ADDR"))
                headers = [("WWW-Authenticate", 'Bearer realm="intygsgateway"')] if refused.status == 401 else []
                status = f"{refused.status} {HTTPStatus(refused.status).phrase}"
                return _json(start_response, status, refused.body(), headers)
        body, content_type = exposition.render()
        start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]

    def _as_the_client_asked(self, environ: dict[str, Any]) -> dict[str, Any]:
        """The environ with the scheme the client used when a trusted proxy says so (``X-Forwarded-Proto``).

        A WSDL's ``soap:address`` is the URL the client fetched it from; behind a TLS-terminating
        proxy that is https, though the proxy talks plain HTTP to us. Only a trusted proxy is believed.
        """
        forwarded = str(environ.get("HTTP_X_FORWARDED_PROTO", "")).strip().lower()
        access = self._deps.access
        if forwarded not in ("http", "https") or access is None:
            return environ
        if not access.callers.is_proxy(str(environ.get("REMOTE_ADDR", ""))):
            return environ
        return {**environ, "wsgi.url_scheme": forwarded}

    def _admit(self, environ: dict[str, Any]) -> Caller | CallerRefused | None:
        """Identify the caller before its body is read: the caller, or the refusal (VP002/VP011).

        With access control off every caller is admitted unidentified (None). An identified caller's
        access right is checked by ``gateway.soap`` once the envelope is split, from the request.
        """
        access = self._deps.access
        if access is None:
            return None
        try:
            return access.identify(environ)
        except CallerRefused as refused:
            log.warning("caller_refused", code=refused.code, reason=refused.reason, remote_addr=refused.remote_addr)
            return refused

    def _refuse(self, request: SoapRequest, refused: CallerRefused, environ: dict[str, Any],
                start: StartResponse) -> AnswerThenDrain:
        """The platform's fault for a caller refused before its body was read, the body drained after it.

        Drained as an oversize body is (``gateway.body``), so that a client still sending reads the
        fault instead of a reset; but no further than a body we would have read from a known caller.
        """
        request.outcome.faulted(refused.code)
        instance = request.access.instance if request.access is not None else ""
        body = fault_bytes(refused.code, instance, refused.describe())
        start(FAULT_STATUS, [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))])
        limits = self._deps.oversize_drain
        limits = DrainLimits(min(limits.max_bytes, self._deps.max_request_bytes), limits.max_seconds)
        unread = RequestBody(None, 0, content_length(environ))
        return AnswerThenDrain([body], environ["wsgi.input"], unread, limits)


def make_app(deps: GatewayDeps) -> Gateway:
    """Build the gateway's WSGI application from its dependencies."""
    return Gateway(deps)


def _request_url(environ: Mapping[str, Any]) -> str:
    """The URL the client used for this endpoint, without the query: the WSDL's ``soap:address``."""
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '80')}"
    return f"{scheme}://{host}{environ.get('SCRIPT_NAME', '')}{environ.get('PATH_INFO', '')}"


def _plain(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    body = text.encode()
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


def _json(start_response: StartResponse, status: str, payload: Mapping[str, Any],
          headers: Iterable[tuple[str, str]] = ()) -> list[bytes]:
    body = json.dumps(payload, default=str).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *headers])
    return [body]
