"""The journal simulator's control API and command, over real HTTP on loopback."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from contracts.certificate_status_update.v3.request import (
    build_status_update,
    status_update_envelope,
)
from domain.values import EventCode
from simulator.journal import CONTRACT_PATH, MockJournal
from simulator.server import running
from tests import status_updates as su
from tests.conformance import create_draft_corpus
from tests.conformance.schemas import message_errors

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent / "intygsgateway"
UNIT = "SE2321000016-1003"


def _request(code: EventCode = EventCode.SKAPAT, address: str = UNIT) -> bytes:
    body = build_status_update(su.certificate_for(code), su.event(code))
    return status_update_envelope(address, body)


@pytest.fixture
def base() -> Iterator[tuple[MockJournal, str, requests.Session]]:
    journal = MockJournal(keep_raw=2)
    with running(journal) as url, requests.Session() as session:
        yield journal, url.removesuffix(CONTRACT_PATH), session


def _post(session: requests.Session, base_url: str, message: bytes) -> requests.Response:
    return session.post(f"{base_url}{CONTRACT_PATH}", data=message, timeout=5,
                        headers={"Content-Type": "text/xml; charset=utf-8"})  # fmt: skip


def test_received_lists_requests_and_clears(base: tuple[MockJournal, str, requests.Session]) -> None:
    """GET /_mock/received returns what arrived (ids, code, address, time, raw XML); DELETE empties it."""
    _, url, session = base
    assert _post(session, url, _request(EventCode.SKAPAT)).status_code == 200
    assert _post(session, url, _request(EventCode.ANDRAT)).status_code == 200
    received = session.get(f"{url}/_mock/received", timeout=5).json()
    assert [(r["seq"], r["event_code"], r["logical_address"], r["valid"]) for r in received] == [
        (1, "SKAPAT", UNIT, True), (2, "ANDRAT", UNIT, True),
    ]  # fmt: skip
    assert received[0]["certificate_id"] == su.certificate_for(EventCode.SKAPAT).id
    assert received[0]["event_time"] == "2026-11-21T10:15:30.123"
    assert "CertificateStatusUpdateForCare" in received[0]["raw_xml"]
    assert [r["seq"] for r in session.get(f"{url}/_mock/received?since=1", timeout=5).json()] == [2]
    assert session.delete(f"{url}/_mock/received", timeout=5).status_code == 200
    assert session.get(f"{url}/_mock/received", timeout=5).json() == []


def test_raw_xml_is_kept_only_for_the_latest_requests(base: tuple[MockJournal, str, requests.Session]) -> None:
    """With keep_raw=2 the oldest of three records keeps its fields but drops its XML."""
    _, url, session = base
    for _ in range(3):
        _post(session, url, _request())
    received = session.get(f"{url}/_mock/received", timeout=5).json()
    assert [r["raw_xml"] is not None for r in received] == [False, True, True]
    assert received[0]["event_code"] == "SKAPAT"


def test_stats_count_duplicates_by_event(base: tuple[MockJournal, str, requests.Session]) -> None:
    """The same event received twice is one duplicate; a different event is not."""
    _, url, session = base
    for code in (EventCode.SKAPAT, EventCode.SKAPAT, EventCode.SIGNAT):
        _post(session, url, _request(code))
    stats = session.get(f"{url}/_mock/stats", timeout=5).json()
    assert (stats["received"], stats["distinct_events"], stats["duplicates"]) == (3, 2, 1)
    assert stats["by_event_code"] == {"SKAPAT": 2, "SIGNAT": 1}


def test_mode_switches_at_run_time_and_per_address(base: tuple[MockJournal, str, requests.Session]) -> None:
    """PUT /_mock/mode changes answers at once; ?address= narrows it to one logical address."""
    _, url, session = base
    assert session.put(f"{url}/_mock/mode/http500", timeout=5).status_code == 200
    assert _post(session, url, _request()).status_code == 500
    session.put(f"{url}/_mock/mode/ok", timeout=5)
    session.put(f"{url}/_mock/mode/empty?address={UNIT}", timeout=5)
    assert _post(session, url, _request()).content == b""
    assert b"resultCode>OK<" in _post(session, url, _request(address="SE2321000016-2000")).content
    assert session.get(f"{url}/_mock/mode?address={UNIT}", timeout=5).json()["mode"] == "empty"
    session.delete(f"{url}/_mock/mode?address={UNIT}", timeout=5)
    assert b"resultCode>OK<" in _post(session, url, _request()).content
    assert [r["mode"] for r in session.get(f"{url}/_mock/received", timeout=5).json()] == [
        "http500", "empty", "ok", "ok",
    ]  # fmt: skip


def test_control_api_refuses_what_it_does_not_know(base: tuple[MockJournal, str, requests.Session]) -> None:
    """An unknown mode is 400 with the list of modes; an unknown path is 404; a bad delay is 400."""
    _, url, session = base
    refused = session.put(f"{url}/_mock/mode/sometimes", timeout=5)
    assert refused.status_code == 400 and "technical-error" in refused.json()["modes"]
    assert session.get(f"{url}/_mock/nothing", timeout=5).status_code == 404
    assert session.put(f"{url}/_mock/delay/-1", timeout=5).status_code == 400
    assert session.get(f"{url}/elsewhere", timeout=5).status_code == 404


def test_unreadable_request_is_recorded_and_refused(base: tuple[MockJournal, str, requests.Session]) -> None:
    """Bytes that are not a SOAP request get VALIDATION_ERROR and a record saying why."""
    _, url, session = base
    answer = _post(session, url, b"<not-soap/>")
    assert answer.status_code == 200 and b"VALIDATION_ERROR" in answer.content
    [record] = session.get(f"{url}/_mock/received", timeout=5).json()
    assert record["valid"] is False and record["problems"] and record["certificate_id"] is None


def test_command_serves_until_terminated() -> None:
    """`intygsgateway mock-journal --port 0` prints its URL, answers, and exits 0 on SIGTERM."""
    with subprocess.Popen(
        [str(BIN), "mock-journal", "--port", "0", "--mode", "technical-error"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert " listening at " in line, line
            url = line.split(" listening at ")[1].split()[0]
            answer = requests.post(url, data=_request(), timeout=5, headers={"Content-Type": "text/xml"})
            assert b"TECHNICAL_ERROR" in answer.content
        finally:
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=10)
    assert code == 0


def test_delay_is_settable_at_run_time(base: tuple[MockJournal, str, requests.Session]) -> None:
    """PUT /_mock/delay holds every answer; 0 lifts it. A delay that is not a number is refused."""
    _, url, session = base
    assert session.put(f"{url}/_mock/delay/5", timeout=5).json() == {"delay": 5.0}
    with pytest.raises(requests.exceptions.ReadTimeout):
        _post_with_timeout(url, 0.3)
    session.put(f"{url}/_mock/delay/0", timeout=5)
    assert _post_with_timeout(url, 5).status_code == 200
    refused = session.post(f"{url}{CONTRACT_PATH}?delay=soon", data=_request(), timeout=5)
    assert refused.status_code == 400


def _post_with_timeout(url: str, read_s: float) -> requests.Response:
    with requests.Session() as own:  # its own connection, so a timed-out one is not reused
        return own.post(f"{url}{CONTRACT_PATH}", data=_request(), timeout=(2, read_s))


def test_readme_demo_request_is_a_valid_create_draft() -> None:
    """The README demo posts docs/examples/create-draft-lisjp.xml: it must stay valid for the demo unit."""
    message = (Path(__file__).resolve().parents[2] / "docs" / "examples" / "create-draft-lisjp.xml").read_bytes()
    assert message_errors(create_draft_corpus.SCHEMA.ours().schema, message) == []
    assert b"<itr:LogicalAddress xmlns:itr=\"urn:riv:itintegration:registry:1\">SE2321000016-1000<" in message


@pytest.mark.parametrize(
    "options", [["--tls-cert", "server.pem"], ["--tls-key", "key.pem"], ["--tls-client-ca", "ca.pem"]]
)
def test_command_refuses_incomplete_tls_options(options: list[str]) -> None:
    """Half a TLS configuration is a usage error (exit 2), not a plain-HTTP journal by surprise."""
    finished = subprocess.run([str(BIN), "mock-journal", "--port", "0", *options], check=False, capture_output=True,
                              text=True, timeout=30)  # fmt: skip
    assert finished.returncode == 2, finished.stderr
    assert "--tls-" in finished.stderr


def _raw_exchange(base_url: str, *pieces: bytes) -> bytes:
    """Send ``pieces`` on one connection, a moment apart, and read until the server closes it."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        for piece in pieces:
            connection.sendall(piece)
            time.sleep(0.01)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


