"""Whether the database is reached over loopback TCP paced by BBR, and what to do about it.

A gateway on the database's host should reach it through PostgreSQL's Unix socket. Over loopback
TCP, a host whose congestion control is BBR paces the database's larger answers: BBR sends at the
bandwidth it has measured, and on loopback it measures that from a request's small exchanges, so a
200 kB answer was now and then paced out over some 20 ms (docs/deployment.md has the measurements).
Nothing in the gateway's logs would point there, so ``serve`` warns at start and ``db check`` says
it, each with the remedies; neither refuses to run.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

#: What ``serve`` logs and ``db check`` prints when the database's answers are paced.
PACED_ADVICE = (
    "the database is reached over loopback TCP and this host gives loopback connections BBR, which "
    "paces large answers (some 20 ms now and then): connect through PostgreSQL's Unix socket "
    "(postgresql+psycopg://USER@/DB?host=/var/run/postgresql), or give the loopback routes CUBIC "
    "(ip route ... congctl cubic); see docs/deployment.md"
)


def loopback_congestion_control() -> str | None:
    """The congestion control a TCP connection accepted on loopback gets here (the database's side of
    the connection: its answers), route overrides included; None where the system does not tell."""
    option = getattr(socket, "TCP_CONGESTION", None)
    if option is None:
        return None
    try:
        with socket.create_server(("127.0.0.1", 0)) as server, socket.create_connection(server.getsockname(), 2):
            accepted, _ = server.accept()
            with accepted:
                name: bytes = accepted.getsockopt(socket.IPPROTO_TCP, option, 16)
    except OSError:
        return None
    return name.rstrip(b"\0").decode("ascii", "replace")


def over_loopback_tcp(database_url: str) -> bool:
    """Whether ``database_url`` names a PostgreSQL server reached over TCP on this host's loopback
    (not through a Unix socket, named by a ``host=`` folder or an empty host)."""
    parts = urlsplit(database_url)
    if not parts.scheme.startswith("postgres"):
        return False
    hosts = parse_qs(parts.query).get("host", [])
    if hosts:
        return all(_is_loopback(host) for host in hosts)  # host=/folder is a socket, not loopback
    return parts.hostname is not None and _is_loopback(parts.hostname)


def paced_database(database_url: str, congestion_control: Callable[[], str | None] | None = None) -> str | None:
    """The congestion control that paces the database's answers (``"bbr"``), or None when they are not
    paced: another database, a Unix socket, a server elsewhere, or another algorithm.
    ``congestion_control`` asks the system (``loopback_congestion_control`` unless given)."""
    if not over_loopback_tcp(database_url):
        return None
    name = (congestion_control or loopback_congestion_control)()
    return name if name is not None and name.startswith("bbr") else None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
