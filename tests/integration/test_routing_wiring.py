"""The routing catalogue wired into a running gateway: /readyz reports it, a new unit is checked once."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import replace

from structlog.testing import capture_logs

from cli import main
from cli.serve import load_demo_directory
from cli.settings import Settings
from cli.wiring import gateway_deps, routing_readiness
from gateway import make_app
from routing import Catalogue, CatalogueUnavailable, Route, StaticProvider
from store.migrate import upgrade
from tests.envelopes import create_draft_envelope
from tests.integration.gateway_server import serving
from tests.unit.routing.tak_samples import NS

PATH = "/clinicalprocess/healthcond/certificate/CreateDraftCertificate/3/rivtabp21"


def _post(url: str, body: bytes) -> bytes:
    request = urllib.request.Request(url + PATH, data=body, method="POST",
                                     headers={"Content-Type": "text/xml; charset=utf-8"})
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: bytes = response.read()
        return answer


def test_readyz_reports_the_catalogue_and_a_new_unit_without_route_is_logged_once(db_url: str) -> None:
    """After `routing add`, /readyz shows version 1; two drafts for an unrouted unit log one warning."""
    upgrade(db_url)
    load_demo_directory(db_url)
    assert main(["routing", "add", "--contract", NS, "--address", "SE2321000016-2000", "--url", "https://j",
                 "--db", db_url]) == 0
    deps = gateway_deps(replace(Settings(database_url=db_url), routing_check_seconds=0.0))
    try:
        with serving(make_app(deps)) as url:
            with urllib.request.urlopen(url + "/readyz", timeout=10) as response:
                ready = json.loads(response.read())
            assert ready["routing"]["version"] == 1
            assert ready["routing"]["routes"] == 1
            assert ready["routing"]["error"] is None
            with capture_logs() as logs:
                for _ in range(2):
                    assert b">OK<" in _post(url, create_draft_envelope())  # the check never refuses a draft
            missing = [entry for entry in logs if entry["event"] == "route_missing"]
            assert len(missing) == 1 and missing[0]["code"] == "VP004"
            assert missing[0]["unit"] == "SE2321000016-1000"
    finally:
        deps.close()


class NeverLoaded:
    """A provider in a process that could never load a catalogue."""

    def current(self) -> Catalogue:
        raise CatalogueUnavailable("no database")


def test_routing_readiness() -> None:
    """Ready with version and size for a loaded snapshot; not ready (VP008) when none was ever loaded."""
    ready, report = routing_readiness(StaticProvider(Catalogue([Route(NS, "*", "https://d")], version=4)))
    assert ready and (report["version"], report["routes"], report["rights"]) == (4, 1, 0)
    ready, report = routing_readiness(NeverLoaded())
    assert not ready and report["version"] is None
