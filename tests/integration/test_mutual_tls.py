"""Who may call us, over real TLS on loopback: zeep with client certificates, and a trusted proxy.

The gateway runs with the TLS context ``serve`` builds and the peer-certificate hand-over ``serve``
installs; the access rights live in a routing catalogue built with ``routing.catalogue``. Refusals
must be the platform's faults (VP002, VP007, VP011, HTTP 500), except that StoreLog, whose answer can
say ACCESSDENIED (``access_denied``), answers a missing access right itself with HTTP 200.
"""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from lxml import etree
from zeep.exceptions import Fault

from cli.serve import load_demo_directory
from cli.settings import Settings
from cli.tls import server_context
from cli.wiring import gateway_deps
from contracts.ns import CORE, CREATE_DRAFT_V3, STORE_LOG_V2
from gateway import make_app
from routing.catalogue import AccessRight, Catalogue
from routing.errors import CatalogueUnavailable
from routing.provider import CatalogueProvider, StaticProvider
from tests.envelopes import DEFAULT_LOGICAL_ADDRESS, create_draft_envelope, zeep_draft
from tests.integration.gateway_server import plain_session, serving, zeep_client
from tests.integration.tls_server import serving_tls
from tests.pki import ALLOWED, REFUSED, Pki, build_pki
from tests.store_log_envelopes import LOGICAL_ADDRESS as STORE_LOG_ADDRESS
from tests.store_log_envelopes import store_log_envelope

RIVTA_PATH = "/clinicalprocess/healthcond/certificate/CreateDraftCertificate/3/rivtabp21"
STORE_LOG_PATH = "/informationsecurity/auditing/log/StoreLog/2/rivtabp21"
PRODUCER = DEFAULT_LOGICAL_ADDRESS
SOAP_FAULT = "{http://schemas.xmlsoap.org/soap/envelope/}Fault"
DRAFT = zeep_draft()

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("db_backend", ["sqlite"])]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return build_pki(tmp_path_factory.mktemp("pki"), datetime.now(UTC))


def _settings(db_url: str, pki: Pki | None, **overrides: Any) -> Settings:
    tls = {"tls_cert": pki.server.cert, "tls_key": pki.server.key, "tls_client_ca": pki.trusted_roots} if pki else {}
    return Settings(database_url=db_url, producer_addresses=(PRODUCER,), **tls, **overrides)  # type: ignore[arg-type]


@contextmanager
def _running(settings: Settings, tls: bool = True, catalogue: CatalogueProvider | None = None) -> Iterator[str]:
    """The gateway on loopback, over TLS when ``tls``; by default its catalogue grants ALLOWED the
    contract at PRODUCER."""
    load_demo_directory(settings.database_url)
    granted = StaticProvider(Catalogue(rights=[AccessRight(ALLOWED, CREATE_DRAFT_V3, PRODUCER)]))
    deps = gateway_deps(settings, catalogue=catalogue or granted)
    app = make_app(deps)
    server = serving_tls(app, server_context(settings)) if tls else serving(app)
    try:
        with server as url:
            yield url
    finally:
        deps.close()


def _session(pki: Pki, client: str | None) -> requests.Session:
    session = plain_session()
    session.verify = pki.trusted_roots[0]
    if client is not None:
        session.cert = (pki.clients[client].cert, pki.clients[client].key)
    return session


def _zeep(url: str, session: requests.Session) -> Any:
    return zeep_client(f"{url}{RIVTA_PATH}?wsdl", session).service


def _post(
    url: str, session: requests.Session, headers: dict[str, str] | None = None, **envelope: Any
) -> tuple[int, etree._Element]:
    response = session.post(url + RIVTA_PATH, data=create_draft_envelope(**envelope), timeout=10,
                            headers={"Content-Type": "text/xml; charset=utf-8", **(headers or {})})
    return response.status_code, etree.fromstring(response.content)


def _fault(root: etree._Element) -> tuple[str, str, str]:
    fault = root.find(f".//{SOAP_FAULT}")
    assert fault is not None, etree.tostring(root)
    return (fault.findtext("faultcode") or "", fault.findtext("faultstring") or "",
            fault.findtext("detail/detailString") or "")


