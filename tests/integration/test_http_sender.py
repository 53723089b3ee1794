"""The HTTP sender against the journal simulator on loopback: every outcome class, for real.

Each test runs the simulator (``simulator``) as a real HTTP server and sends a status update built by
the contract's builder with ``outbound.HttpSender``, then checks the attempt the sender returns and
what the simulator recorded.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from lxml import etree

from cli.dev_pki import write_dev_pki
from cli.mock_journal import tls_context
from contracts.certificate_status_update.v3.request import StatusUpdateBody, build_status_update
from domain.delivery import Attempt, Decision, OutcomeClass
from domain.values import EventCode
from outbound import HttpSender, Timeouts, TlsConfig
from outbound.http_sender import MAX_RESPONSE_BYTES
from outbound.status_update import status_update_call
from simulator.journal import MockJournal, Mode
from simulator.server import running
from tests import status_updates as su

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
UNIT = "SE2321000016-1003"
TIMEOUTS = Timeouts(connect_s=2.0, read_s=5.0)


@pytest.fixture
def journal() -> MockJournal:
    return MockJournal()


@pytest.fixture
def url(journal: MockJournal) -> Iterator[str]:
    with running(journal) as address:
        yield address


@pytest.fixture
def sender() -> Iterator[HttpSender]:
    built = HttpSender(None, clock=lambda: NOW)
    yield built
    built.close()


def _send(sender: HttpSender, url: str, code: EventCode = EventCode.SIGNAT, *, timeouts: Timeouts = TIMEOUTS,
          body: StatusUpdateBody | None = None, address: str = UNIT, correlation_id: str = "corr-42") -> Attempt:
    if body is None:
        body = build_status_update(su.certificate_for(code), su.event(code))
    return sender.send(status_update_call(url, address, body, correlation_id), timeouts)


@pytest.mark.parametrize(
    ("mode", "outcome", "decision", "http_status", "result_code", "error_id"),
    [
        (Mode.OK, OutcomeClass.OK, Decision.DELIVERED, 200, "OK", None),
        (Mode.INFO, OutcomeClass.INFO, Decision.DELIVERED, 200, "INFO", None),
        (Mode.TECHNICAL_ERROR, OutcomeClass.TECHNICAL_ERROR, Decision.RETRY, 200, "ERROR", "TECHNICAL_ERROR"),
        (Mode.VALIDATION_ERROR, OutcomeClass.VALIDATION_ERROR, Decision.FAILED, 200, "ERROR", "VALIDATION_ERROR"),
        (Mode.APPLICATION_ERROR, OutcomeClass.APPLICATION_ERROR, Decision.FAILED, 200, "ERROR", "APPLICATION_ERROR"),
        (Mode.REVOKED, OutcomeClass.REVOKED, Decision.FAILED, 200, "ERROR", "REVOKED"),
        (Mode.FAULT, OutcomeClass.SOAP_FAULT, Decision.RETRY, 500, None, None),
        (Mode.CLIENT_FAULT, OutcomeClass.SOAP_FAULT, Decision.FAILED, 500, None, None),
        (Mode.VP004, OutcomeClass.PLATFORM_NO_ROUTE, Decision.RETRY_ADDRESS, 500, None, None),
        (Mode.VP007, OutcomeClass.PLATFORM_NO_ACCESS, Decision.RETRY_ADDRESS, 500, None, None),
        (Mode.HTTP500, OutcomeClass.HTTP_ERROR, Decision.RETRY, 500, None, None),
        (Mode.EMPTY, OutcomeClass.EMPTY_BODY, Decision.RETRY, 200, None, None),
        (Mode.NOT_SOAP, OutcomeClass.NON_SOAP_BODY, Decision.RETRY, 200, None, None),
    ],
)
def test_each_answer_mode_gives_its_class(
    journal: MockJournal,
    url: str,
    sender: HttpSender,
    mode: Mode,
    outcome: OutcomeClass,
    decision: Decision,
    http_status: int,
    result_code: str | None,
    error_id: str | None,
) -> None:
    """The journal's answer, whatever its shape, becomes exactly one class and one decision."""
    journal.set_mode(mode)
    attempt = _send(sender, url)
    assert (attempt.outcome, attempt.decision, attempt.http_status) == (outcome, decision, http_status)
    assert (attempt.result_code, attempt.error_id) == (result_code, error_id)
    assert (attempt.at, attempt.url, attempt.correlation_id) == (NOW, url, "corr-42")
    assert attempt.duration_ms >= 0
    assert attempt.text is None or len(attempt.text) <= 200


