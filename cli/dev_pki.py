"""``intygsgateway dev-pki DIR``: a development PKI for trying mutual TLS without the national one.

Makes one or more root CAs, a server certificate for the gateway and client certificates whose
subject ``serialNumber`` (OID 2.5.4.5) holds a consumer's HSA-id, the attribute the national
platform and this gateway read the caller's identity from (docs/tls.md). The same functions build
the certificates of the test suite, including expired and nearly expired ones, so tests and users
exercise exactly what the documentation describes. Keys are P-256 EC keys: quick to make, accepted
by every TLS stack we use. Never use these certificates outside development: the CA key lies next
to its certificate, unencrypted.
"""

from __future__ import annotations

import argparse
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from cli.pdl_signing import write_private

DEFAULT_DAYS = 365
DEFAULT_SERVER_NAMES = ("localhost", "127.0.0.1")
DEFAULT_CONSUMERS = ("SE2321000016-JOURNAL1",)
ORGANISATION = "Intygsgateway development PKI"


@dataclass(frozen=True, slots=True)
class Issued:
    """A certificate and its private key, in memory."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def write(self, directory: Path, stem: str) -> tuple[Path, Path]:
        """Write ``<stem>.pem`` and ``<stem>-key.pem`` (owner-only) into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}-key.pem"
        cert_path.write_bytes(self.cert_pem)
        write_private(key_path, self.key_pem)  # 0600 from its first byte, even over an existing 0644 file
        return cert_path, key_path


def _name(common_name: str, serial_number: str | None = None) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ]
    if serial_number is not None:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_number))
    return x509.Name(attributes)


def _builder(subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey,
             not_before: datetime, not_after: datetime) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )


def make_ca(common_name: str, not_before: datetime, not_after: datetime) -> Issued:
    """A self-signed root CA that may sign end-entity certificates only (path length 0)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name)
    certificate = (
        _builder(name, name, key, not_before, not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return Issued(certificate, key)


def issue(
    ca: Issued,
    common_name: str,
    not_before: datetime,
    not_after: datetime,
    *,
    serial_number: str | None = None,
    server_names: Sequence[str] = (),
    client: bool = True,
) -> Issued:
    """An end-entity certificate signed by ``ca``.

    ``serial_number`` goes into the subject's serialNumber attribute (the HSA-id a gateway reads);
    ``server_names`` (DNS names or IP addresses) make it usable as a TLS server certificate;
    ``client`` adds the clientAuth usage.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH] if client else []
    if server_names:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    builder = (
        _builder(_name(common_name, serial_number), ca.certificate.subject, key, not_before, not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
    )
    if server_names:
        builder = builder.add_extension(x509.SubjectAlternativeName([_general_name(n) for n in server_names]),
                                        critical=False)
    return Issued(builder.sign(ca.key, hashes.SHA256()), key)


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


@dataclass(frozen=True, slots=True)
class DevPki:
    """The files ``write_dev_pki`` wrote."""

    roots: tuple[Path, ...]
    trust_bundle: Path
    server_cert: Path
    server_key: Path
    clients: dict[str, tuple[Path, Path]]


def write_dev_pki(
    directory: Path,
    now: datetime,
    *,
    consumers: Sequence[str] = DEFAULT_CONSUMERS,
    server_names: Sequence[str] = DEFAULT_SERVER_NAMES,
    days: int = DEFAULT_DAYS,
    roots: int = 1,
) -> DevPki:
    """Write ``roots`` root CAs, a server certificate and one client certificate per consumer.

    The server certificate is signed by the first root; the clients are spread over the roots in
    turn, so a gateway trusting only some roots refuses the others' clients at the handshake.
    ``trust-bundle.pem`` holds every root: point ``tls_client_ca`` at it, or at the single files.
    """
    not_before, not_after = now - timedelta(minutes=5), now + timedelta(days=days)
    cas = [make_ca(f"Intygsgateway dev root {i + 1}", not_before, not_after + timedelta(days=1))
           for i in range(roots)]
    root_paths = tuple(ca.write(directory, f"ca{i + 1}" if roots > 1 else "ca")[0] for i, ca in enumerate(cas))
    bundle = directory / "trust-bundle.pem"
    bundle.write_bytes(b"".join(ca.cert_pem for ca in cas))
    server = issue(cas[0], server_names[0], not_before, not_after, server_names=server_names, client=False)
    server_cert, server_key = server.write(directory, "server")
    clients = {
        hsa_id: issue(cas[i % roots], f"dev consumer {hsa_id}", not_before, not_after, serial_number=hsa_id)
        .write(directory, f"client-{hsa_id}")
        for i, hsa_id in enumerate(consumers)
    }
    return DevPki(root_paths, bundle, server_cert, server_key, clients)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "dev-pki",
        help="make a development PKI (CA, server and client certificates) for mutual TLS",
        description="Write development root CA(s), a server certificate and client certificates with the "
        "consumer's HSA-id in the subject serialNumber into DIR, for trying `serve --tls-cert ...` and "
        "`tls check`. Not for production: the CA keys are written unencrypted. See docs/tls.md.",
    )
    parser.add_argument("directory", metavar="DIR", help="folder to write the PEM files into (created if missing)")
    parser.add_argument("--consumer", action="append", metavar="HSA_ID",
                        help="a consumer to issue a client certificate for "
                             f"(repeatable; default {DEFAULT_CONSUMERS[0]})")
    parser.add_argument("--server-name", action="append", metavar="NAME",
                        help="DNS name or IP address of the server certificate "
                             "(repeatable; default localhost, 127.0.0.1)")
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help=f"validity in days (default {DEFAULT_DAYS})")
    parser.add_argument(
        "--roots", type=int, default=1, help="number of root CAs; clients are spread over them (default 1)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.roots < 1 or args.days < 1:
        raise ValueError("--roots and --days must be at least 1")
    pki = write_dev_pki(
        Path(args.directory),
        datetime.now(UTC),
        consumers=args.consumer or DEFAULT_CONSUMERS,
        server_names=args.server_name or DEFAULT_SERVER_NAMES,
        days=args.days,
        roots=args.roots,
    )
    print(f"roots:        {', '.join(str(p) for p in pki.roots)}")
    print(f"trust bundle: {pki.trust_bundle}")
    print(f"server:       {pki.server_cert} {pki.server_key}")
    for hsa_id, (cert, key) in pki.clients.items():
        print(f"client {hsa_id}: {cert} {key}")
    return 0
