"""A recipient of certificates (Försäkringskassan) or the certificate archive, for tests, demos and benchmarks.

It serves the four onward contracts at the platform's paths (``CONTRACT_PATHS``), validates every
request against ``xsd/`` with the gateway's own validator, answers as the facts sheet says the
archive and Försäkringskassan answer (onward-flows.md §2-5), and records what arrives:

* **RegisterCertificate**: stored, OK; the same intygs-id for the same patient again is ``INFO``
  "Certificate already exists" and changes nothing; for another patient ``ERROR``/``VALIDATION_ERROR``.
* **SendCertificateToRecipient** (the archive's contract): a certificate it does not hold for that
  patient is ``ERROR``/``APPLICATION_ERROR`` "Unknown certificate ID"; a revoked one ``INFO`` "has been
  revoked" (not sent); one already sent to that recipient ``INFO`` "already sent"; else sent, OK.
* **RevokeCertificate**: unknown for the patient ``ERROR``/``APPLICATION_ERROR``; already revoked
  ``INFO`` "already revoked"; else revoked, OK.
* **SendMessageToRecipient**: unknown certificate ``APPLICATION_ERROR``; a revoked one ``ERROR``/
  ``REVOKED``; another patient, an amne outside KV_ÄMNE, an answer with a deadline, or ``svarPa``
  naming no question of ours (or one of another amne) ``VALIDATION_ERROR`` with every problem; a
  meddelande-id it already stored ``INFO`` "This message has already been received."; else stored, OK.

It fails on demand like ``mock-journal``: a ``Mode`` for every call, or per contract and/or logical
address (``PUT /_mock/mode/<mode>?contract=RegisterCertificate&address=2021005521``); in a failing
mode nothing is stored, as in the incumbent's own simulator.

And it **acts as Försäkringskassan**: ``POST /_mock/send-message-to-care`` with a JSON body
(``certificateId``, ``amne``, ``heading``, ``text``, optional ``svarPa``, ``sistaDatumForSvar``,
``komplettering`` items of ``frageId``, ``instans``, ``text``) calls the gateway's SendMessageToCare at
``care_url`` with the patient and unit of the certificate it registered, and answers with the
``messageId`` it used and the gateway's result. Its questions are what care's answers (``svarPa``)
must name.

``GET /_mock/received`` lists what arrived (``contract``, ``logicalAddress``, ``certificateId``,
``valid``, ``xml`` and more), ``GET /_mock/certificates`` what it holds, ``GET /_mock/stats`` counts
for benchmarks. docs/mock-recipient.md has the whole API.
"""

from __future__ import annotations

import functools
import http.client
import json
import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from contracts.answers import ContractAnswer, FaultAnswer, envelope_bytes
from contracts.answers import read_answer as read_result_answer
from contracts.envelope import logical_address_of, request_envelope
from contracts.errors import XmlRefused
from contracts.register_certificate.v3 import request as register
from contracts.register_certificate.v3 import response as register_answer
from contracts.revoke_certificate.v2 import request as revoke
from contracts.revoke_certificate.v2 import response as revoke_answer
from contracts.send_certificate_to_recipient.v2 import request as send
from contracts.send_certificate_to_recipient.v2 import response as send_answer
from contracts.send_message_to_care.v2.request import SOAP_ACTION as CARE_SOAP_ACTION
from contracts.send_message_to_care.v2.request import write_request
from contracts.send_message_to_care.v2.response import RESPONSE_TAG as CARE_RESPONSE_TAG
from contracts.send_message_to_recipient.v2 import request as message
from contracts.send_message_to_recipient.v2 import response as message_answer
from contracts.xmlparse import envelope_parts, parse_xml
from domain.arenden import Amne, IncomingMessage, Komplettering, MessageReference
from domain.values import SWEDISH_TIME, ErrorId, ResultCode
from gateway.validation import ContractSchema, schema_for_wsdl
from gateway.wsdl import WsdlDocuments
from simulator.http import Deferred, RawBodies, Reply, Request, json_reply
from simulator.journal import (
    KEEP_RAW_DEFAULT,
    SLOW_DEFAULT_S,
    TRICKLE_DEFAULT_S,
    Mode,
    fixed_answers,
    mixed_answer,
)