def test_fault_text_is_kept_for_the_operator(journal: MockJournal, url: str, sender: HttpSender) -> None:
    """The platform's fault string starts the attempt's text, so `outbox show` says what VP said."""
    journal.set_mode(Mode.VP004)
    assert (_send(sender, url).text or "").startswith("VP004 ")


def test_the_journal_receives_a_valid_message_with_header_and_correlation_id(
    journal: MockJournal, url: str, sender: HttpSender
) -> None:
    """The simulator validates against xsd/ and records the logical address, ids and correlation id."""
    attempt = _send(sender, url, EventCode.NYFRFM)
    assert attempt.outcome is OutcomeClass.OK
    [received] = journal.received()
    assert received.valid, received.problems
    assert (received.logical_address, received.event_code, received.correlation_id) == (UNIT, "NYFRFM", "corr-42")
    assert received.certificate_id == su.certificate_for(EventCode.NYFRFM).id
    assert received.raw_xml is not None and "CertificateStatusUpdateForCare" in received.raw_xml


def test_an_invalid_message_is_answered_validation_error(
    journal: MockJournal, url: str, sender: HttpSender
) -> None:
    """A body that breaks the schema is refused as a real producer with schema validation would."""
    body = build_status_update(su.certificate_for(EventCode.SIGNAT), su.event(EventCode.SIGNAT))
    body.remove(body[3])  # mottagnaFragor is required
    attempt = _send(sender, url, body=body, correlation_id="corr-43")
    assert (attempt.outcome, attempt.decision) == (OutcomeClass.VALIDATION_ERROR, Decision.FAILED)
    assert journal.received()[0].valid is False


def test_mode_per_logical_address(journal: MockJournal, url: str, sender: HttpSender) -> None:
    """One unit lacks a route while the others are served: the mode is chosen by LogicalAddress."""
    journal.set_mode(Mode.VP004, address=UNIT.lower())
    body = build_status_update(su.certificate_for(EventCode.SIGNAT), su.event(EventCode.SIGNAT))
    assert _send(sender, url, body=body, correlation_id="c1").outcome is OutcomeClass.PLATFORM_NO_ROUTE
    body = build_status_update(su.certificate_for(EventCode.SIGNAT), su.event(EventCode.SIGNAT))
    assert _send(sender, url, body=body, address="SE2321000016-2000").outcome is OutcomeClass.OK
    journal.clear_mode(UNIT)
    assert _send(sender, url).outcome is OutcomeClass.OK


def test_journal_that_never_answers_frees_the_sender_within_the_read_timeout(
    journal: MockJournal, url: str, sender: HttpSender
) -> None:
    """A hung journal system costs one read timeout, not hours: the call returns TIMEOUT."""
    journal.set_mode(Mode.SLOW)  # waits 600 s unless released
    started = time.monotonic()
    attempt = _send(sender, url, timeouts=Timeouts(connect_s=1.0, read_s=0.5))
    elapsed = time.monotonic() - started
    assert (attempt.outcome, attempt.decision, attempt.http_status) == (OutcomeClass.TIMEOUT, Decision.RETRY, None)
    assert elapsed < 10, f"the sender was held {elapsed:.1f} s by a journal that never answers"
    journal.set_mode(Mode.OK)
    assert _send(sender, url).outcome is OutcomeClass.OK  # the pool recovers: the next call is served


def test_delay_per_request_is_injectable(journal: MockJournal, url: str, sender: HttpSender) -> None:
    """?delay= on the URL delays that answer: longer than the read timeout, it times out."""
    attempt = _send(sender, f"{url}?delay=3", timeouts=Timeouts(connect_s=1.0, read_s=0.3))
    assert attempt.outcome is OutcomeClass.TIMEOUT


def test_dropped_connection_is_a_connect_error(journal: MockJournal, url: str, sender: HttpSender) -> None:
    """The journal closes the connection without answering: retried like any broken connection."""
    journal.set_mode(Mode.DROP)
    attempt = _send(sender, url)
    assert (attempt.outcome, attempt.decision, attempt.http_status) == (
        OutcomeClass.CONNECT_ERROR, Decision.RETRY, None
    )
    assert attempt.text


