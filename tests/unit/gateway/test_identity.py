"""The consumer's HSA-id: from the TLS peer certificate or a trusted proxy's header, refused with VP codes."""

from __future__ import annotations

import base64
import urllib.parse
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from cli.dev_pki import Issued, issue, make_ca
from gateway.identity import (
    PEER_CERT_KEY,
    BadCertificate,
    CallerPolicy,
    CertificateTrust,
    NoConsumerIdentity,
    UntrustedCaller,
    certificate_from_header,
    identify,
    parse_networks,
    serial_number,
)

NOW = datetime(2026, 11, 21, tzinfo=UTC)
HSA = "SE2321000016-JOURNAL1"
PROXY = CallerPolicy(parse_networks(["10.0.0.0/24", "::1"]), "X-Forwarded-Tls-Client-Cert")
HEADER = "HTTP_X_FORWARDED_TLS_CLIENT_CERT"


def trusting(ca: Issued) -> CallerPolicy:
    """The proxy policy with ``ca`` as the trusted CA, at the tests' time."""
    return replace(PROXY, trust=CertificateTrust([ca.certificate]), clock=lambda: NOW)


@pytest.fixture(scope="module")
def ca() -> Issued:
    return make_ca("unit root", NOW - timedelta(days=1), NOW + timedelta(days=30))


def _client(ca: Issued, serial: str | None = HSA) -> Issued:
    return issue(ca, "client", NOW - timedelta(days=1), NOW + timedelta(days=30), serial_number=serial)


def _pem(issued: Issued) -> str:
    return issued.cert_pem.decode()


def test_serial_number_is_the_subject_attribute_trimmed(ca: Issued) -> None:
    """The HSA-id is the subject serialNumber (2.5.4.5), not the certificate's own serial."""
    assert serial_number(_client(ca, f"  {HSA} ").certificate) == HSA
    assert serial_number(_client(ca, None).certificate) is None


def test_two_serial_numbers_are_no_identity(ca: Issued) -> None:
    """A subject with two serialNumber attributes names nobody for sure."""
    key = _client(ca).key
    subject = x509.Name([x509.NameAttribute(NameOID.SERIAL_NUMBER, HSA),
                         x509.NameAttribute(NameOID.SERIAL_NUMBER, "SE2321000016-OTHER")])
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca.certificate.subject)
                   .public_key(key.public_key()).serial_number(1)
                   .not_valid_before(NOW).not_valid_after(NOW + timedelta(days=1))
                   .sign(ca.key, hashes.SHA256()))
    assert serial_number(certificate) is None


@pytest.mark.parametrize(
    "encode",
    [
        lambda pem: pem,
        lambda pem: urllib.parse.quote(pem),  # nginx $ssl_client_escaped_cert
        lambda pem: pem.replace("\n", " "),  # newlines folded by a header-rewriting proxy
        lambda pem: urllib.parse.quote(  # Traefik
            "".join(line for line in pem.splitlines() if "CERTIFICATE" not in line)
        ),
    ],
    ids=["pem", "url-encoded pem", "folded pem", "traefik base64 der"],
)
def test_forwarded_certificate_formats_are_read(ca: Issued, encode: object) -> None:
    """Every way proxies forward a client certificate gives the same certificate."""
    client = _client(ca)
    assert certificate_from_header(encode(_pem(client))) == client.certificate  # type: ignore[operator]


def test_a_forwarded_chain_is_refused_exactly_one_certificate_counts(ca: Issued) -> None:
    """Traefik joins a chain with commas; two PEM blocks likewise: a client could put its own first."""
    client = _client(ca)
    chain = ",".join(
        base64.b64encode(c.public_bytes(Encoding.DER)).decode() for c in (client.certificate, ca.certificate)
    )
    with pytest.raises(BadCertificate):
        certificate_from_header(urllib.parse.quote(chain))
    with pytest.raises(BadCertificate):
        certificate_from_header(_pem(client) + _pem(client))
    single = base64.b64encode(client.certificate.public_bytes(Encoding.DER)).decode()
    assert certificate_from_header(urllib.parse.quote(single)) == client.certificate


