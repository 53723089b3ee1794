"""`serve` with mutual TLS under real gunicorn, and `tls check` against it.

This is the production path end to end: gunicorn's TLS with our context (two trust roots), the peer
certificate handed to the gateway through ``gunicorn.socket``, the start-up log lines, and the
operator's handshake report.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from cli import main
from tests.envelopes import create_draft_envelope
from tests.integration.processes import stop, wait_until_up
from tests.pki import ALLOWED, REFUSED, Pki, build_pki

BIN = Path(sys.executable).parent / "intygsgateway"
RIVTA_PATH = "/clinicalprocess/healthcond/certificate/CreateDraftCertificate/3/rivtabp21"
START_TIMEOUT_S = 60

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Pki, Path]]:
    """A real `serve` with TLS and two client CAs on loopback; yields its URL, the PKI and its log file."""
    folder = tmp_path_factory.mktemp("serve-tls")
    pki = build_pki(folder, datetime.now(UTC))
    port, log = _free_port(), folder / "serve.log"
    command = [str(BIN), "serve", "--db", f"sqlite:///{folder / 'gw.db'}", "--port", str(port), "--workers", "1",
               "--tls-cert", pki.server.cert, "--tls-key", pki.server.key,
               "--tls-client-ca", pki.trusted_roots[0], "--tls-client-ca", pki.trusted_roots[1]]
    with log.open("wb") as output:
        server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    url = f"https://127.0.0.1:{port}"
    try:
        wait_until_up(url + "/healthz", server, log, START_TIMEOUT_S, verify=pki.trusted_roots[0])
        yield url, pki, log
    finally:
        stop(server)


def _post(url: str, pki: Pki, client: str | None) -> tuple[int, str]:
    with requests.Session() as session:
        session.trust_env = False
        session.verify = pki.trusted_roots[0]
        if client:
            session.cert = (pki.clients[client].cert, pki.clients[client].key)
        response = session.post(url + RIVTA_PATH, data=create_draft_envelope(), timeout=10,
                                headers={"Content-Type": "text/xml; charset=utf-8"})
    return response.status_code, response.text


def test_gunicorn_hands_the_client_certificate_to_the_gateway(served: tuple[str, Pki, Path]) -> None:
    """The consumer named in the VP007 fault comes from the certificate gunicorn verified; none gives VP002."""
    url, pki, _ = served
    status, text = _post(url, pki, "refused")
    assert status == 500 and "VP007 [Intygsgateway]" in text and f"consumer={REFUSED}" in text
    status, text = _post(url, pki, None)
    assert status == 500 and "VP002 [Intygsgateway]" in text


def test_start_up_logs_access_control_and_days_left(served: tuple[str, Pki, Path]) -> None:
    """`serve` says access control is on and how long its server certificate lasts."""
    lines = [json.loads(line) for line in served[2].read_text().splitlines() if line.startswith("{")]
    assert any(line["event"] == "access_control_on" for line in lines)
    assert any(line["event"] == "certificate_valid" and line.get("role") == "server" for line in lines)


def test_tls_check_reports_chain_request_and_consumer(
    served: tuple[str, Pki, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """`tls check` with a client certificate: chain, asked for, sent, protocol, and the HSA-id read."""
    url, pki, _ = served
    allowed = pki.clients["allowed"]
    assert main(["tls", "check", url, "--ca", pki.trusted_roots[0], "--cert", allowed.cert, "--key", allowed.key]) == 0
    out = capsys.readouterr().out
    assert "protocol: TLSv1." in out and "cipher: " in out
    assert "0: CN=localhost" in out and "1: CN=test root 1" in out
    assert "client certificate requested: yes" in out and "client certificate sent: yes" in out
    assert f"consumer HSA-id (subject serialNumber): {ALLOWED}" in out
    assert "GET /healthz: 200 OK" in out


def test_tls_check_without_certificate_and_with_a_foreign_one(
    served: tuple[str, Pki, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a certificate: asked, not sent, probes still answer. A foreign one: the handshake fails, exit 1."""
    url, pki, _ = served
    assert main(["tls", "check", url, "--ca", pki.trusted_roots[0]]) == 0
    out = capsys.readouterr().out
    assert "client certificate requested: yes" in out and "client certificate sent: no" in out
    assert "GET /healthz: 200 OK" in out
    stranger = pki.clients["untrusted"]
    assert (
        main(["tls", "check", url, "--ca", pki.trusted_roots[0], "--cert", stranger.cert, "--key", stranger.key]) == 1
    )
    assert "handshake failed" in capsys.readouterr().out