_XSD = Path(__file__).resolve().parent.parent / "xsd" / "clinicalprocess-healthcond-certificate" / "interactions"
#: The path the gateway's SendMessageToCare listens at, appended to a ``care_url`` given without a path.
CARE_PATH = "/clinicalprocess/healthcond/certificate/SendMessageToCare/2/rivtabp21"
#: The part code this simulator sends care's questions as (``skickatAv/part``).
FK_PART = "FKASSA"
#: Seconds to wait for the gateway's answer to SendMessageToCare.
CARE_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class _Contract:
    name: str
    path: str
    wsdl: Path
    request_tag: str
    write_answer: Callable[[ResultCode, str | None, ErrorId | None], etree._Element]
    read: Callable[[etree._Element], _Read]


#: A valid request as its contract's reader gives it.
_Read = (register.ReceivedRegistration | send.ReceivedSend | revoke.ReceivedRevocation
         | message.ReceivedMessage)


def _contract(name: str, major: int, wsdl_version: str, request_tag: str,
              write: Callable[[ResultCode, str | None, ErrorId | None], etree._Element],
              read: Callable[[etree._Element], _Read]) -> _Contract:
    return _Contract(name, f"/clinicalprocess/healthcond/certificate/{name}/{major}/rivtabp21",
                     _XSD / f"{name}Interaction" / f"{name}Interaction_{wsdl_version}_RIVTABP21.wsdl", request_tag,
                     write, read)


CONTRACTS = (
    _contract("RegisterCertificate", 3, "3.0", register.REQUEST_TAG, register_answer.write_answer,
              register.read_registration),
    _contract("SendCertificateToRecipient", 2, "2.0", send.REQUEST_TAG, send_answer.write_answer, send.read_send),
    _contract("RevokeCertificate", 2, "2.0", revoke.REQUEST_TAG, revoke_answer.write_answer, revoke.read_revocation),
    _contract("SendMessageToRecipient", 2, "2.0", message.REQUEST_TAG, message_answer.write_answer,
              message.read_message),
)
#: The platform path of each contract, by contract name.
CONTRACT_PATHS = {contract.name: contract.path for contract in CONTRACTS}


@dataclass
class Registration:
    """A certificate as this keeper holds it."""

    certificate_id: str
    patient_root: str
    patient_id: str
    unit_id: str
    logical_address: str | None
    registered_at: str
    revoked: bool = False
    sent_to: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Question:
    """A question this simulator sent care (as Försäkringskassan): what care's answers must name."""

    certificate_id: str
    amne: str


@dataclass(frozen=True, slots=True)
class _Outcome:
    code: ResultCode
    text: str | None = None
    error_id: ErrorId | None = None


