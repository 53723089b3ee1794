"""A journal system that receives CertificateStatusUpdateForCare: what it answers, given a request.

It answers at the contract's RIVTA path in the way a ``Mode`` says (OK, each ERROR, SOAP faults
including the national platform's VP004/VP007, HTTP 500, an empty or non-SOAP body, a slow answer,
an answer trickled a byte at a time, a dropped connection, or a random mix for fault tests),
records every request it receives, and is steered at run time over a small HTTP API under
``/_mock/`` (docs/mock-journal.md). Requests are validated against ``xsd/`` by the gateway's own
validator, and an invalid one is answered VALIDATION_ERROR, so every test and benchmark that sends
here also checks the messages it sends.

``MockJournal.handle`` turns one request into a ``Reply`` without waiting: the delay, the trickle
and the dropped connection are the server's to carry out (``simulator.server``), so that one
thread serves any number of slow answers.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from lxml import etree

from contracts.answers import envelope_bytes, write_fault
from contracts.certificate_status_update.v3.request import (
    ReceivedStatusUpdate,
    read_received_parts,
)
from contracts.certificate_status_update.v3.response import write_answer
from contracts.errors import XmlRefused
from contracts.xmlparse import envelope_parts, parse_xml
from domain.values import ErrorId, ResultCode
from gateway.validation import schema_for_wsdl
from gateway.wsdl import WsdlDocuments
from simulator.http import RawBodies, Reply, Request, json_reply

CONTRACT_PATH = "/clinicalprocess/healthcond/certificate/CertificateStatusUpdateForCare/3/rivtabp21"
WSDL_PATH = (
    Path(__file__).resolve().parent.parent / "xsd" / "clinicalprocess-healthcond-certificate"
    / "interactions" / "CertificateStatusUpdateForCareInteraction"
    / "CertificateStatusUpdateForCareInteraction_3.2_RIVTABP21.wsdl"
)  # fmt: skip
#: How long "slow" waits when no delay is set: longer than any sensible read timeout.
SLOW_DEFAULT_S = 600.0
#: Seconds between the bytes of a trickled answer when no delay is set.
TRICKLE_DEFAULT_S = 1.0
#: The longest random wait of a "slow" answer in mode mixed when no delay is set.
MIXED_SLOW_DEFAULT_S = 2.0
#: Mode mixed: the share of OK at once, and of TECHNICAL_ERROR; the rest is OK after a random wait.
MIXED_WEIGHTS = (0.6, 0.2)
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
    TRICKLE = "trickle"  # answer OK one byte at a time, a byte every delay (TRICKLE_DEFAULT_S when none)
    DROP = "drop"  # read the request, then close the connection without a word
    MIXED = "mixed"  # at random: OK, TECHNICAL_ERROR, or OK after up to the delay (fault tests)


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


def mixed_answer(draw_from: random.Random, delay: float) -> tuple[Mode, float]:
    """A random answer of mode ``mixed``, for fault tests: OK at once, TECHNICAL_ERROR, or OK after a
    random wait of up to ``delay`` (``MIXED_SLOW_DEFAULT_S`` when 0). The caller holds the lock that
    guards ``draw_from``; a simulator's one generator keeps a seeded fault test repeatable."""
    draw = draw_from.random()
    wait = draw_from.uniform(0, delay or MIXED_SLOW_DEFAULT_S)
    if draw < MIXED_WEIGHTS[0]:
        return Mode.OK, 0.0
    if draw < MIXED_WEIGHTS[0] + MIXED_WEIGHTS[1]:
        return Mode.TECHNICAL_ERROR, 0.0
    return Mode.SLOW, wait


