"""The Spyne glue: one generic Spyne service per contract, around our parse, validation and responder.

Spyne dispatches on the body element and runs the WSGI plumbing; everything contract-specific stays
ours. ``ContractSoap11`` replaces three steps of Spyne's SOAP 1.1 protocol:

* ``create_in_document`` parses with ``gateway.xmlparse`` (Spyne's parser accepts DTDs);
* ``decompose_incoming_envelope`` validates the header and body against ``xsd/`` before any business
  code runs (Spyne's own validators reject valid RIVTA messages or fail to build);
* ``serialize`` writes the responder's element as the Body verbatim, and turns every refusal into the
  contract's own answer with HTTP 200 instead of a SOAP fault, as the incumbent does for these
  contracts (journal systems depend on it).

Spyne's deserialiser is bypassed on purpose: it matches children by local name only and drops
``xs:any`` extension content, so responders read the validated lxml element instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import spyne.const as spyne_const  # type: ignore[import-untyped]
import structlog
from lxml import etree
from spyne import AnyXml, Application, Fault, ServiceBase, rpc  # type: ignore[attr-defined]
from spyne.error import RequestTooLongError, ResourceNotFoundError  # type: ignore[import-untyped]
from spyne.protocol.soap import Soap11  # type: ignore[import-untyped]
from spyne.server.wsgi import WsgiApplication  # type: ignore[import-untyped]

from contracts.call import SoapCall
from contracts.errors import HostileXml, NotSoap, NotXml
from contracts.ns import SOAP11_ENV
from contracts.xmlparse import parse_xml, split_envelope
from domain.result_texts import (
    HOSTILE_XML,
    INTERNAL_ERROR,
    NOT_SOAP,
    NOT_XML,
    SCHEMA_VIOLATION,
    TOO_LARGE,
    WRONG_OPERATION,
    Problem,
)
from gateway.access import ACCESS_KEY
from gateway.faults import STATUS as FAULT_STATUS
from gateway.faults import fault_envelope
from gateway.identity import CALLER_KEY
from gateway.validation import ContractSchema
from routing.errors import CatalogueUnavailable, RoutingError

REGISTRY_NS = "urn:riv:itintegration:registry:1"
LOGICAL_ADDRESS = f"{{{REGISTRY_NS}}}LogicalAddress"
CORRELATION_KEY = "intygsgateway.correlation_id"
OUTCOME_KEY = "intygsgateway.outcome"

log = structlog.get_logger("gateway.soap")

# Spyne runs a full gc.collect() when a request context closes, at most once a second, to return
# file descriptors of uploaded files. We never hand Spyne files, and a full collection of a busy
# worker's heap takes 100-300 ms with the GIL held: every thread of the process stalls, including
# one holding a database lock (the PDL chain's). Python's own generational collector still runs.
spyne_const.MIN_GC_INTERVAL = float("inf")


class ContractResponder(Protocol):
    """One contract's answer logic, as ``contracts.<interaction>.<version>.responder`` provides it."""

    operation: str
    request_tag: str
    response_tag: str

    def respond(self, body: etree._Element, call: SoapCall) -> etree._Element:
        """Answer a schema-valid request."""
        ...

    def refuse(self, problems: Sequence[Problem]) -> etree._Element:
        """The contract's ERROR answer for problems found before the responder ran."""
        ...


