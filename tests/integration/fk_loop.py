"""The FK loop's real processes on loopback, for the end-to-end tests that drive it.

``start_loop`` loads the demo directory, publishes routes (the unit's status updates to
``mock-journal``; every onward contract at FK's and the archive's logical addresses to
``mock-recipient``) and starts ``mock-journal``, ``mock-recipient`` and ``intygsgateway serve`` (with
its worker) as processes whose output goes to files; ``Processes.stop`` ends them. Units named in
``own_journals`` get a ``mock-journal`` of their own, with their status updates routed to it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import requests
from sqlalchemy.orm import Session, sessionmaker

from cli.serve import load_demo_directory
from contracts.ns import STATUS_UPDATE_V3
from domain.events import OutboundContract
from outbound import ROUTING_CONTRACTS
from routing.catalogue import Route
from routing.content import CatalogueContent
from simulator.journal import CONTRACT_PATH
from simulator.recipient import CONTRACT_PATHS
from store.routing import publish
from store.session import transaction
from tests.integration.gateway_server import plain_session, zeep_client
from tests.integration.processes import stop

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent / "intygsgateway"
CONTENT_FILE = ROOT / "docs" / "examples" / "lisjp-content.json"
FK, ARCHIVE = "2021005521", "5565594230"
UNIT, LAKARE = "SE2321000016-1000", "SE2321000016-P001"
CREATE_PATH = "/clinicalprocess/healthcond/certificate/CreateDraftCertificate/3/rivtabp21"
ENV = {"INTYGSGATEWAY_RESEND_POLL_SECONDS": "0.2", "INTYGSGATEWAY_LOG_LEVEL": "warning",
       "INTYGSGATEWAY_WORKERS": "1", "INTYGSGATEWAY_ROUTING_CHECK_SECONDS": "0.2"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait(what: str, check: Callable[[], Any], seconds: float = 30.0) -> Any:
    """``check()``'s first truthy value, polled every 0.2 s for at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {seconds} s")


class Processes:
    """The loop's processes, their output in files; all stopped at the end."""

    def __init__(self, logs: Path, settings: dict[str, str]) -> None:
        self.logs = logs
        self.env = {name: value for name, value in os.environ.items() if not name.startswith("INTYGSGATEWAY_")}
        self.env |= ENV | settings
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("wb") as out:
            process = subprocess.Popen([str(BIN), *args], cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        self.started.append(process)
        return process

    def cli(self, *args: str) -> str:
        done = subprocess.run([str(BIN), *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120,
                              check=False)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    def stop(self) -> None:
        for process in reversed(self.started):
            stop(process)


@dataclass(frozen=True)
class Endpoints:
    """Where the loop's processes listen, and one HTTP session to ask them."""

    gateway: str
    journal: str
    recipient: str
    http: requests.Session
    journals: Mapping[str, str]  # unit -> the journal simulator of its own (``start_loop``'s ``own_journals``)


def start_loop(processes: Processes, db_url: str, factory: sessionmaker[Session],
               own_journals: tuple[str, ...] = ()) -> Endpoints:
    """Start the journal simulator(s), the recipient simulator and the gateway; return once all answer."""
    load_demo_directory(db_url)
    ports = {name: free_port() for name in ("gateway", "journal", "recipient", *own_journals)}
    gateway, journal, recipient = (f"http://127.0.0.1:{ports[name]}" for name in ("gateway", "journal", "recipient"))
    journals = {unit: f"http://127.0.0.1:{ports[unit]}" for unit in own_journals}
    publish_routes(factory, journal, recipient, journals)
    processes.start("journal", "mock-journal", "--port", str(ports["journal"]))
    for unit in own_journals:
        processes.start(f"journal-{unit}", "mock-journal", "--port", str(ports[unit]))
    processes.start("recipient", "mock-recipient", "--port", str(ports["recipient"]), "--care-url", gateway)
    processes.start("serve", "serve", "--db", db_url, "--port", str(ports["gateway"]))
    http = requests.Session()

    def ready() -> bool:
        try:
            return all(http.get(url, timeout=2).status_code == 200 for url in (
                f"{gateway}/readyz", f"{journal}/_mock/stats", f"{recipient}/_mock/stats",
                *(f"{url}/_mock/stats" for url in journals.values())))
        except requests.RequestException:
            return False

    wait("the processes to start", ready, 90)
    return Endpoints(gateway, journal, recipient, http, journals)


def publish_routes(factory: sessionmaker[Session], journal: str, recipient: str,
                   journals: Mapping[str, str] | None = None) -> None:
    start = date(2000, 1, 1)
    routes = [Route(STATUS_UPDATE_V3, unit, url + CONTRACT_PATH, valid_from=start)
              for unit, url in {UNIT: journal, **(journals or {})}.items()] + [
        Route(ROUTING_CONTRACTS[contract], address, recipient + CONTRACT_PATHS[contract.value], valid_from=start)
        for contract in OutboundContract if contract is not OutboundContract.STATUS_UPDATE for address in (FK, ARCHIVE)
    ]
    with transaction(factory) as session:
        publish(session, CatalogueContent(routes=tuple(routes)), by="test", action="import", now=datetime.now(UTC),
                keep=5, changes={})


def create_draft(gateway: str, unit: str = UNIT, user: str = LAKARE) -> str:
    """A LISJP draft for the demo patient at ``unit`` (default the demo unit) by ``user``, created by a
    journal system through zeep."""
    with ExitStack() as stack:
        session = stack.enter_context(plain_session())
        client = zeep_client(f"{gateway}{CREATE_PATH}?wsdl", session)
        response = client.service.CreateDraftCertificate(
            _soapheaders={"LogicalAddress": unit},
            intyg={
                "typAvIntyg": {"code": "LISJP", "codeSystem": "b64ea353-e8f6-4832-b563-fc7d46f29548"},
                "patient": {"person-id": {"root": "1.2.752.129.2.1.3.1", "extension": "191212121212"},
                            "fornamn": "Tolvan", "efternamn": "Tolvansson", "postadress": "Storgatan 1",
                            "postnummer": "12345", "postort": "Demostad"},
                "skapadAv": {"personal-id": {"root": "1.2.752.129.2.1.4.1", "extension": user},
                             "fullstandigtNamn": "Ann Läkare" if user == LAKARE else "Demo Användare",
                             "enhet": {"enhets-id": {"root": "1.2.752.129.2.1.4.1", "extension": unit},
                                       "enhetsnamn": "Vårdcentralen Demo" if unit == UNIT else "Demoenhet"}},
            },
        )
    assert response.result.resultCode == "OK"
    return str(response["intygs-id"].extension)
