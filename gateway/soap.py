"""The Spyne glue: one generic Spyne service per contract, around our parse, validation and responder.

Spyne dispatches on the body element and runs the WSGI plumbing; everything contract-specific stays
ours. ``ContractSoap11`` replaces three steps of Spyne's SOAP 1.1 protocol:

* ``create_in_document`` parses with ``contracts.xmlparse`` (Spyne's parser accepts DTDs);
* ``decompose_incoming_envelope`` answers a body element of another operation (a request posted to
  the wrong contract's address, the most common misrouting in the field) with the wrong-operation
  text naming both, before the caller's access right or the schema is looked at, and then validates
  the header and body against ``xsd/`` before any business code runs (Spyne's own validators reject
  valid RIVTA messages or fail to build);
* ``serialize`` writes the responder's element as the Body verbatim, and turns every refusal into the
  contract's own answer with HTTP 200 instead of a SOAP fault, as the incumbent does for these
  contracts (journal systems depend on it). A contract without a ResultType
  (ListCertificatesForCareWithQA) has no answer to refuse with: its responder says so
  (``answers_with_faults``), its ``refuse`` writes a SOAP ``Fault``, and that goes out with HTTP 500
  as SOAP 1.1 requires, whether the front door or the responder refused.

Spyne's deserialiser is bypassed on purpose: it matches children by local name only and drops
``xs:any`` extension content, so responders read the validated lxml element instead.

**How the request reaches the glue.** ``gateway.app`` passes the typed ``SoapRequest`` to
``ContractApplication`` by argument. Spyne's own plumbing hands our callbacks (``ContractSoap11``'s
methods, the operation function) nothing but its ``MethodContext``, whose only link to the caller is
the WSGI environ. Two channels cross that gap: a slot in the environ, or a ``ContextVar``. We use the
``ContextVar`` ``_REQUEST``, set by ``_serving`` for exactly the duration of one Spyne call:

* Spyne runs a request synchronously on the calling thread (parse, validate, call, serialise all
  happen before ``WsgiApplication`` returns), and ``ContractApplication`` drains the body inside the
  block, so every callback runs while the variable is set;
* the variable is reset on the way out, so nothing of a request is visible to the next one on the
  same (pooled) server thread, and a thread of its own never sees another's request;
* it is typed (``ContextVar[SoapRequest]``) and private to this module, while the environ is an
  untyped dict shared with the server and every middleware, where request state was written and
  read under string keys in three modules;
* outside a call ``_current`` fails loudly instead of answering with a default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

import spyne.const as spyne_const
import structlog
from lxml import etree
from spyne import AnyXml, Application, Fault, ServiceBase, rpc
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

from contracts.call import SoapCall, WrittenAnswer
from contracts.errors import HostileXml, NotSoap, NotXml
from contracts.ns import REGISTRY, SOAP11_ENV, qname
from contracts.xmlparse import parse_xml, split_envelope
from domain.result_texts import (
    HOSTILE_XML,
    INTERNAL_ERROR,
    NOT_SOAP,
    NOT_XML,
    SCHEMA_VIOLATION,
    WRONG_OPERATION,
    Problem,
    echo,
)
from domain.values import HsaId
from gateway.faults import STATUS as FAULT_STATUS
from gateway.faults import fault_envelope
from gateway.request import Outcome, SoapRequest
from gateway.validation import ContractSchema
from routing.errors import CatalogueUnavailable, RoutingError

LOGICAL_ADDRESS = qname(REGISTRY, "LogicalAddress")
NAMESPACE_ECHO_LIMIT = 128  # RIVTA responder namespaces run to about 90 characters

log = structlog.get_logger("gateway.soap")

# Spyne runs a full gc.collect() when a request context closes, at most once a second, to return
# file descriptors of uploaded files. We never hand Spyne files, and a full collection of a busy
# worker's heap takes 100-300 ms with the GIL held: every thread of the process stalls, including
# one holding a database lock (the PDL chain's). Python's own generational collector still runs.
spyne_const.MIN_GC_INTERVAL = float("inf")

StartResponse = Callable[..., Any]
_REQUEST: ContextVar[SoapRequest] = ContextVar("intygsgateway.soap_request")


@contextmanager
def _serving(request: SoapRequest) -> Iterator[None]:
    """Make ``request`` the one Spyne's callbacks see, for the duration of the block only."""
    token = _REQUEST.set(request)
    try:
        yield
    finally:
        _REQUEST.reset(token)