def test_nothing_listening_is_a_connect_error(sender: HttpSender) -> None:
    """A closed port (the journal system is down) is a connection error, quickly."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    attempt = _send(sender, f"http://127.0.0.1:{port}/x")
    assert (attempt.outcome, attempt.decision) == (OutcomeClass.CONNECT_ERROR, Decision.RETRY)


def test_tls_to_a_plain_http_journal_is_a_tls_error(url: str, sender: HttpSender) -> None:
    """A handshake that fails (here: the far end does not speak TLS) is a TLS error."""
    attempt = _send(sender, url.replace("http://", "https://"))
    assert (attempt.outcome, attempt.decision) == (OutcomeClass.TLS_ERROR, Decision.RETRY)


def test_mutual_tls_uses_configured_certificates_not_the_environment(
    journal: MockJournal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With our client certificate and CA the call succeeds, even when REQUESTS_CA_BUNDLE points
    elsewhere (trust_env is off); without a client certificate the journal refuses the handshake."""
    pki = write_dev_pki(tmp_path / "pki", datetime.now(UTC), consumers=("SE2321000016-GW",))
    server_context = tls_context(str(pki.server_cert), str(pki.server_key), str(pki.trust_bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "no-such-bundle.pem"))
    cert, key = pki.clients["SE2321000016-GW"]
    with running(journal, tls=server_context) as url:
        mutual = HttpSender(TlsConfig(str(cert), str(key), str(pki.trust_bundle)), lambda: NOW)
        anonymous = HttpSender(TlsConfig(ca_bundle=str(pki.trust_bundle)), lambda: NOW)
        try:
            assert _send(mutual, url).outcome is OutcomeClass.OK
            assert _send(anonymous, url).outcome is OutcomeClass.TLS_ERROR
        finally:
            mutual.close()
            anonymous.close()
    assert len(journal.received()) == 1


def test_wsdl_is_served_for_clients(url: str) -> None:
    """?wsdl answers the contract's WSDL with the simulator's own address in soap:address."""
    answer = requests.get(f"{url}?wsdl", timeout=5)
    assert answer.status_code == 200
    address = etree.fromstring(answer.content).find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert address is not None and address.get("location") == url



def test_a_trickled_answer_ends_at_the_calls_deadline(journal: MockJournal, url: str, sender: HttpSender) -> None:
    """A journal sends its answer one byte every 0.2 s: each read is well within the read timeout, but
    the whole call stops at its deadline (1.5 s) and is a timeout, not a call held for 80 s."""
    journal.set_mode(Mode.TRICKLE)
    journal.set_delay(0.2)
    started = time.monotonic()
    attempt = _send(sender, url, timeouts=Timeouts(connect_s=1.0, read_s=1.0, total_s=1.5))
    elapsed = time.monotonic() - started
    assert (attempt.outcome, attempt.decision, attempt.http_status) == (OutcomeClass.TIMEOUT, Decision.RETRY, None)
    assert 1.4 < elapsed < 3.0, elapsed
    assert attempt.text is not None and "1.5 s" in attempt.text
    assert len(journal.received()) == 1


def test_the_deadline_is_connect_plus_read_when_not_given(journal: MockJournal, url: str,
                                                          sender: HttpSender) -> None:
    """Without an explicit total the call may take connect + read timeout, and no longer."""
    journal.set_mode(Mode.TRICKLE)
    journal.set_delay(0.1)
    started = time.monotonic()
    attempt = _send(sender, url, timeouts=Timeouts(connect_s=0.5, read_s=0.5))
    assert attempt.outcome is OutcomeClass.TIMEOUT
    assert time.monotonic() - started < 2.5


class _Oversized:
    """A raw HTTP server on loopback that answers every request with a body of ``size`` bytes."""

    def __init__(self, size: int, chunked: bool) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.size, self.chunked = size, chunked
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/csu"

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            connection, _ = self.listener.accept()
            with connection:
                connection.recv(65536)
                if self.chunked:
                    connection.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                    chunk = b"x" * 65536
                    for _ in range(self.size // len(chunk)):
                        connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    connection.sendall(b"0\r\n\r\n")
                else:
                    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % self.size)
                    connection.sendall(b"x" * self.size)

    def close(self) -> None:
        self.listener.close()
        self.thread.join(5)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_oversized_answer_is_not_read_to_its_end(sender: HttpSender, chunked: bool) -> None:
    """A 4 MB answer (declared, or chunked without a length) stops at the sender's cap: its own class,
    retried on the technical schedule, the connection not reused."""
    server = _Oversized(4 * 1024 * 1024, chunked)
    try:
        attempt = _send(sender, server.url)
    finally:
        server.close()
    assert (attempt.outcome, attempt.decision, attempt.http_status) == (
        OutcomeClass.RESPONSE_TOO_LARGE, Decision.RETRY, 200)
    assert attempt.text is not None and str(MAX_RESPONSE_BYTES) in attempt.text


def test_kept_alive_connections_carry_many_calls(journal: MockJournal, url: str, sender: HttpSender) -> None:
    """Twenty calls in a row go over the connection the first one opened."""
    for _ in range(20):
        assert _send(sender, url).outcome is OutcomeClass.OK
    assert sender.connections_opened == 1
