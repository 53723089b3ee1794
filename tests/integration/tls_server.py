"""The gateway behind real TLS on loopback, in a thread, the way gunicorn hands requests over.

Each connection's handshake runs in its own thread with the context ``serve`` builds
(``cli.tls.server_context``), and the handler leaves the TLS socket in the environ as
``gunicorn.socket``, which is what ``cli.serve.with_peer_certificate`` reads in production.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from tests.integration.gateway_server import in_thread

HANDSHAKE_TIMEOUT_S = 10


class _TlsHandler(WSGIRequestHandler):
    timeout = HANDSHAKE_TIMEOUT_S

    def setup(self) -> None:
        super().setup()
        self.connection.do_handshake()

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        environ["HTTPS"] = "on"  # wsgiref derives wsgi.url_scheme from it
        environ["gunicorn.socket"] = self.connection
        return environ

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _TlsServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    context: ssl.SSLContext

    def get_request(self) -> tuple[socket.socket, Any]:
        raw, address = self.socket.accept()
        # The handshake waits for the handler's thread, so one slow client blocks nobody.
        return self.context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # refused handshakes are the point of several tests; the client sees them


@contextmanager
def serving_tls(app: Any, context: ssl.SSLContext) -> Iterator[str]:
    """Serve ``app`` over TLS on 127.0.0.1 at a free port; yield the base URL."""
    server = make_server("127.0.0.1", 0, app, server_class=_TlsServer, handler_class=_TlsHandler)
    server.context = context
    with in_thread(server):
        yield f"https://127.0.0.1:{server.server_port}"