def _current() -> SoapRequest:
    """The request Spyne is answering; only inside ``ContractApplication.__call__``."""
    try:
        return _REQUEST.get()
    except LookupError:
        raise RuntimeError("a Spyne callback ran outside ContractApplication: no SOAP request is bound") from None


class ContractResponder(Protocol):
    """One contract's answer logic, as ``contracts.<interaction>.<version>.responder`` provides it."""

    operation: str
    request_tag: str
    response_tag: str

    def respond(self, body: etree._Element, call: SoapCall) -> etree._Element | WrittenAnswer:
        """Answer a schema-valid request (an element, or one already serialised)."""
        ...

    def refuse(self, problems: Sequence[Problem]) -> etree._Element:
        """The contract's ERROR answer for problems found before the responder ran."""
        ...


FAULT_TAG = qname(SOAP11_ENV, "Fault")


def answers_with_faults(responder: ContractResponder) -> bool:
    """Whether the contract refuses with SOAP faults (it has no ResultType): ``answers_with_faults``."""
    return bool(getattr(responder, "answers_with_faults", False))


def refusal_status(responder: ContractResponder) -> str:
    """The HTTP status of the contract's refusals: 500 for a SOAP fault, 200 for a ResultType answer."""
    return FAULT_STATUS if answers_with_faults(responder) else "200 OK"


def record_answer(outcome: Outcome, element: etree._Element) -> None:
    """Note the answer in the request's outcome: the ResultType's codes, or a fault's faultcode."""
    if element.tag == FAULT_TAG:
        outcome.faulted(element.findtext("faultcode") or "")
    else:
        outcome.answered(*outcome_of(element))


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
            ctx.in_document = parse_xml(body, self._max_bytes, encoding=charset)
        except HostileXml as exc:
            raise _Refusal([HOSTILE_XML.problem(reason=exc.reason)]) from exc
        except NotXml as exc:
            raise _Refusal([NOT_XML.problem(reason=exc.reason)]) from exc

    def decompose_incoming_envelope(self, ctx: Any, message: Any = Soap11.REQUEST) -> None:
        try:
            headers, body = split_envelope(ctx.in_document)
        except NotSoap as exc:
            raise _Refusal([NOT_SOAP.problem(reason=exc.reason)]) from exc
        if body.tag != self._responder.request_tag:
            raise _Refusal([WRONG_OPERATION.problem(expected=_describe(self._responder.request_tag),
                                                    received=_describe(body.tag))])
        self._check_access(_current(), headers)
        violations = self._schema.violations(headers, body)
        if violations:
            raise _Refusal(
                [SCHEMA_VIOLATION.problem(path=v.path, reason=v.reason) for v in violations]
            )
        # What Spyne's own decomposition would set, without its second walk over the envelope.
        ctx.in_header_doc = headers
        ctx.in_body_doc = body
        ctx.method_request_string = body.tag

    def _check_access(self, request: SoapRequest, headers: Sequence[etree._Element]) -> None:
        """Refuse a caller without an access right before its message is validated or answered.

        ``gateway.app`` identified the caller before the body was read; the contract is the
        namespace of the request element, as in TAK.
        """
        access = request.access
        if access is None:
            return
        if request.caller is None:  # gateway.app answers an unidentified caller itself, before Spyne
            raise RuntimeError("access control is on but no caller was identified")
        try:
            access.check(request.caller, request.contract, _logical_address(headers))
        except RoutingError as exc:
            log.warning("access_refused", code=exc.code, reason=exc.describe(),
                        remote_addr=request.caller.remote_addr)
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
        outcome = _current().outcome
        if isinstance(error, _Denied) and not self._answers_denial(error):
            ctx.out_document = fault_envelope(error.code, error.instance, error.detail_text)
            outcome.faulted(error.code)
            return
        element = self._answer(ctx)
        if isinstance(element, WrittenAnswer):  # the bytes as they are: no tree to build and serialise again
            ctx.out_document = None
            ctx.out_string = [_ENVELOPE_START, element.body, _ENVELOPE_END]
            outcome.answered(None, None)
            return
        ctx.out_string = None
        ctx.out_document = envelope(element)
        record_answer(outcome, element)

    def create_out_string(self, ctx: Any, charset: str | None = None) -> None:
        if ctx.out_document is None and ctx.out_string is not None:  # a WrittenAnswer, see ``serialize``
            return
        super().create_out_string(ctx, charset)

    def _answer(self, ctx: Any) -> etree._Element | WrittenAnswer:
        error = ctx.out_error
        if error is None:
            return ctx.out_object[0]  # type: ignore[no-any-return]
        if isinstance(error, _Refusal):
            return self._responder.refuse(error.problems)
        if isinstance(error, _Denied):
            return self._responder.access_denied(error.detail_text)  # type: ignore[attr-defined,no-any-return]
        log.error("spyne_fault", fault=type(error).__name__)
        return self._responder.refuse([INTERNAL_ERROR.problem(correlation_id=_current().correlation_id)])

    def fault_to_http_response_code(self, fault: Any) -> str:
        # Every refusal is written as the contract's own answer (see ``serialize``), so HTTP is 200;
        # only a refused caller gets the platform's fault, with the platform's 500.
        if isinstance(fault, _Denied) and not self._answers_denial(fault):
            return FAULT_STATUS
        return refusal_status(self._responder)