def test_allowed_client_certificate_gets_the_contract_answer(db_url: str, pki: Pki) -> None:
    """zeep with a client certificate whose serialNumber holds an access right creates a draft."""
    with _running(_settings(db_url, pki)) as url, _session(pki, "allowed") as session:
        response = _zeep(url, session).CreateDraftCertificate(_soapheaders={"LogicalAddress": PRODUCER}, intyg=DRAFT)
    assert response.result.resultCode == "OK"
    assert response["intygs-id"].extension


def test_consumer_without_access_right_gets_vp007_with_the_chain_tried(db_url: str, pki: Pki) -> None:
    """A certificate from the second trusted root passes TLS, but its consumer has no right: VP007."""
    with _running(_settings(db_url, pki)) as url, _session(pki, "refused") as session, pytest.raises(Fault) as refused:
        _zeep(url, session).CreateDraftCertificate(_soapheaders={"LogicalAddress": PRODUCER}, intyg=DRAFT)
    assert refused.value.message.startswith("VP007 [Intygsgateway] ")
    assert refused.value.code.endswith("Server")
    detail = refused.value.detail.findtext("detailString")
    assert f"consumer={REFUSED}" in detail and f"tried={PRODUCER},(parent),SE,(default),*" in detail


def test_store_log_answers_a_missing_access_right_with_accessdenied(db_url: str, pki: Pki) -> None:
    """StoreLog's ResultType can say ACCESSDENIED, so VP007 becomes its own answer with HTTP 200."""
    with _running(_settings(db_url, pki)) as url, _session(pki, "refused") as session:
        response = session.post(url + STORE_LOG_PATH, data=store_log_envelope(), timeout=10,
                                headers={"Content-Type": "text/xml; charset=utf-8"})
    assert response.status_code == 200
    root = etree.fromstring(response.content)
    assert root.find(f".//{{{STORE_LOG_V2}}}result") is not None
    assert root.xpath("string(//*[local-name()='resultCode'])") == "ACCESSDENIED"
    text = root.xpath("string(//*[local-name()='resultText'])")
    assert isinstance(text, str)
    assert text.startswith("VP007 ") and f"consumer={REFUSED}" in text and f"logicalAddress={STORE_LOG_ADDRESS}" in text


@pytest.mark.parametrize("client", [None, "anonymous"], ids=["no certificate", "no serialNumber"])
def test_no_consumer_identity_gets_vp002(db_url: str, pki: Pki, client: str | None) -> None:
    """No client certificate, or one without a subject serialNumber, completes TLS and gets VP002."""
    with _running(_settings(db_url, pki)) as url, _session(pki, client) as session, pytest.raises(Fault) as refused:
        _zeep(url, session).CreateDraftCertificate(_soapheaders={"LogicalAddress": PRODUCER}, intyg=DRAFT)
    assert refused.value.message.startswith("VP002 ")
    assert refused.value.code.endswith("Client")


def test_proxy_header_from_an_untrusted_address_gets_vp011(db_url: str, pki: Pki) -> None:
    """A caller that is not a configured proxy may not name a consumer in the proxy header."""
    settings = _settings(db_url, pki, trusted_proxies=("10.20.0.0/16",))
    forwarded = urllib.parse.quote(pki.clients["allowed"].pem)
    with _running(settings) as url, _session(pki, "refused") as session:
        status, root = _post(url, session, headers={"x-vp-auth-cert": forwarded})
    code, text, detail = _fault(root)
    assert status == 500 and text.startswith("VP011 ") and code.endswith("Client")
    assert "127.0.0.1" in detail


@pytest.mark.parametrize("client", ["expired", "untrusted"])
def test_expired_or_foreign_client_certificate_is_refused_at_the_handshake(db_url: str, pki: Pki, client: str) -> None:
    """Certificates that are expired or from a root we do not trust never reach the gateway."""
    with (_running(_settings(db_url, pki)) as url, _session(pki, client) as session,
          pytest.raises(requests.exceptions.ConnectionError)):  # SSLError is a ConnectionError
        _post(url, session)


