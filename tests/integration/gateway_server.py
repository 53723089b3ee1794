"""The gateway as a real HTTP server on loopback, in a thread, for end-to-end tests.

``running`` serves a gateway built by ``demo_gateway_deps`` and yields a ``Gateway`` handle that
posts raw SOAP and counts rows, shared by the contracts' end-to-end tests.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import requests
from lxml import etree
from sqlalchemy import func, select
from zeep import Client
from zeep import Settings as ZeepSettings
from zeep.plugins import Plugin
from zeep.transports import Transport

from cli.serve import load_demo_directory
from cli.settings import Settings
from cli.wiring import gateway_deps
from domain.certificate_types import load_default_registry
from domain.pdl import SystemIdentity
from gateway import GatewayDeps, make_app
from store.base import Base
from store.directory import SqlDirectory
from store.migrate import upgrade
from store.session import UnitOfWork, make_engine, make_session_factory
from usecases.lifecycle import LifecycleDeps

CREATE_DRAFT_PATH = "/clinicalprocess/healthcond/certificate/CreateDraftCertificate/3/rivtabp21"


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 at a free port; yield the base URL."""
    server = make_server("127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
    with in_thread(server):
        yield f"http://127.0.0.1:{server.server_port}"


@contextmanager
def in_thread(server: WSGIServer) -> Iterator[None]:
    """Run ``server`` in a daemon thread until the block ends; then stop it and close its socket."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class Gateway:
    """A running gateway on one database, with helpers to post and to count rows."""

    def __init__(self, url: str, db_url: str) -> None:
        self.url = url
        self.db_url = db_url
        self.engine = make_engine(db_url)
        self.factory = make_session_factory(self.engine)

    def post(
        self, body: bytes, path: str = CREATE_DRAFT_PATH, headers: dict[str, str] | None = None
    ) -> tuple[int, etree._Element, dict[str, str]]:
        request = urllib.request.Request(
            self.url + path,
            data=body,
            method="POST",
            headers={"Content-Type": "text/xml; charset=utf-8", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, etree.fromstring(response.read()), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, etree.fromstring(error.read()), dict(error.headers)

    def lifecycle_deps(self) -> LifecycleDeps:
        """What the certificate operations need, on this gateway's database and demo directory: what a
        test uses to sign, send or answer beside the contracts it posts."""
        return LifecycleDeps(
            transaction=UnitOfWork(self.factory),
            directory=SqlDirectory(self.factory),
            registry=load_default_registry(),
            system=SystemIdentity("SE0000000000-GW", "Intygsgateway"),
            clock=lambda: datetime.now(UTC),
        )

    def row_counts(self) -> dict[str, int]:
        """Rows per table outside the directory: what a refused request must not change."""
        with self.engine.connect() as connection:
            return {
                table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
                for table in Base.metadata.sorted_tables
                if not table.name.startswith("directory")
            }


def demo_gateway_deps(db_url: str, **settings: Any) -> tuple[Settings, GatewayDeps]:
    """Settings and dependencies of a gateway on ``db_url``, migrated and with the demo directory."""
    config = replace(Settings(database_url=db_url), **settings)
    upgrade(db_url)
    load_demo_directory(db_url)
    return config, gateway_deps(config)


@contextmanager
def running(deps: GatewayDeps, db_url: str) -> Iterator[Gateway]:
    """Serve ``deps`` on loopback; release every pool afterwards."""
    with serving(make_app(deps)) as url:
        gateway = Gateway(url, db_url)
        try:
            yield gateway
        finally:
            gateway.engine.dispose()
            deps.close()


def plain_session() -> requests.Session:
    """A requests session that ignores the environment (REQUESTS_CA_BUNDLE would replace verify)."""
    session = requests.Session()
    session.trust_env = False
    return session


def zeep_client(wsdl_url: str, session: requests.Session, plugins: Sequence[Plugin] = ()) -> Client:
    """zeep as the end-to-end tests use it: built from a served ?wsdl, strict, with no DTDs or
    entities, and bounded timeouts."""
    return Client(  # type: ignore[no-untyped-call]  # zeep is not annotated
        wsdl_url,
        transport=Transport(session=session, timeout=10, operation_timeout=10),  # type: ignore[no-untyped-call]
        settings=ZeepSettings(strict=True, forbid_dtd=True, forbid_entities=True),
        plugins=list(plugins),
    )
