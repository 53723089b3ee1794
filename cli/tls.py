"""TLS for operators: the server context of ``serve``, days left on our certificates, and ``tls check``.

``serve`` terminates TLS itself when ``tls_cert`` is set; with ``tls_client_ca`` it asks every client
for a certificate signed by one of those CAs (several files or bundles: national roots change, and
both generations must be trusted during a change). By default the client certificate is *optional*
at the handshake: a caller without one still completes it and gets the platform's VP002 fault, which
says what is wrong, and the probes stay reachable for the orchestrator. ``tls_require_client_cert``
refuses such a handshake instead.

``intygsgateway tls check URL`` makes one handshake as a consumer would and prints what an operator
needs when a connection fails: the server's chain, whether a client certificate was asked for and
sent, protocol and cipher, and the HSA-id the gateway would read from the client certificate.
"""

from __future__ import annotations

import argparse
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import structlog
from cryptography import x509

from cli.settings import Settings, SettingsError
from gateway.identity import serial_number

WARN_DAYS = 30
CHECK_TIMEOUT_S = 10.0
log = structlog.get_logger("cli.tls")


# -- serve's side ------------------------------------------------------------------------------------
def server_context(settings: Settings) -> ssl.SSLContext:
    """The TLS context ``serve`` listens with: our certificate, the client CAs, TLS 1.2 or newer."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(settings.tls_cert, settings.tls_key or None)
    for ca_file in settings.tls_client_ca:
        context.load_verify_locations(cafile=ca_file)
    if settings.tls_client_ca:
        context.verify_mode = ssl.CERT_REQUIRED if settings.tls_require_client_cert else ssl.CERT_OPTIONAL
    else:
        context.verify_mode = ssl.CERT_NONE
    return context


def check_tls_settings(settings: Settings) -> None:
    """Refuse inconsistent TLS settings before serving, naming the setting."""
    if bool(settings.tls_cert) != bool(settings.tls_key):
        raise SettingsError("tls_key" if settings.tls_cert else "tls_cert",
                            reason="tls_cert and tls_key must be given together")
    if settings.tls_client_ca and not settings.tls_cert:
        raise SettingsError("tls_client_ca", reason="needs tls_cert and tls_key: mutual TLS needs TLS")
    if settings.tls_require_client_cert and not settings.tls_client_ca:
        raise SettingsError("tls_require_client_cert", reason="needs tls_client_ca")
    for name in ("tls_cert", "tls_key", "client_cert", "client_key", "client_ca"):
        if getattr(settings, name) and not Path(getattr(settings, name)).is_file():
            raise SettingsError(name, value=getattr(settings, name), reason=f"no such file {getattr(settings, name)}")
    for ca_file in settings.tls_client_ca:
        if not Path(ca_file).is_file():
            raise SettingsError("tls_client_ca", value=ca_file, reason=f"no such file {ca_file}")


# -- expiry ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Expiry:
    """The first certificate of a PEM file and when it ends."""

    file: str
    subject: str
    not_after: datetime

    def days_left(self, now: datetime) -> int:
        """Whole days until ``not_after``; negative once expired."""
        return (self.not_after - now).days

    def report(self, now: datetime) -> dict[str, Any]:
        days = self.days_left(now)
        return {"file": self.file, "subject": self.subject, "notAfter": self.not_after.isoformat(),
                "daysLeft": days, "warning": days < WARN_DAYS}


def read_expiry(path: str) -> Expiry:
    """The expiry of the first certificate in a PEM file (the leaf, in a chain file)."""
    certificate = x509.load_pem_x509_certificate(Path(path).read_bytes())
    return Expiry(path, certificate.subject.rfc4514_string(), certificate.not_valid_after_utc)


def own_certificates(settings: Settings) -> dict[str, Expiry]:
    """Our server certificate and outbound client certificate, as configured: ``server``, ``client``."""
    files = {"server": settings.tls_cert, "client": settings.client_cert}
    return {role: read_expiry(path) for role, path in files.items() if path}


def certificate_report(certificates: Mapping[str, Expiry], now: datetime) -> dict[str, Any]:
    """What ``/readyz`` shows, by role."""
    return {role: expiry.report(now) for role, expiry in certificates.items()}


def log_expiry(certificates: Mapping[str, Expiry], now: datetime) -> None:
    """One log line per certificate at start: a warning under ``WARN_DAYS`` days, an error once expired."""
    for role, expiry in certificates.items():
        days = expiry.days_left(now)
        fields = {"role": role, "file": expiry.file, "subject": expiry.subject, "days_left": days,
                  "not_after": expiry.not_after.isoformat()}
        if days < 0:
            log.error("certificate_expired", **fields)
        elif days < WARN_DAYS:
            log.warning("certificate_expires_soon", **fields)
        else:
            log.info("certificate_valid", **fields)


# -- tls check ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Handshake:
    """What one handshake showed."""

    protocol: str
    cipher: str
    chain: tuple[x509.Certificate, ...]
    client_cert_requested: bool
    client_cert_sent: bool
    client_serial_number: str | None
    http_status: str | None


def client_context(ca: str | None, cert: str | None, key: str | None) -> ssl.SSLContext:
    """A consumer's context: the given CA bundle (or the system's), our certificate when given."""
    context = ssl.create_default_context(cafile=ca)
    if cert:
        context.load_cert_chain(cert, key or None)
    return context


def handshake(url: str, context: ssl.SSLContext, own: x509.Certificate | None = None,
              timeout: float = CHECK_TIMEOUT_S) -> Handshake:
    """Connect to ``url``, complete the handshake, and ask for ``/healthz``.

    ``own`` is the client certificate loaded into ``context``, if any: OpenSSL sends it when asked.

    The request after the handshake matters: in TLS 1.3 the server judges the client certificate
    after the client considers the handshake done, so a refused certificate shows up only there.
    Whether the server asked for a certificate is read from the handshake messages through CPython's
    message callback (``_msg_callback``, its only window on them).
    """
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"not an https URL: {url}")
    requested: list[bool] = []

    def observe(_conn: Any, direction: str, _version: Any, content_type: Any, msg_type: Any, _data: Any) -> None:
        if (direction == "read" and content_type == ssl._TLSContentType.HANDSHAKE  # type: ignore[attr-defined]
                and msg_type == ssl._TLSMessageType.CERTIFICATE_REQUEST):  # type: ignore[attr-defined]
            requested.append(True)

    context._msg_callback = observe  # type: ignore[attr-defined]
    port = parts.port or 443
    with socket.create_connection((parts.hostname, port), timeout=timeout) as raw, \
            context.wrap_socket(raw, server_hostname=parts.hostname) as tls:
        chain = _verified_chain(tls)
        status = _healthz_status(tls, parts.hostname, port)
        cipher = tls.cipher()
        protocol = tls.version() or "?"
    sent = bool(requested) and own is not None
    return Handshake(protocol, cipher[0] if cipher else "?", chain, bool(requested), sent,
                     serial_number(own) if own is not None and sent else None, status)


def _verified_chain(tls: ssl.SSLSocket) -> tuple[x509.Certificate, ...]:
    # ``get_verified_chain`` is public from Python 3.13; 3.11 has it on the underlying object.
    getter = getattr(tls, "get_verified_chain", None) or getattr(tls._sslobj, "get_verified_chain", None)  # type: ignore[attr-defined]
    if getter is None:
        leaf = tls.getpeercert(binary_form=True)
        return (x509.load_der_x509_certificate(leaf),) if leaf else ()
    return tuple(x509.load_der_x509_certificate(c.public_bytes(ssl._ssl.ENCODING_DER)) for c in getter())  # type: ignore[attr-defined]


def _healthz_status(tls: ssl.SSLSocket, host: str, port: int) -> str | None:
    tls.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
    data = tls.recv(256)
    if not data:
        # Some servers close without a TLS alert when they refuse a client certificate after a TLS 1.3
        # handshake (asyncio's does); the gateway answers /healthz to everyone else.
        raise ConnectionAbortedError(
            "the server closed the connection after the handshake (client certificate refused?)"
        )
    line = data.split(b"\r\n", 1)[0].decode("latin-1")
    return line.split(" ", 1)[1] if " " in line else None


def describe_handshake(result: Handshake) -> list[str]:
    """The lines ``tls check`` prints."""
    lines = [f"protocol: {result.protocol}", f"cipher: {result.cipher}", "server chain:"]
    now = datetime.now(UTC)
    for depth, certificate in enumerate(result.chain):
        days = (certificate.not_valid_after_utc - now).days
        lines.append(f"  {depth}: {certificate.subject.rfc4514_string()} "
                     f"(issuer {certificate.issuer.rfc4514_string()}; {days} days left)")
    lines.append(f"client certificate requested: {'yes' if result.client_cert_requested else 'no'}")
    lines.append(f"client certificate sent: {'yes' if result.client_cert_sent else 'no'}")
    if result.client_cert_sent:
        serial_number = result.client_serial_number or "NONE: the gateway would answer VP002"
        lines.append(f"consumer HSA-id (subject serialNumber): {serial_number}")
    lines.append(f"GET /healthz: {result.http_status or 'no answer'}")
    return lines


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("tls", help="check TLS connections", description="TLS tools for operators.")
    commands = parser.add_subparsers(dest="tls_command", required=True, metavar="COMMAND")
    check = commands.add_parser(
        "check",
        help="make a TLS handshake with URL and print what it showed",
        description="Connect to URL as a consumer would and print the server's certificate chain, whether a "
        "client certificate was asked for and sent, protocol and cipher, and the HSA-id (subject "
        "serialNumber) the gateway reads from the client certificate. Exit 1 when the handshake fails.",
    )
    check.add_argument("url", metavar="URL", help="https://host:port of the gateway")
    check.add_argument("--cert", metavar="FILE", help="PEM client certificate to present")
    check.add_argument("--key", metavar="FILE", help="PEM private key of --cert")
    check.add_argument("--ca", metavar="FILE", help="PEM CA bundle to verify the server with (default: the system's)")
    check.add_argument("--timeout", type=float, default=CHECK_TIMEOUT_S, help="seconds (default 10)")
    check.set_defaults(run=run_check)


def run_check(args: argparse.Namespace) -> int:
    context = client_context(args.ca, args.cert, args.key)
    own = x509.load_pem_x509_certificate(Path(args.cert).read_bytes()) if args.cert else None
    try:
        result = handshake(args.url, context, own, args.timeout)
    except (ssl.SSLError, OSError) as exc:
        print(f"handshake failed: {type(exc).__name__}: {exc}")
        return 1
    print("\n".join(describe_handshake(result)))
    return 0