class MockRecipient:
    """The simulator's state and its request handling; thread-safe (the FK push runs in a worker thread)."""

    def __init__(
        self,
        care_url: str | None = None,
        mode: Mode = Mode.OK,
        delay_s: float = 0.0,
        keep_raw: int = KEEP_RAW_DEFAULT,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        seed: int | None = None,
    ) -> None:
        self._care_url = _care_url(care_url) if care_url else None
        self._lock = threading.Lock()
        self._mode = mode
        self._modes: dict[tuple[str | None, str | None], Mode] = {}
        self._delay_s = delay_s
        self._clock = clock
        self._random = random.Random(seed)
        self._received: list[dict[str, Any]] = []
        self._raw = RawBodies(keep_raw)
        self._seq = 0
        self._certificates: dict[str, Registration] = {}
        self._messages: dict[str, str] = {}  # care's meddelande-ids stored, by id: the certificate
        self._questions: dict[str, _Question] = {}  # what we asked care, by meddelande-id
        self._by_path = {contract.path: contract for contract in CONTRACTS}
        self._schemas: dict[str, ContractSchema] = {c.name: schema_for_wsdl(c.wsdl) for c in CONTRACTS}
        self._documents = {c.name: WsdlDocuments(c.wsdl) for c in CONTRACTS}
        self._answers = {c.name: fixed_answers(c.write_answer) for c in CONTRACTS}

    # --- control --------------------------------------------------------------------------------

    def set_mode(self, mode: Mode, contract: str | None = None, address: str | None = None) -> None:
        """Answer in ``mode`` from now on: every call, or only ``contract``'s and/or ``address``'s."""
        if contract is not None and contract not in CONTRACT_PATHS:
            raise ValueError(f"unknown contract {contract!r} (known: {', '.join(CONTRACT_PATHS)})")
        with self._lock:
            if contract is None and address is None:
                self._mode = mode
            else:
                self._modes[(contract, _key(address))] = mode

    def clear_mode(self, contract: str | None = None, address: str | None = None) -> None:
        """Let ``contract``/``address`` follow the default mode again."""
        with self._lock:
            self._modes.pop((contract, _key(address)), None)

    def set_delay(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a delay cannot be negative")
        with self._lock:
            self._delay_s = seconds

    def mode_for(self, contract: str | None, address: str | None) -> Mode:
        """The most specific mode set: contract and address, then contract, then address, then the default."""
        key = _key(address)
        with self._lock:
            for wanted in ((contract, key), (contract, None), (None, key)):
                if wanted in self._modes:
                    return self._modes[wanted]
            return self._mode

    def received(self, since: int = 0, contract: str | None = None) -> list[dict[str, Any]]:
        """The recorded requests with ``seq`` greater than ``since`` (of ``contract`` only, if given)."""
        with self._lock:
            return [self._with_raw(r) for r in self._received
                    if r["seq"] > since and (contract is None or r["contract"] == contract)]

    def _with_raw(self, record: dict[str, Any]) -> dict[str, Any]:
        raw = self._raw.text(record["seq"])
        return {**record, "xml": raw} if raw is not None else dict(record)

    def certificates(self) -> list[Registration]:
        with self._lock:
            return [replace(r, sent_to=list(r.sent_to)) for r in self._certificates.values()]

    def clear(self) -> None:
        with self._lock:
            self._received.clear()
            self._raw.clear()

    def reset(self) -> None:
        """Forget everything: what arrived, what is held, the modes and the delay."""
        with self._lock:
            self._received.clear()
            self._raw.clear()
            self._certificates.clear()
            self._messages.clear()
            self._questions.clear()
            self._modes.clear()
            self._mode = Mode.OK
            self._delay_s = 0.0

    def stats(self) -> dict[str, Any]:
        """Counts for benchmarks and tests: received per contract, valid, and repeats of the same request."""
        with self._lock:
            records = list(self._received)
        keys = Counter((r["contract"], r["certificateId"], r.get("messageId")) for r in records if r["valid"])
        return {
            "received": len(records),
            "valid": sum(keys.values()),
            "distinct": len(keys),
            "duplicates": sum(count - 1 for count in keys.values()),
            "by_contract": dict(Counter(r["contract"] for r in records)),
            "by_result": dict(Counter(f"{r['contract']}:{r['resultCode'] or '-'}" for r in records)),
            "held": len(self._certificates),
        }

    # --- requests -------------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply | Deferred:
        """The reply to one HTTP request; waits for nothing (the FK push is deferred to a thread)."""
        contract = self._by_path.get(request.path)
        if contract is not None:
            if request.method == "POST":
                return self._soap(contract, request)
            if request.method == "GET":
                return self._documents_for(contract, request)
        if request.path.startswith("/_mock/"):
            return self._control(request)
        return Reply(404, b"not found\n", "text/plain")

    def _soap(self, contract: _Contract, request: Request) -> Reply:
        try:
            delay = float(request.query["delay"][0]) if "delay" in request.query else self._delay_s
        except ValueError:
            return json_reply({"error": f"delay {request.query['delay'][0]!r} is not a number"}, 400)
        body, address, problems = self._read(contract, request.body)
        mode = self.mode_for(contract.name, address)
        if mode is Mode.MIXED:
            with self._lock:
                mode, delay = mixed_answer(self._random, delay)
        record: dict[str, Any] = {
            "contract": contract.name, "logicalAddress": address, "certificateId": None, "messageId": None,
            "recipient": None, "valid": not problems, "problems": problems, "mode": mode.value,
            "correlationId": request.headers.get("x-skltp-correlation-id"),
        }
        found = contract.read(body) if body is not None and not problems else None
        if found is not None:
            _identify(found, record)
        if mode in (Mode.OK, Mode.SLOW, Mode.TRICKLE):
            if found is None:
                outcome = _Outcome(ResultCode.ERROR, "; ".join(problems)[:1000], ErrorId.VALIDATION_ERROR)
            else:
                outcome = self._business(found, address)
            self._record(request.body, record, outcome)
            answer = _answer_bytes(contract.name, outcome.code, outcome.text, outcome.error_id)
            if mode is Mode.TRICKLE:
                return Reply(200, answer, trickle_s=delay or TRICKLE_DEFAULT_S)
            return Reply(200, answer, delay_s=delay or (SLOW_DEFAULT_S if mode is Mode.SLOW else 0.0))
        self._record(request.body, record, None)  # a failing mode stores nothing
        if mode is Mode.DROP:
            return Reply(0, b"", drop=True, delay_s=delay)
        fixed = self._answers[contract.name][mode]
        return fixed if fixed.delay_s == delay else replace(fixed, delay_s=delay)

    def _read(self, contract: _Contract, data: bytes) -> tuple[etree._Element | None, str | None, list[str]]:
        """Parse (no DTD, no entities, no network) and validate against ``xsd/``: the body, the
        LogicalAddress and every problem."""
        try:
            headers, children = envelope_parts(parse_xml(data))
        except XmlRefused as unreadable:
            return None, None, [unreadable.reason]
        address = logical_address_of(headers)
        if len(children) != 1 or children[0].tag != contract.request_tag:
            return None, address, [f"the Body does not hold one {contract.name} request"]
        violations = self._schemas[contract.name].violations(headers, children[0])
        return children[0], address, [f"{v.path}: {v.reason}" for v in violations]

    def _business(self, found: _Read, address: str | None) -> _Outcome:
        """What the archive or Försäkringskassan answers a valid request (module docstring)."""
        with self._lock:
            if isinstance(found, register.ReceivedRegistration):
                return self._register(found, address)
            if isinstance(found, send.ReceivedSend):
                return self._send(found)
            if isinstance(found, revoke.ReceivedRevocation):
                return self._revoke(found)
            return self._message(found)

    def _register(self, found: register.ReceivedRegistration, address: str | None) -> _Outcome:
        held = self._certificates.get(found.certificate_id)
        if held is not None:
            if (held.patient_root, held.patient_id) == (found.patient_root, found.patient_id):
                return _Outcome(ResultCode.INFO, register_answer.ALREADY_EXISTS)
            return _Outcome(ResultCode.ERROR, register_answer.ALREADY_EXISTS, ErrorId.VALIDATION_ERROR)
        self._certificates[found.certificate_id] = Registration(
            found.certificate_id, found.patient_root, found.patient_id, found.unit_id, address,
            self._clock().isoformat())
        return _Outcome(ResultCode.OK)

    def _held_for(self, certificate_id: str, root: str, patient: str) -> Registration | None:
        held = self._certificates.get(certificate_id)
        return held if held is not None and (held.patient_root, held.patient_id) == (root, patient) else None

    def _send(self, found: send.ReceivedSend) -> _Outcome:
        held = self._held_for(found.certificate_id, found.patient_root, found.patient_id)
        if held is None:
            return _Outcome(ResultCode.ERROR, send_answer.UNKNOWN.format(certificate_id=found.certificate_id),
                            ErrorId.APPLICATION_ERROR)
        if held.revoked:
            return _Outcome(ResultCode.INFO, send_answer.REVOKED.format(certificate_id=found.certificate_id))
        if found.recipient in held.sent_to:
            return _Outcome(ResultCode.INFO, send_answer.ALREADY_SENT.format(
                certificate_id=found.certificate_id, recipient=found.recipient))
        held.sent_to.append(found.recipient)
        return _Outcome(ResultCode.OK)

    def _revoke(self, found: revoke.ReceivedRevocation) -> _Outcome:
        held = self._held_for(found.certificate_id, found.patient_root, found.patient_id)
        if held is None:
            return _Outcome(ResultCode.ERROR, revoke_answer.NOT_FOUND.format(certificate_id=found.certificate_id),
                            ErrorId.APPLICATION_ERROR)
        if held.revoked:
            return _Outcome(ResultCode.INFO, revoke_answer.ALREADY_REVOKED.format(certificate_id=found.certificate_id))
        held.revoked = True
        return _Outcome(ResultCode.OK)

    def _message(self, found: message.ReceivedMessage) -> _Outcome:
        held = self._certificates.get(found.certificate_id)
        if held is None:
            return _Outcome(ResultCode.ERROR, "Intyg does not exist", ErrorId.APPLICATION_ERROR)
        if held.revoked:
            return _Outcome(ResultCode.ERROR, f"Certificate {found.certificate_id} is revoked", ErrorId.REVOKED)
        if found.message_id in self._messages:
            return _Outcome(ResultCode.INFO, message_answer.ALREADY_RECEIVED)
        problems = []
        if (held.patient_root, held.patient_id) != (found.patient_root, found.patient_id):
            problems.append("patientPerson-id is not the certificate's patient")
        if found.amne not in Amne.__members__:
            problems.append(f"amne {found.amne} is not one of {', '.join(Amne)}")
        if found.answer_to is not None:
            question = self._questions.get(found.answer_to)
            if question is None or question.certificate_id != found.certificate_id:
                problems.append(f"svarPa {found.answer_to} names no question about this certificate")
            elif question.amne != found.amne:
                problems.append(f"an answer has the question's amne {question.amne}, not {found.amne}")
            if found.deadline is not None:
                problems.append("sistaDatumForSvar is for questions only")
        if problems:
            return _Outcome(ResultCode.ERROR, "; ".join(problems), ErrorId.VALIDATION_ERROR)
        self._messages[found.message_id] = found.certificate_id
        return _Outcome(ResultCode.OK)

    def _record(self, data: bytes, record: dict[str, Any], outcome: _Outcome | None) -> None:
        with self._lock:
            self._seq += 1
            self._received.append({
                "seq": self._seq, "receivedAt": self._clock().isoformat(), **record,
                "resultCode": outcome.code.value if outcome else None,
                "errorId": outcome.error_id.value if outcome and outcome.error_id else None,
                "resultText": outcome.text if outcome else None,
                "xml": None,
            })
            self._raw.add(self._seq, data)

    def _documents_for(self, contract: _Contract, request: Request) -> Reply:
        url = f"{request.scheme}://{request.headers.get('host', 'localhost')}{contract.path}"
        documents = self._documents[contract.name]
        if "xsd" in request.query:
            document = documents.schema(request.query["xsd"][0], url)
        else:
            document = documents.wsdl(url) if "wsdl" in request.query else None
        if document is None:
            return Reply(404, b"not found\n", "text/plain")
        return Reply(200, document)

    # --- the control API ------------------------------------------------------------------------

    def _control(self, request: Request) -> Reply | Deferred:
        query, method = request.query, request.method
        contract, address = query.get("contract", [None])[0], query.get("address", [None])[0]
        parts = request.path.removeprefix("/_mock/").strip("/").split("/")
        try:
            if parts == ["received"] and method == "GET":
                return json_reply(self.received(int(query.get("since", ["0"])[0]), contract))
            if parts == ["received"] and method == "DELETE":
                self.clear()
                return json_reply({"cleared": True})
            if parts == ["stats"] and method == "GET":
                return json_reply(self.stats())
            if parts == ["certificates"] and method == "GET":
                return json_reply([_registration_json(r) for r in self.certificates()])
            if parts == ["reset"] and method == "POST":
                self.reset()
                return json_reply({"reset": True})
            if parts[0] == "mode" and method == "PUT" and len(parts) == 2:
                self.set_mode(Mode(parts[1]), contract, address)
                return json_reply({"mode": parts[1], "contract": contract, "address": address})
            if parts == ["mode"] and method == "DELETE":
                self.clear_mode(contract, address)
                return json_reply({"mode": self.mode_for(contract, address).value, "contract": contract,
                                   "address": address})
            if parts == ["mode"] and method == "GET":
                return json_reply({"mode": self.mode_for(contract, address).value, "contract": contract,
                                   "address": address})
            if parts[0] == "delay" and method == "PUT" and len(parts) == 2:
                self.set_delay(float(parts[1]))
                return json_reply({"delay": float(parts[1])})
            if parts == ["send-message-to-care"] and method == "POST":
                return self._push_request(request.body)
        except ValueError as wrong:
            return json_reply({"error": str(wrong), "modes": ", ".join(mode.value for mode in Mode)}, 400)
        return json_reply({"error": f"no {method} {request.path}"}, 404)

    # --- acting as Försäkringskassan --------------------------------------------------------------

    def _push_request(self, data: bytes) -> Reply | Deferred:
        """Check the JSON body at once (a 4xx on the loop); the call to the gateway runs in a thread."""
        if self._care_url is None:
            return json_reply({"error": "start the simulator with --care-url to send messages to care"}, 409)
        try:
            asked = json.loads(data or b"{}")
            if not isinstance(asked, dict):
                raise ValueError("the body is a JSON object")
            push = self._question(asked)
        except (ValueError, KeyError, TypeError) as wrong:
            return json_reply({"error": f"{type(wrong).__name__}: {wrong}"}, 400)
        if isinstance(push, Reply):
            return push
        care_url = self._care_url
        return Deferred(lambda: self._push(care_url, *push))

    def _question(self, asked: dict[str, Any]) -> Reply | tuple[IncomingMessage, str]:
        """The SendMessageToCare this simulator sends for ``asked``, and the certificate's unit."""
        certificate_id = str(asked["certificateId"])
        with self._lock:
            held = self._certificates.get(certificate_id)
        if held is None:
            return json_reply({"error": f"no certificate {certificate_id} was registered here"}, 404)
        answer_to = asked.get("svarPa")
        deadline = asked.get("sistaDatumForSvar")
        return IncomingMessage(
            message_id=str(uuid.uuid4()), reference_id=asked.get("referensId"),
            sent_at=self._clock().astimezone(SWEDISH_TIME).replace(microsecond=0),
            certificate_id=certificate_id, person_id_root=held.patient_root, person_id=held.patient_id,
            recipient=held.unit_id, amne=str(asked["amne"]), heading=asked.get("heading"), text=str(asked["text"]),
            reminder_of=asked.get("paminnelseMeddelandeId"),
            answer_to=MessageReference(str(answer_to)) if answer_to else None,
            sender_part=str(asked.get("part", FK_PART)), contact_info=(),
            kompletteringar=tuple(Komplettering(str(k["frageId"]), k.get("instans"), str(k["text"]))
                                  for k in asked.get("komplettering", [])),
            deadline=date.fromisoformat(deadline) if deadline else None, logical_address=held.unit_id,
        ), held.unit_id

    def _push(self, care_url: str, question: IncomingMessage, unit: str) -> Reply:
        """Call the gateway's SendMessageToCare as Försäkringskassan does (in a worker thread)."""
        envelope = request_envelope(unit, write_request(question, certificate_root=unit))
        parts = urlsplit(care_url)
        connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        connection = connection_class(parts.hostname or "127.0.0.1", parts.port, timeout=CARE_TIMEOUT_S)
        correlation_id = str(uuid.uuid4())
        try:
            connection.request("POST", parts.path or CARE_PATH, body=envelope, headers={
                "Content-Type": "text/xml; charset=UTF-8", "SOAPAction": f'"{CARE_SOAP_ACTION}"',
                "x-skltp-correlation-id": correlation_id})
            response = connection.getresponse()
            status, content = response.status, response.read()
        except OSError as failed:
            return json_reply({"messageId": question.message_id, "error": f"the gateway did not answer: {failed}"}, 502)
        finally:
            connection.close()
        answer = read_result_answer(content, CARE_RESPONSE_TAG)
        result: dict[str, Any]
        if isinstance(answer, ContractAnswer):
            result = {"resultCode": answer.result_code.value,
                      "errorId": answer.error_id.value if answer.error_id else None, "resultText": answer.text}
            if answer.result_code is not ResultCode.ERROR and question.is_question:
                with self._lock:
                    self._questions[question.message_id] = _Question(question.certificate_id, question.amne)
        elif isinstance(answer, FaultAnswer):
            result = {"fault": answer.string}
        else:
            result = {"unreadable": answer.reason}
        return json_reply({"messageId": question.message_id, "correlationId": correlation_id, "httpStatus": status,
                           "result": result})


def _key(address: str | None) -> str | None:
    return address.strip().casefold() if address else None


def _care_url(url: str) -> str:
    """``url`` with the RIVTA path of SendMessageToCare when it names only the gateway's host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--care-url {url!r} is not an http(s) URL")
    return url if parts.path not in ("", "/") else url.rstrip("/") + CARE_PATH


def _registration_json(registration: Registration) -> dict[str, Any]:
    return {"certificateId": registration.certificate_id, "logicalAddress": registration.logical_address,
            "unit": registration.unit_id, "registeredAt": registration.registered_at,
            "revoked": registration.revoked, "sentTo": registration.sent_to}


def _identify(found: _Read, record: dict[str, Any]) -> None:
    """Put what identifies the request in its ``record``: the certificate, and the message or recipient."""
    record["certificateId"] = found.certificate_id
    if isinstance(found, send.ReceivedSend):
        record["recipient"] = found.recipient
    elif isinstance(found, message.ReceivedMessage):
        record["messageId"], record["recipient"] = found.message_id, found.recipient_address


@functools.lru_cache(maxsize=256)
def _answer_bytes(contract: str, code: ResultCode, text: str | None, error_id: ErrorId | None) -> bytes:
    """The answer envelope of ``contract`` with this result, written once: a drain asks for the same
    OK (or the same INFO repeat) thousands of times."""
    return envelope_bytes(_WRITERS[contract](code, text, error_id))


_WRITERS = {contract.name: contract.write_answer for contract in CONTRACTS}
