"""The gateway behind real TLS on loopback, in a thread, served by the production front (``cli.http_worker``).

``serving_loop`` runs ``LoopServer``, the event-loop part of the gunicorn worker ``serve`` uses,
in a thread of the test process with the context ``serve`` builds (``cli.tls.server_context``), so
the handshake, the deadlines and the peer certificate in the environ are the production ones.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cli.http_worker import ConnectionLimits, LoopServer


@contextmanager
def serving_loop(
    app: Any, context: ssl.SSLContext | None = None, limits: ConnectionLimits | None = None
) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 at a free port (over TLS with ``context``); yield the base URL."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=512)
    stopping = threading.Event()
    server = LoopServer(app, limits or ConnectionLimits(), context, [listener], alive=lambda: not stopping.is_set())
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(1.0)), name="loop-server", daemon=True)
    thread.start()
    try:
        scheme = "https" if context is not None else "http"
        yield f"{scheme}://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stopping.set()
        thread.join(10)
        listener.close()


def serving_tls(app: Any, context: ssl.SSLContext) -> Any:
    """Serve ``app`` over TLS (see ``serving_loop``); yield the base URL."""
    return serving_loop(app, context)