def test_a_request_without_logical_address_is_checked_against_our_producer_address(db_url: str, pki: Pki) -> None:
    """No LogicalAddress header: the right is looked up for the gateway's own producer address."""
    with _running(_settings(db_url, pki)) as url:
        with _session(pki, "allowed") as session:
            allowed, answer = _post(url, session, logical_address=None)
        with _session(pki, "refused") as session:
            refused, fault = _post(url, session, logical_address=None)
    assert allowed == 200 and answer.findtext(f".//{{{CORE}}}resultCode") == "OK"
    assert refused == 500 and f"logicalAddress={PRODUCER}" in _fault(fault)[2]


def _traefik_style(pem: str) -> str:
    """Traefik's X-Forwarded-Tls-Client-Cert: base64 DER without PEM lines, URL-escaped."""
    body = "".join(line for line in pem.splitlines() if "CERTIFICATE" not in line)
    assert base64.b64decode(body)
    return urllib.parse.quote(body)


def test_a_trusted_proxy_speaks_for_its_client(db_url: str, pki: Pki) -> None:
    """From a configured proxy address the forwarded certificate names the consumer; without it, VP002."""
    settings = _settings(db_url, None, trusted_proxies=("127.0.0.1/32",),
                         proxy_cert_header="X-Forwarded-Tls-Client-Cert",
                         tls_client_ca=pki.trusted_roots)
    allowed = pki.clients["allowed"].pem
    with _running(settings, tls=False) as url, requests.Session() as session:
        session.trust_env = False
        as_pem = _post(url, session, headers={"X-Forwarded-Tls-Client-Cert": urllib.parse.quote(allowed)})
        as_der = _post(url, session, headers={"X-Forwarded-Tls-Client-Cert": _traefik_style(allowed)})
        missing = _post(url, session)
        other = _post(
            url, session, headers={"X-Forwarded-Tls-Client-Cert": urllib.parse.quote(pki.clients["refused"].pem)}
        )
    assert [status for status, _ in (as_pem, as_der)] == [200, 200]
    assert [root.findtext(f".//{{{CORE}}}resultCode") for _, root in (as_pem, as_der)] == ["OK", "OK"]
    assert missing[0] == 500 and _fault(missing[1])[1].startswith("VP002 ")
    assert other[0] == 500 and _fault(other[1])[1].startswith("VP007 ")


class NeverLoaded:
    """A process whose catalogue could never be read (database gone since start)."""

    def current(self) -> Catalogue:
        raise CatalogueUnavailable("routing catalogue not loaded: database unavailable")


def test_without_a_catalogue_nobody_is_let_in_vp008(db_url: str, pki: Pki) -> None:
    """Access rights that cannot be read refuse even a known consumer, with the platform's VP008."""
    with _running(_settings(db_url, pki), catalogue=NeverLoaded()) as url, _session(pki, "allowed") as session:
        status, root = _post(url, session)
    code, text, detail = _fault(root)
    assert status == 500 and text.startswith("VP008 ") and code.endswith("Server") and "not loaded" in detail


def test_readyz_reports_access_control_and_days_left(db_url: str, pki: Pki) -> None:
    """/readyz shows access control on, and the server certificate's days left without a warning."""
    with _running(_settings(db_url, pki)) as url, _session(pki, None) as session:
        ready = session.get(url + "/readyz", timeout=10).json()
    assert ready["accessControl"]["enabled"] is True
    assert ready["accessControl"]["producerAddresses"] == [PRODUCER]
    assert ready["certificates"]["server"]["file"] == pki.server.cert
    assert 88 <= ready["certificates"]["server"]["daysLeft"] <= 90
    assert ready["certificates"]["server"]["warning"] is False


def test_without_tls_or_proxies_access_control_is_off_and_says_so(db_url: str) -> None:
    """The development default: plain HTTP, no identity, every caller admitted, loudly on /readyz."""
    with _running(_settings(db_url, None), tls=False) as url, requests.Session() as session:
        session.trust_env = False
        status, root = _post(url, session)
        ready = session.get(url + "/readyz", timeout=10).json()
    assert status == 200 and root.findtext(f".//{{{CORE}}}resultCode") == "OK"
    assert ready["accessControl"]["enabled"] is False
    assert "ACCESS CONTROL IS OFF" in ready["accessControl"]["warning"]

