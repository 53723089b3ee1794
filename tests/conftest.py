"""Test-wide guards and fixtures.

The network guard makes any connection to a non-loopback address fail loudly: tests and benchmarks
talk to 127.0.0.1 only.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator

import pytest
import structlog

_real_connect = socket.socket.connect


def _is_loopback(address: object) -> bool:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        if host in ("localhost", ""):
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    return True  # unix sockets


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Refuse any outbound connection that is not to loopback or a unix socket."""

    def guarded(self: socket.socket, address: object) -> None:
        if not _is_loopback(address):
            raise RuntimeError(f"test tried to connect to non-loopback address {address!r}")
        _real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield


@pytest.fixture(autouse=True)
def _fresh_structlog(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Undo any structlog configuration a test made (the CLI configures it to print to stdout).

    The CLI's configuration caches each logger on first use; a module's logger first used while a
    test had it configured would keep that test's processors for the rest of the run, and
    ``capture_logs`` in a later test would see none of its lines. Under the tests nothing is cached.
    The log context is emptied too: a test that runs a use case outside a request
    (``gateway.correlation.bound``) leaves the call's facts (``usecases.call_line``) in the thread.
    """
    configure = structlog.configure
    monkeypatch.setattr(
        structlog, "configure", lambda **settings: configure(**{**settings, "cache_logger_on_first_use": False})
    )
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
