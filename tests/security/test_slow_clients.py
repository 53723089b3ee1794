"""Slow and idle clients cannot deny service: 200 of them against a one-worker gateway, with and without TLS.

The review stalled a one-worker gunicorn ``gthread`` gateway with two clients sending a header line
every two seconds. Here a real ``intygsgateway serve`` (one worker process, four threads) gets 200
connections at once: some trickle a request head, some a body, some never send a byte (or, with
TLS, never finish the handshake). Meanwhile ``/healthz`` and a CreateDraftCertificate must answer
within 2 s, and each slow connection is closed at its deadline. Bounded: about 15 s per server.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from cli.http_worker import ConnectionLimits
from tests.envelopes import create_draft_envelope
from tests.integration.gateway_server import plain_session
from tests.integration.processes import stop
from tests.integration.tls_server import serving_loop
from tests.pki import Pki, build_pki

BIN = Path(sys.executable).parent / "intygsgateway"
RIVTA_PATH = "/clinicalprocess/healthcond/certificate/CreateDraftCertificate/3/rivtabp21"
SLOW = 200
HEAD_DEADLINE_S = 3
ANSWER_WITHIN_S = 2.0

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Served:
    url: str
    port: int
    verify: str | bool
    tls: bool


@contextlib.contextmanager
def _serve(folder: Path, pki: Pki | None) -> Iterator[Served]:
    port, log = _free_port(), folder / "serve.log"
    command = [str(BIN), "serve", "--demo", "--no-worker", "--db", f"sqlite:///{folder / 'gw.db'}", "--port", str(port),
               "--workers", "1", "--threads", "4"]  # fmt: skip
    if pki is not None:
        command += ["--tls-cert", pki.server.cert, "--tls-key", pki.server.key]  # access control is tested elsewhere
    env = {**os.environ, "INTYGSGATEWAY_HTTP_HEADER_TIMEOUT_SECONDS": str(HEAD_DEADLINE_S),
           "INTYGSGATEWAY_HTTP_BODY_TIMEOUT_SECONDS": str(HEAD_DEADLINE_S),
           "INTYGSGATEWAY_TLS_HANDSHAKE_TIMEOUT_SECONDS": str(HEAD_DEADLINE_S),
           "INTYGSGATEWAY_PDL_CHECKPOINT_FILE": str(folder / "checkpoints.jsonl")}  # fmt: skip
    with log.open("wb") as output:
        server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env, cwd=folder)
    scheme = "https" if pki is not None else "http"
    served = Served(f"{scheme}://127.0.0.1:{port}", port, pki.trusted_roots[0] if pki else False, pki is not None)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(served.url + "/healthz", verify=served.verify, timeout=2)
                break
            except requests.exceptions.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError(f"serve did not come up: {log.read_text()}") from None
                time.sleep(0.2)
        yield served
    finally:
        stop(server)


class SlowClients:
    """``count`` connections that trickle a head, trickle a body, or stay silent, until stopped."""

    def __init__(self, port: int, count: int) -> None:
        self.socks: list[tuple[str, socket.socket]] = []
        for i in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            kind = ("head", "body", "silent")[i % 3]
            if kind == "head":
                sock.sendall(b"POST " + RIVTA_PATH.encode() + b" HTTP/1.1\r\n")
            elif kind == "body":
                sock.sendall(b"POST " + RIVTA_PATH.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n<")
            self.socks.append((kind, sock))
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._trickle, daemon=True)
        self.thread.start()

    def _trickle(self) -> None:
        n = 0
        while not self.stopping.wait(0.5):
            n += 1
            for kind, sock in self.socks:
                with contextlib.suppress(OSError):
                    if kind == "head":
                        sock.sendall(f"X-Slow-{n}: a\r\n".encode())
                    elif kind == "body":
                        sock.sendall(b"a")

    def closed_by_server(self) -> int:
        """How many of the connections the server has closed (EOF or a 408, possibly after a reset)."""
        closed = 0
        for _kind, sock in self.socks:
            sock.settimeout(0.05)
            try:
                data = sock.recv(4096)
                closed += data == b"" or data.startswith(b"HTTP/1.1 408")
            except (TimeoutError, BlockingIOError):
                pass
            except OSError:
                closed += 1
        return closed

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(5)
        for _kind, sock in self.socks:
            sock.close()


def _answers_in_time(served: Served) -> None:
    session = plain_session()
    started = time.monotonic()
    health = session.get(served.url + "/healthz", verify=served.verify, timeout=ANSWER_WITHIN_S)
    assert health.status_code == 200 and time.monotonic() - started < ANSWER_WITHIN_S
    started = time.monotonic()
    draft = session.post(served.url + RIVTA_PATH, data=create_draft_envelope(), verify=served.verify,
                         timeout=ANSWER_WITHIN_S, headers={"Content-Type": "text/xml; charset=utf-8"})  # fmt: skip
    assert draft.status_code == 200 and ">OK<" in draft.text
    assert time.monotonic() - started < ANSWER_WITHIN_S


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
def test_200_slow_connections_do_not_starve_the_gateway(tmp_path: Path, tls: bool) -> None:
    pki = build_pki(tmp_path, datetime.now(UTC)) if tls else None
    with _serve(tmp_path, pki) as served:
        slow = SlowClients(served.port, SLOW)
        try:
            time.sleep(1.0)  # every slow connection is open and has started
            _answers_in_time(served)
            _answers_in_time(served)
            time.sleep(HEAD_DEADLINE_S + 2.5)  # past every deadline (head, body, handshake)
            _answers_in_time(served)
            assert slow.closed_by_server() >= SLOW * 0.95
        finally:
            slow.close()


def _ok_app(environ: dict[str, object], start_response: object) -> list[bytes]:
    start_response("200 OK", [("Content-Length", "2")])  # type: ignore[operator]
    return [b"ok"]


def test_idle_keepalive_connections_give_way_when_the_slots_are_needed() -> None:
    """At the connection limit, the longest-idle kept-alive connection is closed for a new caller."""
    limits = ConnectionLimits(max_connections=10, keepalive_seconds=60, threads=2)
    with serving_loop(_ok_app, limits=limits) as url:
        port = int(url.rsplit(":", 1)[1])
        kept = []
        for _ in range(10):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(1024).startswith(b"HTTP/1.1 200")
            kept.append(sock)
            time.sleep(0.01)
        started = time.monotonic()
        assert requests.get(url + "/", timeout=ANSWER_WITHIN_S).text == "ok"
        assert time.monotonic() - started < ANSWER_WITHIN_S
        kept[0].settimeout(2)
        assert kept[0].recv(1024) == b""  # the oldest idle one made room
        for sock in kept:
            sock.close()


def test_a_body_that_never_ends_is_cut_at_its_deadline() -> None:
    limits = ConnectionLimits(body_seconds=1, header_seconds=1)
    with serving_loop(_ok_app, limits=limits) as url:
        sock = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=5)
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
        started = time.monotonic()
        assert sock.recv(1024) == b""
        assert 0.8 < time.monotonic() - started < 3
        sock.close()


def test_a_tls_handshake_that_never_ends_is_cut_at_its_deadline(tmp_path: Path) -> None:
    pki = build_pki(tmp_path, datetime.now(UTC))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki.server.cert, pki.server.key)
    with serving_loop(_ok_app, context, ConnectionLimits(tls_handshake_seconds=1)) as url:
        sock = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=5)
        sock.sendall(b"\x16\x03\x01")  # the first bytes of a ClientHello, and no more
        started = time.monotonic()
        assert sock.recv(1024) == b""
        assert time.monotonic() - started < 3
        sock.close()
