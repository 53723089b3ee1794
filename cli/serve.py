"""``intygsgateway serve``: migrate, optionally load the demo directory, and run the production server.

The server is gunicorn with N worker processes (default one per core), each running ``threads``
threads (gunicorn's ``gthread`` worker, which keeps connections alive). Threads pay off because a
request spends much of its time waiting for the database; with ``threads = 1`` the classic ``sync``
worker is used, which closes every connection and wants a keep-alive proxy in front. Each worker
builds its own application after the fork, so every process has its own database pool.
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import structlog
from gunicorn.app.base import BaseApplication

from cli.access import log_access_control
from cli.directory import import_file_contents
from cli.options import add_settings_options, settings_from
from cli.settings import Settings
from cli.tls import check_tls_settings, log_expiry, own_certificates, server_context
from cli.wiring import gateway_deps
from cli.worker import spawn as spawn_worker
from gateway import make_app
from gateway.identity import PEER_CERT_KEY
from store.migrate import upgrade

log = structlog.get_logger("cli.serve")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the gateway",
        description="Apply database migrations, then serve every contract over HTTP with N worker "
        "processes. Use --demo to load the demo directory (units, personnel, patients) first.",
    )
    add_settings_options(parser)
    parser.add_argument("--host", help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="listen port (default 8080)")
    parser.add_argument("--workers", type=int, metavar="N", help="worker processes (default: one per core)")
    parser.add_argument("--threads", type=int, metavar="N", help="threads per worker (default 4; 1 = sync workers)")
    parser.add_argument("--demo", action="store_true", help="load the demo directory data before serving")
    parser.add_argument("--no-worker", action="store_true",
                        help="do not start the status-update worker (run `intygsgateway worker` elsewhere)")
    parser.add_argument("--tls-cert", metavar="FILE", help="PEM server certificate: terminate TLS here (docs/tls.md)")
    parser.add_argument("--tls-key", metavar="FILE", help="PEM private key of --tls-cert")
    parser.add_argument("--tls-client-ca", metavar="FILE", action="append",
                        help="PEM CA file or bundle whose client certificates are accepted: mutual TLS (repeatable)")
    parser.set_defaults(run=run)


class GatewayServer(BaseApplication):  # type: ignore[misc]
    """gunicorn, configured from our settings instead of its own command line."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        super().__init__()

    def load_config(self) -> None:
        settings = self._settings
        self.cfg.set("bind", f"{settings.host}:{settings.port}")
        self.cfg.set("workers", settings.workers or os.cpu_count() or 1)
        if settings.threads > 1:
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", settings.threads)
        else:
            self.cfg.set("worker_class", "sync")
        self.cfg.set("timeout", 30)
        self.cfg.set("graceful_timeout", 10)
        self.cfg.set("limit_request_field_size", 16384)
        self.cfg.set("max_requests", 20000)
        self.cfg.set("max_requests_jitter", 2000)
        self.cfg.set("proc_name", "intygsgateway")
        if settings.tls_cert:
            # gunicorn turns TLS on when certfile is set; the context itself is ours (several CA files).
            self.cfg.set("certfile", settings.tls_cert)
            self.cfg.set("keyfile", settings.tls_key)
            self.cfg.set("ssl_context", _context_factory(settings))

    def load(self) -> Any:
        return with_peer_certificate(make_app(gateway_deps(self._settings)))


def _context_factory(settings: Settings) -> Callable[[Any, Any], ssl.SSLContext]:
    def ssl_context(_config: Any, _default_factory: Any) -> ssl.SSLContext:  # gunicorn's hook signature
        return server_context(settings)

    return ssl_context


def with_peer_certificate(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """Put the TLS peer's certificate (DER, or None) into the environ for ``gateway.identity``.

    gunicorn verifies the client certificate against ``tls_client_ca`` but does not pass it on; it
    does leave the connection's socket in the environ as ``gunicorn.socket``. Plain HTTP sockets
    leave the environ untouched, which tells the gateway that TLS did not end here.
    """

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        sock = environ.get("gunicorn.socket")
        if isinstance(sock, ssl.SSLSocket):
            environ[PEER_CERT_KEY] = sock.getpeercert(binary_form=True)
        return app(environ, start_response)

    return wrapped


def load_demo_directory(database_url: str) -> None:
    """Import the packaged demo directory (idempotent: an upsert)."""
    data = json.loads(resources.files("cli").joinpath("demo_directory.json").read_text(encoding="utf-8"))
    summary = import_file_contents(database_url, data, datetime.now(UTC))
    log.info("demo_directory_loaded", **summary)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(
        args, host=args.host, port=args.port, workers=args.workers, threads=args.threads,
        tls_cert=args.tls_cert, tls_key=args.tls_key,
        tls_client_ca=tuple(args.tls_client_ca) if args.tls_client_ca else None,
    )
    check_tls_settings(settings)
    log_access_control(settings)
    log_expiry(own_certificates(settings), datetime.now(UTC))
    upgrade(settings.database_url)
    if args.demo:
        load_demo_directory(settings.database_url)
    log.info("serving", host=settings.host, port=settings.port, tls=bool(settings.tls_cert),
             workers=settings.workers or os.cpu_count(), threads=settings.threads)
    outbox_worker = None if args.no_worker else spawn_worker(args)
    try:
        GatewayServer(settings).run()
    finally:
        if outbox_worker is not None:
            outbox_worker.terminate()
            outbox_worker.wait(15)
    return 0
