"""A small threaded HTTP/1.1 server for the simulator: keep-alive, and connections it can drop.

``wsgiref`` answers HTTP/1.0 and closes every connection, which hides how the gateway's kept-alive
session behaves and costs a handshake per call in benchmarks; it also cannot drop a connection on
purpose. This server runs a WSGI application per request on ``http.server``'s threaded server with
HTTP/1.1 persistent connections, buffering each (small) answer to send a Content-Length. When the
application raises ``DropConnection`` the socket is closed without a byte of answer.
"""

from __future__ import annotations

import io
import socket
import ssl
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from simulator.journal import CONTRACT_PATH, DropConnection, MockJournal

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Any]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; with Nagle on, the body waits for the client's delayed
    # ACK (about 40 ms a request on Linux loopback).
    disable_nagle_algorithm = True
    server: JournalServer

    def do_GET(self) -> None:
        self._run()

    do_POST = do_PUT = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _run(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        environ = {
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "SERVER_NAME": self.server.server_address[0],
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            **{f"HTTP_{name.upper().replace('-', '_')}": value for name, value in self.headers.items()},
        }
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            answer["status"], answer["headers"] = status, headers

        try:
            content = b"".join(self.server.app(environ, start_response))
        except DropConnection:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        code, _, reason = answer["status"].partition(" ")
        self.send_response(int(code), reason)
        for name, value in answer["headers"]:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(content)


class JournalServer(ThreadingHTTPServer):
    """One thread per connection; threads are daemons so a hung client never blocks shutdown."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: WsgiApp) -> None:
        super().__init__(address, _Handler)
        self.app = app


@contextmanager
def running(
    journal: MockJournal, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None
) -> Iterator[str]:
    """Serve ``journal`` in a background thread; yield the contract's URL. Stops on exit.

    With ``tls`` (a server-side context, possibly requiring client certificates) it serves HTTPS,
    the way a journal system behind the national platform's mutual TLS does.
    """
    server = JournalServer((host, port), journal)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://{host}:{server.server_port}{CONTRACT_PATH}"
    finally:
        journal.release()
        server.shutdown()
        server.server_close()
        thread.join(5)
