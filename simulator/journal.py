"""A journal system that receives CertificateStatusUpdateForCare, as a WSGI application.

It answers at the contract's RIVTA path in the way a ``Mode`` says (OK, each ERROR, SOAP faults
including the national platform's VP004/VP007, HTTP 500, an empty or non-SOAP body, a slow answer,
a dropped connection), records every request it receives, and is steered at run time over a small
HTTP API under ``/_mock/`` (docs/mock-journal.md). Requests are validated against ``xsd/`` by the
gateway's own validator, and an invalid one is answered VALIDATION_ERROR, so every test and
benchmark that sends here also checks the messages it sends.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from contracts.certificate_status_update.v3.request import (
    ReceivedStatusUpdate,
    read_received,
)
from contracts.certificate_status_update.v3.response import (
    envelope_bytes,
    write_answer,
    write_fault,
)
from contracts.errors import XmlRefused
from contracts.xmlparse import envelope_parts, parse_xml
from domain.values import ErrorId, ResultCode
from gateway.validation import schema_for_wsdl
from gateway.wsdl import WsdlDocuments

CONTRACT_PATH = "/clinicalprocess/healthcond/certificate/CertificateStatusUpdateForCare/3/rivtabp21"
WSDL_PATH = (
    Path(__file__).resolve().parent.parent / "xsd" / "clinicalprocess-healthcond-certificate"
    / "interactions" / "CertificateStatusUpdateForCareInteraction"
    / "CertificateStatusUpdateForCareInteraction_3.2_RIVTABP21.wsdl"
)  # fmt: skip
#: How long "slow" waits when no delay is set: longer than any sensible read timeout.
SLOW_DEFAULT_S = 600.0
#: Raw XML is kept for this many of the latest requests; older records keep their fields only.
KEEP_RAW_DEFAULT = 1000


class Mode(StrEnum):
    """How the journal answers."""

    OK = "ok"
    INFO = "info"
    TECHNICAL_ERROR = "technical-error"
    VALIDATION_ERROR = "validation-error"
    APPLICATION_ERROR = "application-error"
    REVOKED = "revoked"
    FAULT = "fault"  # SOAP Server fault, HTTP 500
    CLIENT_FAULT = "client-fault"  # SOAP Client fault: "your message is malformed"
    VP004 = "vp004"  # the platform has no route for the logical address
    VP007 = "vp007"  # the platform has no access right for the consumer
    HTTP500 = "http500"  # an HTML error page, as a proxy in front of a dead server sends
    EMPTY = "empty"  # HTTP 200 with no body
    NOT_SOAP = "not-soap"  # HTTP 200 with an HTML body
    SLOW = "slow"  # answer OK after the delay (SLOW_DEFAULT_S when none is set)
    DROP = "drop"  # read the request, then close the connection without a word


class DropConnection(Exception):
    """Raised by the application to make the server close the connection without answering."""


@dataclass(frozen=True, slots=True)
class Received:
    """One request as recorded; ``raw_xml`` is dropped once the record is old (``keep_raw``)."""

    seq: int
    received_at: str
    logical_address: str | None
    certificate_id: str | None
    event_code: str | None
    event_time: str | None
    correlation_id: str | None
    mode: str
    valid: bool
    problems: list[str]
    raw_xml: str | None


_RESULTS: dict[Mode, tuple[ResultCode, str | None, ErrorId | None]] = {
    Mode.OK: (ResultCode.OK, None, None),
    Mode.SLOW: (ResultCode.OK, None, None),
    Mode.INFO: (ResultCode.INFO, "Mottaget, men intyget är okänt i journalen", None),
    Mode.TECHNICAL_ERROR: (ResultCode.ERROR, "Journalen är tillfälligt otillgänglig", ErrorId.TECHNICAL_ERROR),
    Mode.VALIDATION_ERROR: (ResultCode.ERROR, "Meddelandet kunde inte tolkas", ErrorId.VALIDATION_ERROR),
    Mode.APPLICATION_ERROR: (ResultCode.ERROR, "Patienten finns inte i journalen", ErrorId.APPLICATION_ERROR),
    Mode.REVOKED: (ResultCode.ERROR, "Intyget är makulerat", ErrorId.REVOKED),
}
_FAULTS: dict[Mode, tuple[str, str, str | None]] = {
    Mode.FAULT: ("Server", "java.lang.NullPointerException", None),
    Mode.CLIENT_FAULT: ("Client", "Unmarshalling Error: unexpected element", None),
    Mode.VP004: ("Client", "VP004 [mock-journal] Det finns inget vägval för den logiska adressen",
                 "No receiverId (logical address) found for the service contract"),
    Mode.VP007: ("Server", "VP007 [mock-journal] Tjänstekonsumenten saknar behörighet",
                 "Authorization missing for the service contract and logical address"),
}  # fmt: skip

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class MockJournal:
    """The simulator's state and WSGI entry point; thread-safe (the server runs a thread per connection)."""

    def __init__(
        self,
        mode: Mode = Mode.OK,
        delay_s: float = 0.0,
        keep_raw: int = KEEP_RAW_DEFAULT,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._lock = threading.Lock()
        self._mode = mode
        self._modes: dict[str, Mode] = {}
        self._delay_s = delay_s
        self._keep_raw = keep_raw
        self._clock = clock
        self._received: list[Received] = []
        self._seq = 0
        self._released = threading.Event()  # set on shutdown: every waiting answer stops waiting
        self._schema = schema_for_wsdl(WSDL_PATH)
        self._documents = WsdlDocuments(WSDL_PATH)

    # --- control --------------------------------------------------------------------------------

    def set_mode(self, mode: Mode, address: str | None = None) -> None:
        """Answer in ``mode`` from now on: for every address, or only for ``address``."""
        with self._lock:
            if address is None:
                self._mode = mode
            else:
                self._modes[address.casefold()] = mode

    def clear_mode(self, address: str) -> None:
        """Let ``address`` follow the default mode again."""
        with self._lock:
            self._modes.pop(address.casefold(), None)

    def set_delay(self, seconds: float) -> None:
        """Wait ``seconds`` before every answer (any mode)."""
        if seconds < 0:
            raise ValueError("a delay cannot be negative")
        with self._lock:
            self._delay_s = seconds

    def mode_for(self, address: str | None) -> Mode:
        with self._lock:
            return self._modes.get((address or "").casefold(), self._mode)

    def received(self, since: int = 0) -> list[Received]:
        """The recorded requests with ``seq`` greater than ``since``, oldest first."""
        with self._lock:
            return [record for record in self._received if record.seq > since]

    def clear(self) -> None:
        with self._lock:
            self._received.clear()

    def stats(self) -> dict[str, Any]:
        """Counts for benchmarks and fault tests: received, distinct events, duplicates, per code."""
        with self._lock:
            records = list(self._received)
        keys = Counter((r.certificate_id, r.event_code, r.event_time) for r in records if r.valid)
        return {
            "received": len(records),
            "valid": sum(keys.values()),
            "distinct_events": len(keys),
            "duplicates": sum(count - 1 for count in keys.values()),
            "by_event_code": dict(Counter(r.event_code or "" for r in records)),
            "by_mode": dict(Counter(r.mode for r in records)),
        }

    def release(self) -> None:
        """Stop every delayed answer now (called when the server shuts down)."""
        self._released.set()

    # --- WSGI -----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if path == CONTRACT_PATH:
            if method == "POST":
                return self._soap(environ, query, start_response)
            if method == "GET":
                return self._documents_for(environ, query, start_response)
        if path.startswith("/_mock/"):
            return self._control(method, path.removeprefix("/_mock/"), query, start_response)
        return _send(start_response, "404 Not Found", b"not found\n", "text/plain")

    def _soap(self, environ: dict[str, Any], query: dict[str, list[str]], start_response: StartResponse) -> list[bytes]:
        try:
            delay = float(query["delay"][0]) if "delay" in query else self._delay_s
        except ValueError:
            return _json(start_response, {"error": f"delay {query['delay'][0]!r} is not a number"}, "400 Bad Request")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        received, problems = self._read(body)
        mode = self.mode_for(received.logical_address if received else None)
        self._record(body, received, problems, mode, environ.get("HTTP_X_SKLTP_CORRELATION_ID"))
        delay = delay or (SLOW_DEFAULT_S if mode is Mode.SLOW else 0.0)
        if delay and self._released.wait(delay):
            raise DropConnection  # shutting down: nobody is waiting for this answer any more
        if mode is Mode.DROP:
            raise DropConnection
        if problems and mode in (Mode.OK, Mode.SLOW):
            answer = write_answer(ResultCode.ERROR, "; ".join(problems)[:1000], ErrorId.VALIDATION_ERROR)
            return _send(start_response, "200 OK", envelope_bytes(answer))
        if mode in _RESULTS:
            return _send(start_response, "200 OK", envelope_bytes(write_answer(*_RESULTS[mode])))
        if mode in _FAULTS:
            return _send(start_response, "500 Internal Server Error", envelope_bytes(write_fault(*_FAULTS[mode])))
        if mode is Mode.HTTP500:
            page = b"<html><body><h1>500 Internal Server Error</h1></body></html>"
            return _send(start_response, "500 Internal Server Error", page, "text/html")
        if mode is Mode.EMPTY:
            return _send(start_response, "200 OK", b"")
        # Mode.NOT_SOAP: what a misconfigured proxy or a login page answers with.
        return _send(start_response, "200 OK", b"<html><body>Service unavailable</body></html>", "text/html")

    def _read(self, body: bytes) -> tuple[ReceivedStatusUpdate | None, list[str]]:
        """Parse (no DTD, no entities, no network) and validate against ``xsd/`` as the gateway does;
        problems are texts for the record and the answer."""
        try:
            root = parse_xml(body)
            headers, body_elements = envelope_parts(root)
            received = read_received(root)
        except XmlRefused as unreadable:
            return None, [unreadable.reason]
        violations = self._schema.violations(headers, body_elements[0])  # read_received refuses an empty Body
        return received, [f"{v.path}: {v.reason}" for v in violations]

    def _record(
        self,
        body: bytes,
        received: ReceivedStatusUpdate | None,
        problems: list[str],
        mode: Mode,
        correlation_id: str | None,
    ) -> None:
        with self._lock:
            self._seq += 1
            self._received.append(
                Received(
                    seq=self._seq,
                    received_at=self._clock().isoformat(),
                    logical_address=received.logical_address if received else None,
                    certificate_id=received.certificate_id if received else None,
                    event_code=received.event_code if received else None,
                    event_time=received.event_time if received else None,
                    correlation_id=correlation_id,
                    mode=mode.value,
                    valid=not problems,
                    problems=problems,
                    raw_xml=body.decode("utf-8", "replace"),
                )
            )
            stale = len(self._received) - self._keep_raw - 1
            if stale >= 0 and self._received[stale].raw_xml is not None:
                self._received[stale] = replace(self._received[stale], raw_xml=None)

    def _documents_for(
        self, environ: dict[str, Any], query: dict[str, list[str]], start_response: StartResponse
    ) -> list[bytes]:
        url = f"{environ['wsgi.url_scheme']}://{environ.get('HTTP_HOST', 'localhost')}{CONTRACT_PATH}"
        if "xsd" in query:
            document = self._documents.schema(query["xsd"][0], url)
        else:
            document = self._documents.wsdl(url) if "wsdl" in query else None
        if document is None:
            return _send(start_response, "404 Not Found", b"not found\n", "text/plain")
        return _send(start_response, "200 OK", document)

    def _control(
        self, method: str, path: str, query: dict[str, list[str]], start_response: StartResponse
    ) -> list[bytes]:
        address = query.get("address", [None])[0]
        parts = path.strip("/").split("/")
        try:
            if parts == ["received"] and method == "GET":
                since = int(query.get("since", ["0"])[0])
                return _json(start_response, [asdict(r) for r in self.received(since)])
            if parts == ["received"] and method == "DELETE":
                self.clear()
                return _json(start_response, {"cleared": True})
            if parts == ["stats"] and method == "GET":
                return _json(start_response, self.stats())
            if parts[0] == "mode" and method == "PUT" and len(parts) == 2:
                self.set_mode(Mode(parts[1]), address)
                return _json(start_response, {"mode": parts[1], "address": address})
            if parts == ["mode"] and method == "DELETE" and address is not None:
                self.clear_mode(address)
                return _json(start_response, {"mode": self.mode_for(address).value, "address": address})
            if parts == ["mode"] and method == "GET":
                return _json(start_response, {"mode": self.mode_for(address).value, "address": address})
            if parts[0] == "delay" and method == "PUT" and len(parts) == 2:
                self.set_delay(float(parts[1]))
                return _json(start_response, {"delay": float(parts[1])})
        except ValueError as wrong:
            known = ", ".join(mode.value for mode in Mode)
            return _json(start_response, {"error": str(wrong), "modes": known}, "400 Bad Request")
        return _json(start_response, {"error": f"no {method} /_mock/{path}"}, "404 Not Found")


def _send(
    start_response: StartResponse, status: str, body: bytes, content_type: str = "text/xml; charset=UTF-8"
) -> list[bytes]:
    headers = [("Content-Length", str(len(body)))]
    if body:
        headers.append(("Content-Type", content_type))
    start_response(status, headers)
    return [body]


def _json(start_response: StartResponse, value: object, status: str = "200 OK") -> list[bytes]:
    return _send(start_response, status, json.dumps(value, ensure_ascii=False).encode(), "application/json")

