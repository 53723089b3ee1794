"""``intygsgateway serve``: migrate, optionally load the demo directory, and run the production server.

The server is gunicorn with N worker processes (default one per core), each running our worker
class ``cli.http_worker.DeadlineWorker``: an event loop that reads and writes every connection with
deadlines (TLS handshake, request head, body, answer) and keeps connections alive, and ``threads``
threads that run the application on complete requests. Threads pay off because a request spends
much of its time waiting for the database. Each worker builds its own application after the fork,
so every process has its own database pool. Why this worker and not gunicorn's: docs/serving.md.

Metrics: before gunicorn forks, ``serve`` switches prometheus_client to multiprocess mode in a
directory (``metrics_dir``, emptied at start; or a private temporary one, removed at exit) that its
workers and its status-update worker all write into, so a scrape of any process counts them all
(``gateway.metrics``). A worker process that ends has its live gauges removed (``child_exit``).
With ``metrics_port`` set gunicorn also listens there, where only ``/metrics`` answers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import ssl
import tempfile
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import structlog
from gunicorn.app.base import BaseApplication

from cli.access import log_access_control
from cli.db_transport import PACED_ADVICE, paced_database
from cli.directory import import_file_contents
from cli.http_worker import ConnectionLimits
from cli.options import add_settings_options, settings_from
from cli.settings import Settings, SettingsError
from cli.tls import check_tls_settings, log_expiry, own_certificates, server_context
from cli.wiring import gateway_deps
from cli.worker import spawn as spawn_worker
from gateway import make_app
from gateway.metrics import prepare_directory, process_exited, use_directory
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
        binds = [f"{settings.host}:{settings.port}"]
        if settings.metrics_port:
            binds.append(f"{settings.host}:{settings.metrics_port}")
        self.cfg.set("bind", binds)
        self.cfg.set("child_exit", _child_exit)
        self.cfg.set("workers", settings.workers or os.cpu_count() or 1)
        self.cfg.set("worker_class", "cli.http_worker.DeadlineWorker")
        self.cfg.set("threads", settings.threads)
        self.cfg.set("timeout", 30)
        self.cfg.set("graceful_timeout", 10)
        self.cfg.set("limit_request_field_size", 16384)
        self.cfg.set("max_requests", 20000)
        self.cfg.set("max_requests_jitter", 2000)
        self.cfg.set("proc_name", "intygsgateway")
        # Read by the worker (``cli.http_worker``): the deadlines, and TLS with our own context
        # (several CA files, the revocation list); gunicorn's certfile is left unset.
        self.limits = connection_limits(settings)
        self.ssl_context: ssl.SSLContext | None = server_context(settings) if settings.tls_cert else None

    def load(self) -> Any:
        return make_app(gateway_deps(self._settings))


def _child_exit(_server: Any, worker: Any) -> None:
    """gunicorn's hook when a worker process ended: its live gauges go (its counts stay summed)."""
    process_exited(worker.pid)


def metrics_directory(settings: Settings) -> tuple[str, bool]:
    """The multiprocess metrics directory, emptied, and whether it is ours to remove at exit."""
    if settings.metrics_dir:
        prepare_directory(settings.metrics_dir)
        return settings.metrics_dir, False
    return tempfile.mkdtemp(prefix="intygsgateway-metrics-"), True


def connection_limits(settings: Settings) -> ConnectionLimits:
    """The per-connection deadlines and sizes the worker enforces, from the settings."""
    return ConnectionLimits(
        header_seconds=settings.http_header_timeout_seconds,
        body_seconds=settings.http_body_timeout_seconds,
        send_seconds=settings.http_send_timeout_seconds,
        keepalive_seconds=settings.http_keepalive_seconds,
        tls_handshake_seconds=settings.tls_handshake_timeout_seconds,
        max_connections=settings.http_max_connections,
        max_body_bytes=settings.max_request_bytes,
        threads=settings.threads,
    )


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
    if settings.metrics_port and settings.metrics_port == settings.port:
        raise SettingsError("metrics_port", reason=f"is the same port as port ({settings.port}); give another, "
                            "or 0 for /metrics on the main port")
    log_access_control(settings)
    log_expiry(own_certificates(settings), datetime.now(UTC))
    upgrade(settings.database_url)
    if (paced := paced_database(settings.database_url)) is not None:
        log.warning("database_answers_paced", congestion_control=paced, advice=PACED_ADVICE)
    if args.demo:
        load_demo_directory(settings.database_url)
    log.info("serving", host=settings.host, port=settings.port, tls=bool(settings.tls_cert),
             workers=settings.workers or os.cpu_count(), threads=settings.threads)
    directory, temporary = metrics_directory(settings)
    use_directory(directory)  # before any instrument exists and before gunicorn forks
    outbox_worker = None if args.no_worker else spawn_worker(args, directory)
    try:
        GatewayServer(settings).run()
    finally:
        if outbox_worker is not None:
            outbox_worker.terminate()
            outbox_worker.wait(15)
            process_exited(outbox_worker.pid)
        if temporary:
            shutil.rmtree(directory, ignore_errors=True)
    return 0
