"""Who is calling: the consumer's HSA-id from its client certificate, read as the national platform reads it.

The platform (VP) takes the sender from the subject ``serialNumber`` attribute (OID 2.5.4.5) of the
client certificate. The certificate reaches us one of two ways:

* **mutual TLS here**: the gateway terminates TLS and the server puts the verified peer certificate
  (DER) into the WSGI environ under ``PEER_CERT_KEY`` (``cli.serve`` does this for gunicorn);
* **a trusted proxy** terminates TLS and forwards the client certificate in a header
  (``x-vp-auth-cert`` on the platform, ``X-Forwarded-Tls-Client-Cert`` from Traefik, nginx's
  ``$ssl_client_escaped_cert``). The header is believed only when the connection comes from a
  configured proxy address: anyone else could write it.

Refusals carry the platform's codes: VP011 for a caller we may not trust at all (plain HTTP from an
address that is not a proxy, or a proxy header from one), VP002 for a trusted path that yields no
HSA-id. Plain functions over the environ and the certificate; nothing here knows WSGI servers.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from cryptography import x509
from cryptography.x509.oid import NameOID

PEER_CERT_KEY = "intygsgateway.peer_cert_der"
"""Environ key: the DER bytes of the TLS peer's certificate, or None when TLS ended here without one.

Its presence (even as None) means this process terminated TLS for the request."""

RAW_HEADERS_KEY = "intygsgateway.raw_headers"
"""Environ key: the request's headers as received, ``[(name, value), ...]``, when the server provides them.

WSGI joins repeated headers into one value; this tells one header from two (``cli.http_worker`` sets it)."""

DEFAULT_PROXY_HEADER = "x-vp-auth-cert"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", re.DOTALL)


class CallerRefused(Exception):
    """The caller cannot be given a consumer identity; ``code`` is VP002 or VP011."""

    code = "VP000"

    def __init__(self, reason: str, remote_addr: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.remote_addr = remote_addr

    def describe(self) -> str:
        """One line for the fault and the log."""
        return f"{self.code} {self.reason} (caller {self.remote_addr})"


class NoConsumerIdentity(CallerRefused):
    """VP002: no client certificate, an unreadable one, or one without a subject serialNumber."""

    code = "VP002"


class UntrustedCaller(CallerRefused):
    """VP011: neither mutual TLS here nor a configured proxy; or a proxy header from elsewhere."""

    code = "VP011"


class BadCertificate(ValueError):
    """A forwarded certificate that is not a readable X.509 certificate; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Caller:
    """An identified consumer: its HSA-id, how we know it, and the address it came from."""

    consumer: str
    via: str  # "mtls" or "proxy"
    remote_addr: str


@dataclass(frozen=True, slots=True)
class CallerPolicy:
    """Where identities may come from: proxy networks and the header they forward the certificate in."""

    proxies: tuple[Network, ...] = ()
    proxy_header: str = DEFAULT_PROXY_HEADER

    @property
    def environ_key(self) -> str:
        """The WSGI environ key of ``proxy_header`` (``x-vp-auth-cert`` -> ``HTTP_X_VP_AUTH_CERT``)."""
        return "HTTP_" + self.proxy_header.strip().upper().replace("-", "_")

    def is_proxy(self, remote_addr: str) -> bool:
        """Whether ``remote_addr`` is one of the configured proxies."""
        try:
            address = ipaddress.ip_address(remote_addr)
        except ValueError:
            return False
        return any(address in network for network in self.proxies)


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """Proxy addresses or networks (``10.0.0.5``, ``10.0.0.0/24``, ``::1``); a bad one raises ValueError."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip())


def serial_number(certificate: x509.Certificate) -> str | None:
    """The subject serialNumber (the HSA-id), trimmed; None when absent, empty or given twice."""
    values = [str(a.value).strip() for a in certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)]
    if len(values) != 1 or not values[0]:
        return None
    return values[0]


def certificate_from_header(value: str) -> x509.Certificate:
    """Read a forwarded client certificate: PEM, URL-encoded PEM, or base64 DER without PEM lines.

    Proxies differ: nginx sends URL-encoded PEM, Traefik URL-encoded base64 DER without the BEGIN/END
    lines (several certificates comma-separated, the client's first), some send raw PEM with its
    newlines folded into spaces. The first certificate is the client's.
    """
    text = value.strip()
    if "%" in text:
        text = unquote(text)
    match = _PEM.search(text)
    body = match.group(1) if match else text.split(",")[0]
    try:
        der = base64.b64decode("".join(body.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadCertificate("the forwarded certificate is not PEM or base64") from exc
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise BadCertificate("the forwarded certificate is not a readable X.509 certificate") from exc


def identify(environ: Mapping[str, Any], policy: CallerPolicy) -> Caller:
    """The consumer of this request, or ``CallerRefused`` (VP002/VP011) saying why not.

    The order matters: a configured proxy speaks for its clients through the header; anyone else
    must have come over mutual TLS terminated here, and must not send the proxy header (that would
    be an attempt to speak for someone else).
    """
    remote = str(environ.get("REMOTE_ADDR", ""))
    forwarded = environ.get(policy.environ_key)
    if policy.is_proxy(remote):
        if not forwarded:
            raise NoConsumerIdentity(f"the proxy forwarded no client certificate in {policy.proxy_header}", remote)
        try:
            certificate = certificate_from_header(str(forwarded))
        except BadCertificate as exc:
            raise NoConsumerIdentity(exc.reason, remote) from exc
        return Caller(_consumer_of(certificate, remote), "proxy", remote)
    if forwarded:
        raise UntrustedCaller(f"header {policy.proxy_header} from an address that is not a trusted proxy", remote)
    if PEER_CERT_KEY not in environ:
        raise UntrustedCaller("not mutual TLS and not from a trusted proxy", remote)
    der = environ[PEER_CERT_KEY]
    if not der:
        raise NoConsumerIdentity("no client certificate was sent", remote)
    return Caller(_consumer_of(x509.load_der_x509_certificate(der), remote), "mtls", remote)


def _consumer_of(certificate: x509.Certificate, remote: str) -> str:
    consumer = serial_number(certificate)
    if consumer is None:
        raise NoConsumerIdentity(
            f"the client certificate {certificate.subject.rfc4514_string()} has no single subject serialNumber", remote
        )
    return consumer