class MockJournal:
    """The simulator's state and WSGI entry point; thread-safe (the server runs a thread per connection)."""

    def __init__(
        self,
        mode: Mode = Mode.OK,
        delay_s: float = 0.0,
        keep_raw: int = KEEP_RAW_DEFAULT,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        seed: int | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._mode = mode
        self._modes: dict[str, Mode] = {}
        self._delay_s = delay_s
        self._clock = clock
        self._received: list[Received] = []
        self._raw = RawBodies(keep_raw)
        self._seq = 0
        self._random = random.Random(seed)  # mode mixed; seeded for a repeatable fault test
        self._schema = schema_for_wsdl(WSDL_PATH)
        self._documents = WsdlDocuments(WSDL_PATH)
        self._answers = _answers()

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
            return [self._with_raw(record) for record in self._received if record.seq > since]

    def _with_raw(self, record: Received) -> Received:
        raw = self._raw.text(record.seq)
        return record if raw is None else replace(record, raw_xml=raw)

    def clear(self) -> None:
        with self._lock:
            self._received.clear()
            self._raw.clear()

    def stats(self) -> dict[str, Any]:
        """Counts for benchmarks and fault tests: received, distinct events, duplicates, per code.

        ``duplicates`` counts valid requests received again for the same event (certificate, code,
        time), for whatever reason: the fault test compares it with the attempts the gateway made.
        ``distinct_correlation_ids`` counts the events by the id the gateway sends with each.
        """
        with self._lock:
            records = list(self._received)
        keys = Counter((r.certificate_id, r.event_code, r.event_time) for r in records if r.valid)
        return {
            "received": len(records),
            "valid": sum(keys.values()),
            "distinct_events": len(keys),
            "duplicates": sum(count - 1 for count in keys.values()),
            "distinct_correlation_ids": len({r.correlation_id for r in records if r.valid}),
            "by_event_code": dict(Counter(r.event_code or "" for r in records)),
            "by_mode": dict(Counter(r.mode for r in records)),
        }

    # --- requests -----------------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        """The reply to one HTTP request; waits for nothing (the server carries out delays)."""
        if request.path == CONTRACT_PATH:
            if request.method == "POST":
                return self._soap(request)
            if request.method == "GET":
                return self._documents_for(request)
        if request.path.startswith("/_mock/"):
            return self._control(request.method, request.path.removeprefix("/_mock/"), request.query)
        return Reply(404, b"not found\n", "text/plain")

    def _soap(self, request: Request) -> Reply:
        try:
            delay = float(request.query["delay"][0]) if "delay" in request.query else self._delay_s
        except ValueError:
            return _json({"error": f"delay {request.query['delay'][0]!r} is not a number"}, 400)
        received, problems = self._read(request.body)
        mode = self.mode_for(received.logical_address if received else None)
        if mode is Mode.MIXED:
            with self._lock:
                mode, delay = mixed_answer(self._random, delay)
        self._record(request.body, received, problems, mode, request.headers.get("x-skltp-correlation-id"))
        if mode is Mode.TRICKLE:
            reply = self._answers[Mode.OK]
            return replace(reply, trickle_s=delay or TRICKLE_DEFAULT_S)
        delay = delay or (SLOW_DEFAULT_S if mode is Mode.SLOW else 0.0)
        if mode is Mode.DROP:
            return Reply(0, b"", drop=True, delay_s=delay)
        if problems and mode in (Mode.OK, Mode.SLOW):
            answer = write_answer(ResultCode.ERROR, "; ".join(problems)[:1000], ErrorId.VALIDATION_ERROR)
            return Reply(200, envelope_bytes(answer), delay_s=delay)
        fixed = self._answers[mode]
        return fixed if fixed.delay_s == delay else replace(fixed, delay_s=delay)

    def _read(self, body: bytes) -> tuple[ReceivedStatusUpdate | None, list[str]]:
        """Parse (no DTD, no entities, no network) and validate against ``xsd/`` as the gateway does;
        problems are texts for the record and the answer."""
        try:
            root = parse_xml(body)
            headers, body_elements = envelope_parts(root)
            received = read_received_parts(headers, body_elements)
        except XmlRefused as unreadable:
            return None, [unreadable.reason]
        violations = self._schema.violations(headers, body_elements[0])  # read_received_parts refuses an empty Body
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
                    raw_xml=None,
                )
            )
            self._raw.add(self._seq, body)

    def _documents_for(self, request: Request) -> Reply:
        url = f"{request.scheme}://{request.headers.get('host', 'localhost')}{CONTRACT_PATH}"
        if "xsd" in request.query:
            document = self._documents.schema(request.query["xsd"][0], url)
        else:
            document = self._documents.wsdl(url) if "wsdl" in request.query else None
        if document is None:
            return Reply(404, b"not found\n", "text/plain")
        return Reply(200, document)

    def _control(self, method: str, path: str, query: dict[str, list[str]]) -> Reply:
        address = query.get("address", [None])[0]
        parts = path.strip("/").split("/")
        try:
            if parts == ["received"] and method == "GET":
                since = int(query.get("since", ["0"])[0])
                return _json([asdict(r) for r in self.received(since)])
            if parts == ["received"] and method == "DELETE":
                self.clear()
                return _json({"cleared": True})
            if parts == ["stats"] and method == "GET":
                return _json(self.stats())
            if parts[0] == "mode" and method == "PUT" and len(parts) == 2:
                self.set_mode(Mode(parts[1]), address)
                return _json({"mode": parts[1], "address": address})
            if parts == ["mode"] and method == "DELETE" and address is not None:
                self.clear_mode(address)
                return _json({"mode": self.mode_for(address).value, "address": address})
            if parts == ["mode"] and method == "GET":
                return _json({"mode": self.mode_for(address).value, "address": address})
            if parts[0] == "delay" and method == "PUT" and len(parts) == 2:
                self.set_delay(float(parts[1]))
                return _json({"delay": float(parts[1])})
        except ValueError as wrong:
            known = ", ".join(mode.value for mode in Mode)
            return _json({"error": str(wrong), "modes": known}, 400)
        return _json({"error": f"no {method} /_mock/{path}"}, 404)


def _answers() -> dict[Mode, Reply]:
    """Every fixed answer, built once: a benchmark's journal spends its time on reading requests."""
    return fixed_answers(write_answer)


def fixed_answers(write: Callable[[ResultCode, str | None, ErrorId | None], etree._Element]) -> dict[Mode, Reply]:
    """The answer of every mode that does not depend on the request, for the contract ``write``
    writes answers of (the journal's status update, or one of the recipient simulator's contracts)."""
    answers = {mode: Reply(200, envelope_bytes(write(*result))) for mode, result in _RESULTS.items()}
    answers |= {mode: Reply(500, envelope_bytes(write_fault(*fault))) for mode, fault in _FAULTS.items()}
    answers[Mode.HTTP500] = Reply(500, b"<html><body><h1>500 Internal Server Error</h1></body></html>", "text/html")
    answers[Mode.EMPTY] = Reply(200, b"")
    # what a misconfigured proxy or a login page answers with
    answers[Mode.NOT_SOAP] = Reply(200, b"<html><body>Service unavailable</body></html>", "text/html")
    return answers


_json = json_reply
