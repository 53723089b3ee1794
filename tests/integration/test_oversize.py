"""A body over the size cap: the refusal reaches a client that is still sending, under real gunicorn.

`serve` runs for real on loopback (gthread workers, and the classic sync worker); real clients send
20 MB: ``http.client``, which like most SOAP clients writes the whole body before it reads a byte
(it saw only a broken pipe while the gateway closed without reading), and ``requests``. Both get the
contract's TOO_LARGE answer, with Content-Length and chunked alike, and the connection is usable or
closed cleanly. A client that would send for ever is cut off within the drain's bounds, and the
server keeps answering others meanwhile.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from lxml import etree

from domain.result_texts import TOO_LARGE
from tests.envelopes import create_draft_envelope
from tests.integration.processes import stop, wait_until_up

BIN = Path(sys.executable).parent / "intygsgateway"
PATH = "/clinicalprocess/healthcond/certificate/CreateDraftCertificate/3/rivtabp21"
CORE_NS = "urn:riv:clinicalprocess:healthcond:certificate:3"
TWENTY_MB = 20 * 1024 * 1024
START_TIMEOUT_S = 60
DRAIN_SECONDS = 3.0

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module", params=[4, 1], ids=["gthread", "sync"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real `serve` (gunicorn, one worker) on loopback with the default size cap; yields its port."""
    folder = tmp_path_factory.mktemp("serve-oversize")
    port, url = _free_port(), f"sqlite:///{folder / 'gw.db'}"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("INTYGSGATEWAY_")},
           "INTYGSGATEWAY_LOG_LEVEL": "warning", "INTYGSGATEWAY_OVERSIZE_DRAIN_SECONDS": str(DRAIN_SECONDS)}
    subprocess.run([str(BIN), "db", "upgrade", "--db", url], env=env, check=True, capture_output=True, timeout=60)
    log = folder / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen([str(BIN), "serve", "--demo", "--db", url, "--port", str(port), "--workers", "1",
                                   "--threads", str(request.param), "--no-worker"],
                                  stdout=output, stderr=subprocess.STDOUT, env=env)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", server, log, START_TIMEOUT_S)
        yield port
    finally:
        stop(server)


def _oversize() -> bytes:
    """20 MB that starts as a real request: a draft whose prefill text runs on and on."""
    long_ref = b"<cdc:ref>" + b"x" * TWENTY_MB + b"</cdc:ref>"
    body = create_draft_envelope(ref="x").replace(b"<cdc:ref>x</cdc:ref>", long_ref)
    assert len(body) > TWENTY_MB
    return body


def _result(body: bytes) -> tuple[str | None, str | None, str | None]:
    root = etree.fromstring(body)
    return (root.findtext(f".//{{{CORE_NS}}}resultCode"), root.findtext(f".//{{{CORE_NS}}}errorId"),
            root.findtext(f".//{{{CORE_NS}}}resultText"))


def _chunks(body: bytes) -> Iterator[bytes]:
    for start in range(0, len(body), 256 * 1024):
        yield body[start:start + 256 * 1024]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_client_that_writes_the_whole_body_first_reads_the_refusal(served: int, chunked: bool) -> None:
    """http.client sends all 20 MB, then reads: HTTP 200 and ERROR/VALIDATION_ERROR GW-TOO-LARGE, no broken pipe."""
    connection = http.client.HTTPConnection("127.0.0.1", served, timeout=30)
    try:
        body = _oversize()
        headers = {"Content-Type": "text/xml; charset=utf-8"}
        if chunked:
            connection.request("POST", PATH, body=_chunks(body), headers=headers, encode_chunked=True)
        else:
            connection.request("POST", PATH, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read()
    finally:
        connection.close()
    assert response.status == 200
    code, error_id, text = _result(answer)
    assert (code, error_id) == ("ERROR", "VALIDATION_ERROR")
    assert text == TOO_LARGE.sv.format(limit=2 * 1024 * 1024)


def test_requests_gets_the_refusal_and_its_connection_serves_the_next_request(served: int) -> None:
    """A kept-alive session: the refusal for 20 MB, then a draft on the same session answers OK."""
    with requests.Session() as session:
        session.trust_env = False
        url = f"http://127.0.0.1:{served}{PATH}"
        headers = {"Content-Type": "text/xml; charset=utf-8"}
        refused = session.post(url, data=_oversize(), headers=headers, timeout=30)
        assert refused.status_code == 200 and _result(refused.content)[:2] == ("ERROR", "VALIDATION_ERROR")
        created = session.post(url, data=create_draft_envelope(), headers=headers, timeout=30)
    assert created.status_code == 200 and _result(created.content)[0] == "OK"


def test_a_client_that_never_stops_sending_is_cut_off_within_the_bounds(served: int) -> None:
    """A declared 10 GB body sent without end: the answer comes at once, the connection ends within the
    drain's seconds, and another client is answered meanwhile."""
    with socket.create_connection(("127.0.0.1", served), timeout=10) as sock:
        sock.sendall(f"POST {PATH} HTTP/1.1\r\nHost: gw\r\nContent-Type: text/xml\r\n"
                     f"Content-Length: {10 * 1024 ** 3}\r\n\r\n".encode())
        sock.settimeout(0.5)
        started, received, ended = time.monotonic(), b"", False
        block = b"x" * 65536
        while time.monotonic() - started < DRAIN_SECONDS + 15:
            try:
                sock.sendall(block)
            except OSError:
                ended = True  # the server closed: EPIPE or a reset
                break
            try:
                received += sock.recv(65536)
            except TimeoutError:
                pass
            except OSError:
                ended = True
                break
        elapsed = time.monotonic() - started
        other = requests.get(f"http://127.0.0.1:{served}/healthz", timeout=5)
    assert ended and elapsed < DRAIN_SECONDS + 10
    assert b"200 OK" in received.split(b"\r\n", 1)[0]
    assert TOO_LARGE.sv.format(limit=2 * 1024 * 1024).encode() in received
    assert other.status_code == 200
