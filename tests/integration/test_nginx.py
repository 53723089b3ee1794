"""The nginx configuration we ship, run by Debian's nginx on loopback in front of the gateway.

``deploy/nginx/intygsgateway.conf`` is used as it is, with only its listen port, its certificate
paths and its upstream port swapped for the test's (each swap must hit exactly once, so the file
under test is the file that ships). nginx terminates mutual TLS and forwards the client
certificate; zeep with a client certificate creates a draft through it. Then the attacks: a client
that writes the certificate header itself (with or without a certificate of its own, in another
case, with underscores), a local process that talks to the gateway directly with the header, and
the operations API and console asked for through nginx. ``.ci/run`` installs nginx when missing;
without it the test is skipped with the reason.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree
from zeep.exceptions import Fault

from cli.serve import load_demo_directory
from cli.settings import Settings
from cli.wiring import gateway_deps
from contracts.ns import CREATE_DRAFT_V3
from gateway import make_app
from routing.catalogue import AccessRight, Catalogue
from routing.provider import StaticProvider
from tests.envelopes import DEFAULT_LOGICAL_ADDRESS, create_draft_envelope, zeep_draft
from tests.integration.gateway_server import plain_session, serving, zeep_client
from tests.integration.processes import stop
from tests.pki import ALLOWED, Pki, build_pki

NGINX = Path("/usr/sbin/nginx")
SHIPPED = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "intygsgateway.conf"
RIVTA_PATH = "/clinicalprocess/healthcond/certificate/CreateDraftCertificate/3/rivtabp21"
SOAP_FAULT = "{http://schemas.xmlsoap.org/soap/envelope/}Fault"
DRAFT = zeep_draft()

pytestmark = [
    pytest.mark.integration,
    pytest.mark.parametrize("db_backend", ["sqlite"]),
    pytest.mark.skipif(not NGINX.exists(), reason="Debian's nginx is not installed (.ci/run installs it)"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _swap(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"the shipped configuration no longer has exactly one {old!r}"
    return text.replace(old, new)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return build_pki(tmp_path_factory.mktemp("pki"), datetime.now(UTC))


@pytest.fixture
def gateway(db_url: str, pki: Pki, tmp_path: Path) -> Iterator[tuple[str, int]]:
    """The gateway as deploy/nginx/intygsgateway.conf expects it: plain HTTP on loopback, nginx trusted."""
    bundle = tmp_path / "client-ca.pem"
    bundle.write_text("".join(Path(root).read_text() for root in pki.trusted_roots))
    settings = Settings(database_url=db_url, producer_addresses=(DEFAULT_LOGICAL_ADDRESS,),
                        trusted_proxies=("127.0.0.2",), tls_client_ca=(str(bundle),), internal_api_token="ops")
    load_demo_directory(db_url)
    catalogue = StaticProvider(Catalogue(rights=[AccessRight(ALLOWED, CREATE_DRAFT_V3, DEFAULT_LOGICAL_ADDRESS)]))
    deps = gateway_deps(settings, catalogue=catalogue)
    try:
        with serving(make_app(deps)) as url:
            yield url, int(urllib.parse.urlsplit(url).port or 0)
    finally:
        deps.close()


@pytest.fixture
def nginx(gateway: tuple[str, int], pki: Pki, tmp_path: Path) -> Iterator[str]:
    """Debian's nginx with the shipped server block, in the foreground, on a loopback port."""
    port = _free_port()
    prefix = tmp_path / "nginx"
    for folder in ("logs", "client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / folder).mkdir(parents=True)
    shutil.copy(tmp_path / "client-ca.pem", prefix / "client-ca.pem")
    server_block = SHIPPED.read_text(encoding="utf-8")
    server_block = _swap(server_block, "listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;")
    server_block = _swap(server_block, "server 127.0.0.1:8080;", f"server 127.0.0.1:{gateway[1]};")
    server_block = _swap(server_block, "/etc/intygsgateway/tls/server.pem;", f"{pki.server.cert};")
    server_block = _swap(server_block, "/etc/intygsgateway/tls/server-key.pem;", f"{pki.server.key};")
    server_block = _swap(server_block, "/etc/intygsgateway/tls/client-ca.pem;", f"{prefix / 'client-ca.pem'};")
    (prefix / "intygsgateway.conf").write_text(server_block, encoding="utf-8")
    (prefix / "nginx.conf").write_text(f"""
daemon off;
user root;
worker_processes 1;
pid {prefix / 'nginx.pid'};
error_log {prefix / 'logs' / 'error.log'} info;
events {{ worker_connections 64; }}
http {{
    access_log {prefix / 'logs' / 'access.log'};
    client_body_temp_path {prefix / 'client_body'};
    proxy_temp_path {prefix / 'proxy'};
    fastcgi_temp_path {prefix / 'fastcgi'};
    uwsgi_temp_path {prefix / 'uwsgi'};
    scgi_temp_path {prefix / 'scgi'};
    include {prefix / 'intygsgateway.conf'};
}}
""", encoding="utf-8")
    check = subprocess.run([str(NGINX), "-t", "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                           capture_output=True, text=True, timeout=30, check=False)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen([str(NGINX), "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                errors = (prefix / "logs" / "error.log").read_text()
                assert process.poll() is None and time.monotonic() < deadline, errors
                time.sleep(0.1)
        yield f"https://127.0.0.1:{port}"
    finally:
        stop(process)


def _session(pki: Pki, client: str | None) -> requests.Session:
    session = plain_session()
    session.verify = pki.trusted_roots[0]
    if client is not None:
        session.cert = (pki.clients[client].cert, pki.clients[client].key)
    return session


def _post(url: str, session: requests.Session, headers: dict[str, str]) -> tuple[int, Any]:
    answer = session.post(url + RIVTA_PATH, data=create_draft_envelope(),
                          headers={"Content-Type": "text/xml; charset=utf-8", **headers})
    return answer.status_code, etree.fromstring(answer.content)


def _fault_code(root: Any) -> str:
    fault = root.find(f".//{SOAP_FAULT}")
    assert fault is not None, etree.tostring(root)
    return str(fault.findtext("faultstring") or "") + str(etree.tostring(fault))


def test_zeep_through_nginx_creates_a_draft(nginx: str, pki: Pki) -> None:
    """The consumer's certificate, verified by nginx and forwarded, is the caller: the draft is created."""
    with _session(pki, "allowed") as session:
        service = zeep_client(f"{nginx}{RIVTA_PATH}?wsdl", session).service
        response = service.CreateDraftCertificate(_soapheaders={"LogicalAddress": DEFAULT_LOGICAL_ADDRESS}, intyg=DRAFT)
    assert response.result.resultCode == "OK"
    assert response["intygs-id"]["extension"]


def test_a_header_spoofed_by_the_client_is_never_believed(nginx: str, pki: Pki) -> None:
    """Without a certificate, a written x-vp-auth-cert (any case, or with underscores) gets VP002 from the gateway:
    nginx drops it; with a certificate of its own, the header it wrote is replaced by the real one."""
    forged = urllib.parse.quote(Path(pki.clients["allowed"].cert).read_text())  # the allowed consumer's, stolen
    with _session(pki, None) as session:
        for name in ("x-vp-auth-cert", "X-VP-Auth-Cert", "x_vp_auth_cert"):
            status, root = _post(nginx, session, {name: forged})
            assert status == 500 and "VP002" in _fault_code(root), name
        with pytest.raises(Fault) as refused:
            zeep_client(f"{nginx}{RIVTA_PATH}?wsdl", session).service.CreateDraftCertificate(
                _soapheaders={"LogicalAddress": DEFAULT_LOGICAL_ADDRESS}, intyg=DRAFT)
        assert "VP002" in str(refused.value.message) + str(refused.value.code)
    with _session(pki, "refused") as session:  # a real certificate of a consumer without the right
        status, root = _post(nginx, session, {"x-vp-auth-cert": forged})
        assert status == 500 and "VP007" in _fault_code(root)


def test_only_nginx_is_a_trusted_proxy(gateway: tuple[str, int], pki: Pki) -> None:
    """A local process that talks to the gateway directly (from 127.0.0.1, not nginx's 127.0.0.2) with the
    header gets VP011."""
    forged = urllib.parse.quote(Path(pki.clients["allowed"].cert).read_text())
    with plain_session() as session:
        status, root = _post(gateway[0], session, {"x-vp-auth-cert": forged})
        wsdl = session.get(f"{gateway[0]}{RIVTA_PATH}?wsdl", headers={"X-Forwarded-Proto": "https"}).text
    assert status == 500 and "VP011" in _fault_code(root)
    assert f'location="{gateway[0]}{RIVTA_PATH}"' in wsdl  # its X-Forwarded-Proto is not believed either


def test_the_operations_api_console_and_metrics_are_not_public(nginx: str, pki: Pki) -> None:
    """Through nginx, whose connections come from loopback, the operator paths answer 404 (never reach the gateway)."""
    with _session(pki, "allowed") as session:
        for path in ("/internal/api/v1/openapi.json", "/console/login", "/metrics"):
            answer = session.get(nginx + path, headers={"Authorization": "Bearer ops"})
            assert answer.status_code == 404 and b"openapi" not in answer.content, path
        assert session.get(nginx + "/healthz").status_code == 200
        assert b"soap:address" in session.get(f"{nginx}{RIVTA_PATH}?wsdl").content


def test_the_wsdl_through_nginx_names_the_https_address(nginx: str, pki: Pki) -> None:
    """soap:address is the URL the client used (https, nginx's host and port), so zeep posts back through nginx."""
    with _session(pki, "allowed") as session:
        wsdl = session.get(f"{nginx}{RIVTA_PATH}?wsdl").text
    assert f'location="{nginx}{RIVTA_PATH}"' in wsdl