# The envelope around a ``WrittenAnswer``, as ``envelope`` and Spyne's serialisation write it.
_ENVELOPE_START = (f"<?xml version='1.0' encoding='UTF-8'?>\n<soap:Envelope xmlns:soap=\"{SOAP11_ENV}\">"
                   "<soap:Body>").encode()
_ENVELOPE_END = b"</soap:Body></soap:Envelope>"


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


def _describe(tag: str) -> str:
    """An element name for an answer: ``StoreLog (urn:riv:...:StoreLogResponder:2)``, cut to a safe length."""
    name = etree.QName(tag)
    namespace = echo(name.namespace, NAMESPACE_ECHO_LIMIT) if name.namespace else "utan namnrymd"
    return f"{echo(name.localname)} ({namespace})"


def _logical_address(headers: Sequence[etree._Element] | None) -> str:
    for header in headers or ():
        if header.tag == LOGICAL_ADDRESS:
            return (header.text or "").strip()
    return ""


def _service_for(responder: ContractResponder) -> type:
    """A Spyne service with one operation that hands the validated body element to ``responder``."""

    def operation(ctx: Any, _body: Any) -> etree._Element | WrittenAnswer:
        call = _soap_call(_current(), _logical_address(ctx.in_header_doc))
        try:
            answer = responder.respond(ctx.in_body_doc, call)
        except Exception:  # the gateway edge: answer in the contract's shape, never a stack trace
            log.exception("responder_failed", operation=responder.operation)
            answer = responder.refuse([INTERNAL_ERROR.problem(correlation_id=call.correlation_id)])
        if isinstance(answer, etree._Element) and answer.tag == FAULT_TAG:  # SOAP 1.1: a fault is HTTP 500
            ctx.transport.resp_code = FAULT_STATUS
        return answer

    operation.__name__ = responder.operation
    method = rpc(
        AnyXml,
        _body_style="bare",
        _in_message_name=responder.request_tag,
        _out_message_name=responder.response_tag,
        _returns=AnyXml,
    )(operation)
    return type(f"{responder.operation}Service", (ServiceBase,), {responder.operation: method})


def _soap_call(request: SoapRequest, logical_address: str) -> SoapCall:
    """What the responder may know of ``request``: contract-level values, no gateway types."""
    if request.caller is None:
        return SoapCall(logical_address, request.correlation_id)
    return SoapCall(logical_address, request.correlation_id, HsaId(request.caller.consumer), request.caller.via)


class ContractApplication:
    """One contract's Spyne application: answers its POSTs, given the typed request with the WSGI arguments."""

    def __init__(self, schema: ContractSchema, responder: ContractResponder, max_bytes: int) -> None:
        self.contract = etree.QName(responder.request_tag).namespace or ""
        """The contract's namespace, as the routing catalogue (TAK) names it: ``SoapRequest.contract``."""
        app = Application(
            [_service_for(responder)],
            tns=self.contract,
            in_protocol=ContractSoap11(schema, responder, max_bytes),
            out_protocol=ContractSoap11(schema, responder, max_bytes),
        )
        self._wsgi = WsgiApplication(app, max_content_length=max_bytes)

    def __call__(self, request: SoapRequest, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        """Answer one POST; the body is produced in full before ``request`` is unbound."""
        with _serving(request):
            return list(self._wsgi(environ, start_response))