def test_pipelined_and_piecemeal_requests_are_answered_in_order(
        base: tuple[MockJournal, str, requests.Session]) -> None:
    """Two requests in one write get their answers in order on the one connection; a request that
    arrives a few bytes at a time is answered once it is whole; ``Connection: close`` ends it."""
    journal, url, _ = base
    both = _raw_exchange(url, b"GET /_mock/mode HTTP/1.1\r\nHost: x\r\n\r\n"
                              b"GET /_mock/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    first, second = both.split(b"HTTP/1.1 200 OK\r\n")[1:]
    assert b'"mode": "ok"' in first and b'"received": 0' in second
    message = _request(EventCode.SIGNAT)
    head = (f"POST {CONTRACT_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml; charset=utf-8\r\n"
            f"Content-Length: {len(message)}\r\nConnection: close\r\n\r\n").encode()
    whole = head + message
    answer = _raw_exchange(url, *(whole[offset:offset + 700] for offset in range(0, len(whole), 700)))
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and b"Connection: close" in answer
    assert [(r.event_code, r.valid) for r in journal.received()] == [("SIGNAT", True)]


def test_what_is_not_a_plain_http_request_ends_the_connection(
        base: tuple[MockJournal, str, requests.Session]) -> None:
    """A TLS handshake to the plain port gets a 400 and the connection closes; a chunked request is
    not half-read: the connection closes without an answer, and nothing is recorded."""
    journal, url, _ = base
    assert _raw_exchange(url, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03").startswith(
        b"HTTP/1.1 400 Bad Request\r\n")
    chunked = (f"POST {CONTRACT_PATH} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nhello\r\n0\r\n\r\n").encode()
    assert _raw_exchange(url, chunked) == b""
    assert journal.received() == []


def test_a_client_sending_more_than_a_request_ahead_of_its_answer_is_cut_off(
        base: tuple[MockJournal, str, requests.Session]) -> None:
    """While an answer is held back, what a client sends after its request waits unread; more than the
    largest request the simulator reads (9 MB here) ends the connection at once, not after the wait."""
    _, url, _ = base
    host, port = url.removeprefix("http://").split(":")
    message = _request()
    head = (f"POST {CONTRACT_PATH}?delay=10 HTTP/1.1\r\nHost: x\r\nContent-Length: {len(message)}\r\n\r\n").encode()
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(head + message)
        with contextlib.suppress(OSError):  # reset by the server midway, as it should be
            connection.sendall(b"x" * (9 * 1024 * 1024))
        with contextlib.suppress(ConnectionResetError):
            assert connection.recv(65536) == b""
    assert time.monotonic() - started < 5