class _Refusal(Fault):  # type: ignore[misc]
    """Carries problems found by the front door to ``serialize``; never reaches a client as a fault."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(faultcode="Client", faultstring=problems[0].text)
        self.problems = list(problems)


class _Denied(Fault):  # type: ignore[misc]
    """An access refusal (VP003, VP007, VP008) found once the envelope was split: a platform fault."""

    def __init__(self, code: str, detail: str, instance: str) -> None:
        super().__init__(faultcode="Server", faultstring=detail)
        self.code = code
        self.detail_text = detail
        self.instance = instance


class ContractSoap11(Soap11):  # type: ignore[misc]
    """SOAP 1.1 with our hardened parse, contract validation and ResultType answers."""

    def __init__(self, schema: ContractSchema, responder: ContractResponder, max_bytes: int) -> None:
        super().__init__()
        self._schema = schema
        self._responder = responder
        self._max_bytes = max_bytes

    def create_in_document(self, ctx: Any, charset: str | None = None) -> None:
        body = b"".join(ctx.in_string)
        try:
            ctx.in_document = parse_xml(body, self._max_bytes)
        except HostileXml as exc:
            raise _Refusal([HOSTILE_XML.problem(reason=exc.reason)]) from exc
        except NotXml as exc:
            raise _Refusal([NOT_XML.problem(reason=exc.reason)]) from exc

    def decompose_incoming_envelope(self, ctx: Any, message: Any = Soap11.REQUEST) -> None:
        try:
            headers, body = split_envelope(ctx.in_document)
        except NotSoap as exc:
            raise _Refusal([NOT_SOAP.problem(reason=exc.reason)]) from exc
        self._check_access(ctx.transport.req_env, headers)
        violations = self._schema.violations(headers, body)
        if violations:
            raise _Refusal(
                [SCHEMA_VIOLATION.problem(path=v.path, reason=v.reason) for v in violations]
            )
        # What Spyne's own decomposition would set, without its second walk over the envelope.
        ctx.in_header_doc = headers
        ctx.in_body_doc = body
        ctx.method_request_string = body.tag

    def _check_access(self, env: dict[str, Any], headers: Sequence[etree._Element]) -> None:
        """Refuse a caller without an access right before its message is validated or answered.

        ``gateway.app`` put the access control and the identified caller into the environ when
        access control is on; the contract is the namespace of the request element, as in TAK.
        """
        access = env.get(ACCESS_KEY)
        if access is None:
            return
        contract = etree.QName(self._responder.request_tag).namespace or ""
        try:
            access.check(env[CALLER_KEY], contract, _logical_address(headers))
        except RoutingError as exc:
            log.warning("access_refused", code=exc.code, reason=exc.describe(),
                        remote_addr=env.get("REMOTE_ADDR"))
            raise _Denied(exc.code, exc.describe(), access.instance) from exc
        except CatalogueUnavailable as exc:  # never loaded in this process: nobody can be let in
            log.error("access_unknown", code=exc.code, reason=str(exc))
            raise _Denied(exc.code, f"{exc.code} {exc}", access.instance) from exc

    def _answers_denial(self, error: Any) -> bool:
        """Whether the contract answers a missing access right itself (``access_denied``), with HTTP 200."""
        return isinstance(error, _Denied) and error.code == "VP007" and hasattr(self._responder, "access_denied")

    def serialize(self, ctx: Any, message: Any) -> None:
        if message is not self.RESPONSE:
            super().serialize(ctx, message)
            return
        error = ctx.out_error
        if isinstance(error, _Denied) and not self._answers_denial(error):
            ctx.out_document = fault_envelope(error.code, error.instance, error.detail_text)
            ctx.transport.req_env[OUTCOME_KEY] = ("FAULT", error.code)
            return
        element = self._answer(ctx)
        ctx.out_document = envelope(element)
        ctx.transport.req_env[OUTCOME_KEY] = outcome_of(element)

    def _answer(self, ctx: Any) -> etree._Element:
        error = ctx.out_error
        if error is None:
            return ctx.out_object[0]  # type: ignore[no-any-return]
        if isinstance(error, _Refusal):
            return self._responder.refuse(error.problems)
        if isinstance(error, _Denied):
            return self._responder.access_denied(error.detail_text)  # type: ignore[attr-defined,no-any-return]
        if isinstance(error, RequestTooLongError):
            return self._responder.refuse([TOO_LARGE.problem(limit=self._max_bytes)])
        if isinstance(error, ResourceNotFoundError):
            expected = etree.QName(self._responder.request_tag).localname
            return self._responder.refuse([WRONG_OPERATION.problem(expected=expected)])
        correlation_id = ctx.transport.req_env.get(CORRELATION_KEY, "-")
        log.error("spyne_fault", fault=type(error).__name__)
        return self._responder.refuse([INTERNAL_ERROR.problem(correlation_id=correlation_id)])

    def fault_to_http_response_code(self, fault: Any) -> str:
        # Every refusal is written as the contract's own answer (see ``serialize``), so HTTP is 200;
        # only a refused caller gets the platform's fault, with the platform's 500.
        if isinstance(fault, _Denied) and not self._answers_denial(fault):
            return FAULT_STATUS
        return "200 OK"


def envelope(body_child: etree._Element) -> etree._Element:
    """A SOAP 1.1 envelope with ``body_child`` as the only Body element and no header."""
    root = etree.Element(f"{{{SOAP11_ENV}}}Envelope", nsmap={"soap": SOAP11_ENV})
    etree.SubElement(root, f"{{{SOAP11_ENV}}}Body").append(body_child)
    return root


def outcome_of(response: etree._Element) -> tuple[str | None, str | None]:
    """The ``resultCode`` and ``errorId`` of a response, read by local name for the request log."""
    code = error_id = None
    for element in response.iter():
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element).localname
        if name == "resultCode":
            code = element.text
        elif name == "errorId":
            error_id = element.text
    return code, error_id


def _logical_address(headers: Sequence[etree._Element] | None) -> str:
    for header in headers or ():
        if header.tag == LOGICAL_ADDRESS:
            return (header.text or "").strip()
    return ""


def _service_for(responder: ContractResponder) -> type:
    """A Spyne service with one operation that hands the validated body element to ``responder``."""

    def operation(ctx: Any, _body: Any) -> etree._Element:
        env = ctx.transport.req_env
        call = SoapCall(_logical_address(ctx.in_header_doc), env.get(CORRELATION_KEY, "-"))
        try:
            return responder.respond(ctx.in_body_doc, call)
        except Exception:  # the gateway edge: answer in the contract's shape, never a stack trace
            log.exception("responder_failed", operation=responder.operation)
            return responder.refuse([INTERNAL_ERROR.problem(correlation_id=call.correlation_id)])

    operation.__name__ = responder.operation
    method = rpc(
        AnyXml,
        _body_style="bare",
        _in_message_name=responder.request_tag,
        _out_message_name=responder.response_tag,
        _returns=AnyXml,
    )(operation)
    return type(f"{responder.operation}Service", (ServiceBase,), {responder.operation: method})


def soap_application(
    schema: ContractSchema, responder: ContractResponder, max_bytes: int
) -> WsgiApplication:
    """The WSGI application that answers one contract's POSTs."""
    namespace = etree.QName(responder.request_tag).namespace
    app = Application(
        [_service_for(responder)],
        tns=namespace,
        in_protocol=ContractSoap11(schema, responder, max_bytes),
        out_protocol=ContractSoap11(schema, responder, max_bytes),
    )
    return WsgiApplication(app, max_content_length=max_bytes)
