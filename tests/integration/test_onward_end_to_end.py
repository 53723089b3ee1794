"""The whole FK loop with real processes on loopback, on SQLite and PostgreSQL, in both deployment shapes.

``intygsgateway serve`` (with its worker), ``mock-journal`` and ``mock-recipient`` run as processes; a
journal system (zeep, from the gateway's ``?wsdl``) creates a draft; the physician signs and sends it
(the command line); the simulated FK receives the registration (or, beside the archive, the archive
receives it on signing and then the send); FK asks a question, which reaches the journal as NYFRFM;
care answers, FK receives it with ``svarPa``, the journal gets HANFRFM; care revokes, FK (or the
archive) receives the revocation and the journal MAKULE. Every message either simulator received is
valid by our schemas and, with ``RIVTA_OFFICIAL_SCHEMAS``, by the official ones.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
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
from tests.conformance import status_update_corpus
from tests.conformance.schemas import OFFICIAL_ENV, message_errors
from tests.integration.gateway_server import plain_session, zeep_client
from tests.integration.onward_env import CORPORA
from tests.integration.processes import stop

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent / "intygsgateway"
CONTENT_FILE = ROOT / "docs" / "examples" / "lisjp-content.json"
FK, ARCHIVE = "2021005521", "5565594230"
UNIT, LAKARE = "SE2321000016-1000", "SE2321000016-P001"
CREATE_PATH = "/clinicalprocess/healthcond/certificate/CreateDraftCertificate/3/rivtabp21"
ENV = {"INTYGSGATEWAY_RESEND_POLL_SECONDS": "0.2", "INTYGSGATEWAY_LOG_LEVEL": "warning",
       "INTYGSGATEWAY_WORKERS": "1", "INTYGSGATEWAY_ROUTING_CHECK_SECONDS": "0.2"}


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(what: str, check: Callable[[], Any], seconds: float = 30.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {seconds} s")


class Processes:
    """The loop's processes, their output in files; all stopped at the end."""

    def __init__(self, logs: Path, env: dict[str, str]) -> None:
        self.logs = logs
        self.env = env
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


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("INTYGSGATEWAY_")} | ENV
    started = Processes(tmp_path, env)
    yield started
    started.stop()


def _publish_routes(factory: sessionmaker[Session], journal: str, recipient: str) -> None:
    start = date(2000, 1, 1)
    routes = [Route(STATUS_UPDATE_V3, UNIT, journal + CONTRACT_PATH, valid_from=start)] + [
        Route(ROUTING_CONTRACTS[contract], address, recipient + CONTRACT_PATHS[contract.value], valid_from=start)
        for contract in OutboundContract if contract is not OutboundContract.STATUS_UPDATE for address in (FK, ARCHIVE)
    ]
    with transaction(factory) as session:
        publish(session, CatalogueContent(routes=tuple(routes)), by="test", action="import", now=datetime.now(UTC),
                keep=5, changes={})


def _create_draft(gateway: str) -> str:
    with ExitStack() as stack:
        session = stack.enter_context(plain_session())
        client = zeep_client(f"{gateway}{CREATE_PATH}?wsdl", session)
        response = client.service.CreateDraftCertificate(
            _soapheaders={"LogicalAddress": UNIT},
            intyg={
                "typAvIntyg": {"code": "LISJP", "codeSystem": "b64ea353-e8f6-4832-b563-fc7d46f29548"},
                "patient": {"person-id": {"root": "1.2.752.129.2.1.3.1", "extension": "191212121212"},
                            "fornamn": "Tolvan", "efternamn": "Tolvansson", "postadress": "Storgatan 1",
                            "postnummer": "12345", "postort": "Demostad"},
                "skapadAv": {"personal-id": {"root": "1.2.752.129.2.1.4.1", "extension": LAKARE},
                             "fullstandigtNamn": "Ann Läkare",
                             "enhet": {"enhets-id": {"root": "1.2.752.129.2.1.4.1", "extension": UNIT},
                                       "enhetsnamn": "Vårdcentralen Demo"}},
            },
        )
    assert response.result.resultCode == "OK"
    return str(response["intygs-id"].extension)


