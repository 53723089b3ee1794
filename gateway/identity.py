"""Who is calling: the consumer's HSA-id from its client certificate, read as the national platform reads it.

The platform (VP) takes the sender from the subject ``serialNumber`` attribute (OID 2.5.4.5) of the
client certificate. The certificate reaches us one of two ways:

* **mutual TLS here**: the gateway terminates TLS and the server puts the verified peer certificate
  (DER) into the WSGI environ under ``PEER_CERT_KEY`` (``cli.serve`` does this for gunicorn);
* **a trusted proxy** terminates TLS and forwards the client certificate in a header
  (``x-vp-auth-cert`` on the platform, ``X-Forwarded-Tls-Client-Cert`` from Traefik, nginx's
  ``$ssl_client_escaped_cert``). The header is believed only when the connection comes from a
  configured proxy address: anyone else could write it.

A forwarded certificate is believed only when all of these hold: the connection comes from a
trusted proxy; exactly one such header arrived (a proxy that *appends* to a client's own header
would otherwise let the client choose, so two headers, or two certificates in one, are refused);
the certificate was issued by one of the ``tls_client_ca`` certificates (``CertificateTrust``) and is
within its validity now. A revocation list (``Revocations``, ``tls_crl_file``, reloaded when the
file changes) is checked for forwarded and directly presented certificates alike; the TLS
handshake already checked a directly presented one against the CAs.

Refusals carry the platform's codes: VP011 for a caller we may not trust at all (plain HTTP from an
address that is not a proxy, or a proxy header from one), VP002 for a trusted path that yields no
HSA-id, or a certificate that is not trusted, expired or revoked. Plain functions over the environ
and the certificate; nothing here knows WSGI servers.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from cryptography import x509
from cryptography.exceptions import InvalidSignature
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


class CertificateTrust:
    """The CAs of ``tls_client_ca``: a forwarded certificate must be issued by one of them, and be valid."""

    def __init__(self, authorities: Sequence[x509.Certificate]) -> None:
        self.authorities = tuple(authorities)

    @classmethod
    def from_files(cls, paths: Iterable[str]) -> CertificateTrust:
        return cls([c for path in paths for c in x509.load_pem_x509_certificates(Path(path).read_bytes())])

    def problem(self, certificate: x509.Certificate, now: datetime) -> str | None:
        """Why ``certificate`` is not to be believed, or None."""
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            return "the forwarded certificate is outside its validity"
        for authority in self.authorities:
            if authority.subject != certificate.issuer:
                continue
            try:
                certificate.verify_directly_issued_by(authority)
            except (ValueError, TypeError, InvalidSignature):
                continue
            if authority.not_valid_before_utc <= now <= authority.not_valid_after_utc:
                return None
        return "the forwarded certificate was not issued by a trusted CA (tls_client_ca)"


class Revocations:
    """Certificate revocation lists (PEM or DER files), read again when a file's modification time changes.

    A file that cannot be read keeps the lists last read (and is logged by the caller's start-up
    check); a certificate is revoked when a list from its issuer names its serial number.
    """

    CHECK_EVERY_SECONDS = 1.0

    def __init__(self, paths: Sequence[str], clock: Callable[[], float] | None = None) -> None:
        self.paths = tuple(paths)
        self._stamps: dict[str, float] = {}
        self._lists: dict[str, list[x509.CertificateRevocationList]] = {}
        self._lock = threading.Lock()
        self._checked = float("-inf")
        self._clock = clock or (lambda: datetime.now(UTC).timestamp())
        self.reload()

    def reload(self) -> None:
        """Read every file whose modification time changed; raises ``ValueError`` for an unreadable list."""
        with self._lock:
            for path in self.paths:
                stamp = os.stat(path).st_mtime_ns
                if self._stamps.get(path) == stamp:
                    continue
                data = Path(path).read_bytes()
                if b"-----BEGIN X509 CRL-----" in data:
                    blocks = re.findall(rb"-----BEGIN X509 CRL-----.+?-----END X509 CRL-----", data, re.DOTALL)
                    lists = [x509.load_pem_x509_crl(block) for block in blocks]
                else:
                    lists = [x509.load_der_x509_crl(data)]
                self._lists[path], self._stamps[path] = lists, stamp
            self._checked = self._clock()

    def is_revoked(self, certificate: x509.Certificate) -> bool:
        if self._clock() - self._checked >= self.CHECK_EVERY_SECONDS:
            try:
                self.reload()
            except (OSError, ValueError):
                self._checked = self._clock()  # keep the lists last read; try again later
        for lists in self._lists.values():
            for crl in lists:
                if crl.issuer == certificate.issuer and crl.get_revoked_certificate_by_serial_number(
                    certificate.serial_number
                ) is not None:
                    return True
        return False


@dataclass(frozen=True, slots=True)
class CallerPolicy:
    """Where identities may come from: proxy networks, their certificate header, the CAs and revocations."""

    proxies: tuple[Network, ...] = ()
    proxy_header: str = DEFAULT_PROXY_HEADER
    trust: CertificateTrust | None = None  # None: forwarded certificates cannot be checked, so none is believed
    revocations: Revocations | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

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
    lines, some send raw PEM with its newlines folded into spaces. Exactly one certificate is
    accepted: several (comma-separated, or several PEM blocks, or two headers joined by the server)
    could let a client put its own first behind a proxy that appends.
    """
    text = value.strip()
    if "%" in text:
        text = unquote(text)
    blocks = _PEM.findall(text)
    if len(blocks) > 1 or (not blocks and "," in text):
        raise BadCertificate("more than one forwarded certificate")
    body = blocks[0] if blocks else text
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
        if _header_count(environ, policy.proxy_header) > 1:
            raise NoConsumerIdentity(f"more than one {policy.proxy_header} header", remote)
        try:
            certificate = certificate_from_header(str(forwarded))
        except BadCertificate as exc:
            raise NoConsumerIdentity(exc.reason, remote) from exc
        problem = "no trusted CA is configured (tls_client_ca)" if policy.trust is None else (
            policy.trust.problem(certificate, policy.clock()))
        if problem is not None:
            raise NoConsumerIdentity(problem, remote)
        _check_revocation(certificate, policy, remote)
        return Caller(_consumer_of(certificate, remote), "proxy", remote)
    if forwarded:
        raise UntrustedCaller(f"header {policy.proxy_header} from an address that is not a trusted proxy", remote)
    if PEER_CERT_KEY not in environ:
        raise UntrustedCaller("not mutual TLS and not from a trusted proxy", remote)
    der = environ[PEER_CERT_KEY]
    if not der:
        raise NoConsumerIdentity("no client certificate was sent", remote)
    certificate = x509.load_der_x509_certificate(der)
    _check_revocation(certificate, policy, remote)
    return Caller(_consumer_of(certificate, remote), "mtls", remote)


def _header_count(environ: Mapping[str, Any], name: str) -> int:
    """How many ``name`` headers arrived, when the server says (``RAW_HEADERS_KEY``); else 1."""
    raw = environ.get(RAW_HEADERS_KEY)
    if raw is None:
        return 1
    wanted = name.strip().lower()
    return sum(1 for header, _value in raw if header.lower() == wanted)


def _check_revocation(certificate: x509.Certificate, policy: CallerPolicy, remote: str) -> None:
    if policy.revocations is not None and policy.revocations.is_revoked(certificate):
        raise NoConsumerIdentity(
            f"the client certificate {certificate.subject.rfc4514_string()} (serial {certificate.serial_number:x}) "
            "is revoked", remote)  # fmt: skip


def _consumer_of(certificate: x509.Certificate, remote: str) -> str:
    consumer = serial_number(certificate)
    if consumer is None:
        raise NoConsumerIdentity(
            f"the client certificate {certificate.subject.rfc4514_string()} has no single subject serialNumber", remote
        )
    return consumer
