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
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import structlog
from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

from cli.common import add_settings_options, settings_from
from cli.directory import import_file_contents
from cli.settings import Settings
from cli.wiring import gateway_deps
from gateway import make_app
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

    def load(self) -> Any:
        return make_app(gateway_deps(self._settings))


def load_demo_directory(database_url: str) -> None:
    """Import the packaged demo directory (idempotent: an upsert)."""
    data = json.loads(resources.files("cli").joinpath("demo_directory.json").read_text(encoding="utf-8"))
    summary = import_file_contents(database_url, data, datetime.now(UTC))
    log.info("demo_directory_loaded", **summary)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args, host=args.host, port=args.port, workers=args.workers, threads=args.threads)
    upgrade(settings.database_url)
    if args.demo:
        load_demo_directory(settings.database_url)
    log.info("serving", host=settings.host, port=settings.port, workers=settings.workers or os.cpu_count(), threads=settings.threads)
    GatewayServer(settings).run()
    return 0