@pytest.mark.parametrize("target", ["recipient", "archive"])
def test_the_whole_fk_loop_with_real_processes(target: str, db_url: str, session_factory: sessionmaker[Session],
                                               processes: Processes) -> None:
    load_demo_directory(db_url)
    ports = {name: _free_port() for name in ("gateway", "journal", "recipient")}
    gateway, journal, recipient = (f"http://127.0.0.1:{ports[name]}" for name in ("gateway", "journal", "recipient"))
    _publish_routes(session_factory, journal, recipient)
    processes.env["INTYGSGATEWAY_ONWARD_TARGET"] = target
    processes.start("journal", "mock-journal", "--port", str(ports["journal"]))
    processes.start("recipient", "mock-recipient", "--port", str(ports["recipient"]), "--care-url", gateway)
    processes.start("serve", "serve", "--db", db_url, "--port", str(ports["gateway"]))
    http = requests.Session()

    def ready() -> bool:
        try:
            return all(http.get(url, timeout=2).status_code == 200 for url in (
                f"{gateway}/readyz", f"{journal}/_mock/stats", f"{recipient}/_mock/stats"))
        except requests.RequestException:
            return False

    _wait("the processes to start", ready, 90)

    def on_fk(contract: str) -> list[dict[str, Any]]:
        """What the simulated FK (or archive) received of ``contract``."""
        return list(http.get(f"{recipient}/_mock/received?contract={contract}", timeout=5).json())

    def codes() -> list[str]:
        """The event codes the journal received, in order."""
        return [r["event_code"] for r in http.get(f"{journal}/_mock/received", timeout=5).json()]

    where = FK if target == "recipient" else ARCHIVE

    certificate_id = _create_draft(gateway)
    processes.cli("certificate", "edit", certificate_id, "--content", str(CONTENT_FILE), "--user", LAKARE,
                  "--db", db_url)
    processes.cli("certificate", "sign", certificate_id, "--user", LAKARE, "--db", db_url)
    assert "SENDING" in processes.cli("certificate", "send", certificate_id, "--user", LAKARE, "--db", db_url)
    carrier = "RegisterCertificate" if target == "recipient" else "SendCertificateToRecipient"
    [delivered] = _wait("the send", lambda: on_fk(carrier))
    assert (delivered["logicalAddress"], delivered["certificateId"], delivered["resultCode"]) == (
        where, certificate_id, "OK")
    _wait("SKICKA", lambda: "SKICKA" in codes())
    assert "SENT" in processes.cli("certificate", "show", certificate_id, "--user", LAKARE, "--db", db_url)

    asked = http.post(f"{recipient}/_mock/send-message-to-care", timeout=30, json={
        "certificateId": certificate_id, "amne": "KONTKT", "heading": "Kontakt", "text": "Ring oss",
        "sistaDatumForSvar": "2027-01-15"}).json()
    assert asked["result"]["resultCode"] == "OK", asked
    _wait("NYFRFM", lambda: "NYFRFM" in codes())
    processes.cli("certificate", "answer", certificate_id, "--question", asked["messageId"], "--text",
                  "Ring mig på 010-123 45 67", "--user", LAKARE, "--db", db_url)
    [answer] = _wait("the answer", lambda: on_fk("SendMessageToRecipient"))
    assert (answer["logicalAddress"], answer["recipient"], answer["resultCode"]) == (where, FK, "OK")
    assert asked["messageId"] in answer["xml"] and "svarPa" in answer["xml"]
    _wait("HANFRFM", lambda: "HANFRFM" in codes())

    processes.cli("certificate", "revoke", certificate_id, "--reason", "FEL_PATIENT", "--user", LAKARE, "--db", db_url)
    [revocation] = _wait("the revocation", lambda: on_fk("RevokeCertificate"))
    assert (revocation["logicalAddress"], revocation["resultCode"]) == (where, "OK")
    _wait("MAKULE", lambda: "MAKULE" in codes())
    assert codes() == ["SKAPAT", "ANDRAT", "SIGNAT", "SKICKA", "NYFRFM", "HANFRFM", "MAKULE"]
    if target == "archive":
        assert [r["logicalAddress"] for r in on_fk("RegisterCertificate")] == [ARCHIVE]

    official = bool(os.environ.get(OFFICIAL_ENV))
    received = http.get(f"{recipient}/_mock/received", timeout=5).json()
    assert all(record["valid"] for record in received)
    for record in received:
        corpus = CORPORA[record["contract"]]
        for schema in [corpus.SCHEMA.ours().schema] + ([corpus.SCHEMA.official().schema] if official else []):
            assert message_errors(schema, record["xml"].encode()) == [], record["contract"]
    for record in http.get(f"{journal}/_mock/received", timeout=5).json():
        for schema in [status_update_corpus.SCHEMA.ours().schema] + (
                [status_update_corpus.SCHEMA.official().schema] if official else []):
            assert message_errors(schema, record["raw_xml"].encode()) == [], record["event_code"]
