"""Tests for cli.db_transport: a database reached over loopback TCP paced by BBR is noticed, and only that."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from cli import db_transport
from cli.db_transport import over_loopback_tcp, paced_database


@pytest.mark.parametrize(("url", "loopback"), [
    ("postgresql+psycopg://gw@127.0.0.1:5432/intygsgateway", True),
    ("postgresql://gw@localhost/intygsgateway", True),
    ("postgresql+psycopg://gw@[::1]:5432/intygsgateway", True),
    ("postgresql+psycopg://gw@127.0.0.2/intygsgateway", True),
    ("postgresql+psycopg://gw@/intygsgateway?host=127.0.0.1", True),
    ("postgresql+psycopg://gw@/intygsgateway?host=/var/run/postgresql", False),
    ("postgresql+psycopg://gw@localhost/intygsgateway?host=/tmp", False),  # libpq: host= wins, a socket folder
    ("postgresql://gw@/intygsgateway", False),  # no host: libpq's default socket
    ("postgresql+psycopg://gw@db.region.example/intygsgateway", False),
    ("postgresql+psycopg://gw@10.0.0.5:5432/intygsgateway", False),
    ("sqlite:///intygsgateway.db", False),
])
def test_only_a_postgresql_server_over_loopback_tcp_is_loopback(url: str, loopback: bool) -> None:
    assert over_loopback_tcp(url) is loopback


def test_answers_are_paced_only_with_bbr_over_loopback_tcp() -> None:
    """BBR (any version) over loopback TCP is named; another algorithm, an unknown one, or a socket is not,
    and a URL that is not loopback TCP does not even ask the system."""
    loopback = "postgresql+psycopg://gw@127.0.0.1:5432/intygsgateway"
    assert paced_database(loopback, lambda: "bbr") == "bbr"
    assert paced_database(loopback, lambda: "bbr2") == "bbr2"
    assert paced_database(loopback, lambda: "cubic") is None
    assert paced_database(loopback, lambda: None) is None

    def never() -> str:
        raise AssertionError("asked the system for a socket URL")

    assert paced_database("postgresql+psycopg://gw@/intygsgateway?host=/var/run/postgresql", never) is None
    assert paced_database("sqlite:///intygsgateway.db", never) is None


@pytest.mark.skipif(not hasattr(socket, "TCP_CONGESTION"), reason="the system does not tell a connection's algorithm")
def test_the_loopback_algorithm_is_one_the_kernel_offers() -> None:
    """The probe opens a real loopback connection and reads what the kernel gave it."""
    name = db_transport.loopback_congestion_control()
    available = Path("/proc/sys/net/ipv4/tcp_available_congestion_control")
    assert name
    if available.exists():
        assert name in available.read_text().split()
