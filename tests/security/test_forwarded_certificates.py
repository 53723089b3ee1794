"""Forwarded and presented client certificates: an appended header, a foreign or expired certificate, a revoked one.

The gateway runs behind the production front (``cli.http_worker.LoopServer``), so repeated headers
arrive as a real server delivers them. The proxy is the test itself on 127.0.0.1 (a trusted proxy
that *appends* the client's certificate header instead of replacing it), and the routing catalogue
grants CreateDraftCertificate to ``ALLOWED`` only.
"""

from __future__ import annotations

import socket
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from cli.serve import load_demo_directory
from cli.settings import Settings
from cli.tls import server_context
from cli.wiring import gateway_deps
from contracts.ns import CREATE_DRAFT_V3
from gateway import make_app
from routing.catalogue import AccessRight, Catalogue
from routing.provider import StaticProvider
from store.migrate import upgrade
from tests.envelopes import create_draft_envelope
from tests.integration.gateway_server import plain_session
from tests.integration.tls_server import serving_loop
from tests.pki import ALLOWED, Pki, build_pki

PATH = "/clinicalprocess/healthcond/certificate/CreateDraftCertificate/3/rivtabp21"
HEADER = "X-Forwarded-Tls-Client-Cert"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return build_pki(tmp_path_factory.mktemp("pki"), datetime.now(UTC))


def _crl(pki: Pki, path: Path, *revoked: str) -> None:
    """A CRL from test root 1 naming the certificates of ``revoked`` clients."""
    root = x509.load_pem_x509_certificate(Path(pki.trusted_roots[0]).read_bytes())
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(root.subject)
        .last_update(datetime.now(UTC) - timedelta(hours=1))
        .next_update(datetime.now(UTC) + timedelta(days=1))
    )
    for name in revoked:
        serial = pki.clients[name].issued.certificate.serial_number
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(datetime.now(UTC) - timedelta(minutes=5))
            .build()
        )
    key = serialization.load_pem_private_key(Path(pki.trusted_roots[0]).with_name("root1-key.pem").read_bytes(), None)
    crl = builder.sign(key, hashes.SHA256())  # type: ignore[arg-type]
    path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))


@contextmanager
def _gateway(db_url: str, settings: Settings, tls: bool = False) -> Iterator[str]:
    upgrade(db_url)
    load_demo_directory(db_url)
    granted = StaticProvider(Catalogue(rights=[AccessRight(ALLOWED, CREATE_DRAFT_V3, "*")]))
    deps = gateway_deps(replace(settings, database_url=db_url), catalogue=granted)
    try:
        with serving_loop(make_app(deps), server_context(settings) if tls else None) as url:
            yield url
    finally:
        deps.close()


def _raw_post(url: str, headers: list[tuple[str, str]]) -> tuple[int, str]:
    """POST with headers exactly as given, repeated ones included (requests would merge them)."""
    body = create_draft_envelope()
    port = int(url.rsplit(":", 1)[1])
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
    )
    head += "".join(f"{name}: {value}\r\n" for name, value in headers) + "Connection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode() + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data.decode("utf-8", "replace")


def _proxy_settings(pki: Pki, **more: Any) -> Settings:
    return Settings(
        trusted_proxies=("127.0.0.1/32",), proxy_cert_header=HEADER, tls_client_ca=pki.trusted_roots, **more
    )


def test_an_appended_second_certificate_header_is_refused(db_url: str, pki: Pki) -> None:
    """The client sends its own header naming ALLOWED; the proxy appends the real (refused) one after it."""
    forged = urllib.parse.quote(pki.clients["allowed"].pem)
    real = urllib.parse.quote(pki.clients["refused"].pem)
    with _gateway(db_url, _proxy_settings(pki)) as url:
        assert _raw_post(url, [(HEADER, forged)])[0] == 200  # one header: believed
        status, text = _raw_post(url, [(HEADER, forged), (HEADER, real)])
    assert status == 500 and "VP002" in text and "more than one" in text


def test_a_forwarded_certificate_from_a_foreign_ca_or_expired_is_refused(db_url: str, pki: Pki) -> None:
    with _gateway(db_url, _proxy_settings(pki)) as url:
        for client, reason in (("untrusted", "not issued by a trusted CA"), ("expired", "outside its validity")):
            status, text = _raw_post(url, [(HEADER, urllib.parse.quote(pki.clients[client].pem))])
            assert status == 500 and "VP002" in text and reason in text, client


def test_a_revoked_certificate_is_refused_forwarded_and_presented_and_the_list_reloads(
    db_url: str, pki: Pki, tmp_path: Path
) -> None:
    crl = tmp_path / "revoked.crl"
    _crl(pki, crl)
    settings = _proxy_settings(pki, tls_crl_file=(str(crl),))
    allowed = urllib.parse.quote(pki.clients["allowed"].pem)
    with _gateway(db_url, settings) as url:
        assert _raw_post(url, [(HEADER, allowed)])[0] == 200
        time.sleep(0.01)
        _crl(pki, crl, "allowed")  # the CA revokes it; the file is replaced
        time.sleep(1.1)  # the list is looked at again at most once a second
        status, text = _raw_post(url, [(HEADER, allowed)])
    assert status == 500 and "VP002" in text and "revoked" in text

    tls = Settings(tls_cert=pki.server.cert, tls_key=pki.server.key, tls_client_ca=pki.trusted_roots,
                   tls_crl_file=(str(crl),))  # fmt: skip
    with _gateway(db_url, tls, tls=True) as url:
        session = plain_session()
        session.verify = pki.trusted_roots[0]
        session.cert = (pki.clients["allowed"].cert, pki.clients["allowed"].key)
        response = session.post(url + PATH, data=create_draft_envelope(), timeout=10,
                                headers={"Content-Type": "text/xml; charset=utf-8"})  # fmt: skip
    assert response.status_code == 500 and "revoked" in response.text