@pytest.mark.parametrize("value", ["not a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"])
def test_unreadable_forwarded_certificate_is_a_bad_certificate(value: str) -> None:
    """Garbage and truncated PEM are refused with a reason, never half-read."""
    with pytest.raises(BadCertificate) as bad:
        certificate_from_header(value)
    assert bad.value.reason


def test_mutual_tls_peer_certificate_names_the_consumer(ca: Issued) -> None:
    """Over TLS terminated here, the peer certificate's serialNumber is the consumer."""
    der = _client(ca).certificate.public_bytes(Encoding.DER)
    caller = identify({"REMOTE_ADDR": "192.0.2.7", PEER_CERT_KEY: der}, CallerPolicy())
    assert (caller.consumer, caller.via, caller.remote_addr) == (HSA, "mtls", "192.0.2.7")


@pytest.mark.parametrize("environ", [{PEER_CERT_KEY: None}, {}], ids=["tls without certificate", "plain http"])
def test_no_certificate_over_tls_is_vp002_plain_http_is_vp011(environ: dict[str, object]) -> None:
    """TLS without a client certificate: VP002. Plain HTTP from a non-proxy: VP011."""
    expected = NoConsumerIdentity if environ else UntrustedCaller
    with pytest.raises(expected) as refused:
        identify({"REMOTE_ADDR": "192.0.2.7", **environ}, PROXY)
    assert refused.value.code == ("VP002" if environ else "VP011")
    assert refused.value.remote_addr == "192.0.2.7"


def test_certificate_without_serial_number_is_vp002(ca: Issued) -> None:
    """A verified certificate that carries no HSA-id gives no identity."""
    der = _client(ca, None).certificate.public_bytes(Encoding.DER)
    with pytest.raises(NoConsumerIdentity):
        identify({"REMOTE_ADDR": "192.0.2.7", PEER_CERT_KEY: der}, CallerPolicy())


@pytest.mark.parametrize("remote", ["10.0.0.9", "::1"])
def test_trusted_proxy_header_names_the_consumer(ca: Issued, remote: str) -> None:
    """From a configured proxy address or network (IPv4 or IPv6) the forwarded certificate counts."""
    caller = identify({"REMOTE_ADDR": remote, HEADER: urllib.parse.quote(_pem(_client(ca)))}, trusting(ca))
    assert (caller.consumer, caller.via) == (HSA, "proxy")


def test_trusted_proxy_without_or_with_a_bad_header_is_vp002() -> None:
    """The proxy must forward a readable certificate."""
    for environ in ({"REMOTE_ADDR": "10.0.0.9"}, {"REMOTE_ADDR": "10.0.0.9", HEADER: "%%%"}):
        with pytest.raises(NoConsumerIdentity):
            identify(environ, PROXY)


def test_proxy_header_from_elsewhere_is_vp011_even_over_mutual_tls(ca: Issued) -> None:
    """Only a configured proxy may speak for someone else; a valid own certificate does not change that."""
    client = _client(ca)
    environ = {"REMOTE_ADDR": "10.0.1.9", HEADER: _pem(client),
               PEER_CERT_KEY: client.certificate.public_bytes(Encoding.DER)}
    with pytest.raises(UntrustedCaller):
        identify(environ, PROXY)


def test_header_name_maps_to_its_environ_key() -> None:
    """Configured as an HTTP header name, looked up as WSGI spells it."""
    assert CallerPolicy(proxy_header=" x-vp-auth-cert ").environ_key == "HTTP_X_VP_AUTH_CERT"


def test_bad_proxy_network_is_refused() -> None:
    """A typo in trusted_proxies is an error, not a silently empty list."""
    with pytest.raises(ValueError):
        parse_networks(["10.0.0.300"])
