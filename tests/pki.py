"""A test PKI made with the documented ``cli.dev_pki`` functions: two trusted roots and one stranger.

Clients: ``allowed`` (holds access rights in the tests' catalogue, root 1), ``refused`` (no right,
root 2: proves the second trust root is honoured), ``expired``, ``untrusted`` (signed by a root the
gateway does not trust) and ``anonymous`` (no subject serialNumber).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cli.dev_pki import Issued, issue, make_ca

ALLOWED = "SE2321000016-JOURNAL1"
REFUSED = "SE2321000016-OTHER"
EXPIRED = "SE2321000016-EXPIRED"
UNTRUSTED = "SE2321000016-STRANGER"


@dataclass(frozen=True, slots=True)
class Pair:
    """A certificate file and its key file, as requests' ``cert=`` takes them."""

    cert: str
    key: str
    issued: Issued

    @property
    def pem(self) -> str:
        return self.issued.cert_pem.decode()


@dataclass(frozen=True, slots=True)
class Pki:
    trusted_roots: tuple[str, ...]
    server: Pair
    clients: dict[str, Pair]


def build_pki(directory: Path, now: datetime) -> Pki:
    """Write the test PKI into ``directory``."""
    start, end = now - timedelta(days=1), now + timedelta(days=90)
    root1, root2, stranger = (make_ca(f"test root {n}", start, end) for n in (1, 2, 3))

    def pair(issued: Issued, stem: str) -> Pair:
        cert, key = issued.write(directory, stem)
        return Pair(str(cert), str(key), issued)

    roots = (str(root1.write(directory, "root1")[0]), str(root2.write(directory, "root2")[0]))
    server = pair(
        issue(root1, "localhost", start, end, server_names=("localhost", "127.0.0.1"), client=False), "server"
    )
    clients = {
        "allowed": pair(issue(root1, "journal", start, end, serial_number=ALLOWED), "allowed"),
        "refused": pair(issue(root2, "other", start, end, serial_number=REFUSED), "refused"),
        "expired": pair(
            issue(root1, "old", now - timedelta(days=60), now - timedelta(days=1), serial_number=EXPIRED), "expired"
        ),
        "untrusted": pair(issue(stranger, "stranger", start, end, serial_number=UNTRUSTED), "untrusted"),
        "anonymous": pair(issue(root1, "no serial", start, end), "anonymous"),
    }
    return Pki(roots, server, clients)
