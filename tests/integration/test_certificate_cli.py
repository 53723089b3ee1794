"""``intygsgateway certificate ...``: the lifecycle use cases from the command line.

Output is checked on a real process: structlog caches its loggers with the stdout of their first
use, which pytest's per-test capture would close under a later in-process call.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cli import main
from cli.serve import load_demo_directory
from domain.values import CertificateStatus, EventCode
from store import certificates, outbox, pdl
from store.session import transaction
from tests.builders import make_operable_draft

CID = "cli-cert-1"
BIN = [sys.executable, "-m", "cli"]
LAKARE, ADMIN = "SE2321000016-P001", "SE2321000016-P002"


@pytest.fixture
def stored(db_url: str, session_factory: sessionmaker[Session]) -> str:
    load_demo_directory(db_url)
    with transaction(session_factory) as session:
        certificates.add_certificate(session, make_operable_draft(CID, datetime.now(UTC)))
    return db_url


def _run(db_url: str, *args: str) -> int:
    return main(["certificate", *args, "--db", db_url])


def _process(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BIN, "certificate", *args, "--db", db_url], capture_output=True, text=True, timeout=120, check=False
    )


def test_ready_sign_send_revoke_from_the_command_line(stored: str, session_factory: sessionmaker[Session]) -> None:
    """Each command changes the status and queues its event with a PDL record."""
    assert _run(stored, "ready", CID, "--user", ADMIN) == 0
    assert _run(stored, "sign", CID, "--user", LAKARE) == 0
    assert _run(stored, "send", CID, "--user", LAKARE) == 0
    vague = _process(stored, "revoke", CID, "--user", LAKARE, "--reason", "ANNAT_ALLVARLIGT_FEL", "--description", ".")
    assert vague.returncode == 1
    assert vague.stderr.strip().splitlines()[-1].startswith("intygsgateway: refused: DESCRIPTION_TOO_VAGUE")
    done = _process(stored, "revoke", CID, "--user", LAKARE, "--reason", "FEL_PATIENT")
    assert done.returncode == 0, done.stderr
    assert f"{CID}: LISJP REVOKED (version 5)" in done.stdout
    with transaction(session_factory) as session:
        codes = [e.code for e in outbox.events_for_certificate(session, CID)]
        activities = [r.activity for r in pdl.records_for_certificate(session, CID)]
    assert codes == [EventCode.KFSIGN, EventCode.SIGNAT, EventCode.SKICKA, EventCode.MAKULE]
    assert activities == ["Skriva", "Signera", "Utskrift", "Radera"]


def test_show_json_prints_the_certificate_and_logs_a_read(stored: str, session_factory: sessionmaker[Session]) -> None:
    """show --json is machine-readable (the last stdout lines; logs come first) and writes a Läsa record."""
    done = _process(stored, "show", CID, "--user", ADMIN, "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout[done.stdout.index("{\n"):])
    assert (data["certificate"]["id"], data["certificate"]["status"], data["questions"]) == (CID, "DRAFT", [])
    with transaction(session_factory) as session:
        assert [r.activity for r in pdl.records_for_certificate(session, CID)] == ["Läsa"]


def test_refusal_exits_1_with_the_reason_and_changes_nothing(
    stored: str, session_factory: sessionmaker[Session]
) -> None:
    """A vårdadministratör may not sign: one stderr line naming the reason and role, exit 1."""
    done = _process(stored, "sign", CID, "--user", ADMIN)
    assert done.returncode == 1
    assert (
        done.stderr.strip().splitlines()[-1]
        == "intygsgateway: refused: ROLE_NOT_ALLOWED (status DRAFT, role VARDADMINISTRATOR)"
    )
    assert _run(stored, "delete", "no-such-id", "--user", ADMIN) == 1
    with transaction(session_factory) as session:
        current = certificates.get_certificate(session, CID)
    assert current is not None and current.status is CertificateStatus.DRAFT


def test_delete_removes_the_draft(stored: str, session_factory: sessionmaker[Session]) -> None:
    """delete removes the row and queues RADERA."""
    assert _run(stored, "delete", CID, "--user", ADMIN) == 0
    with transaction(session_factory) as session:
        assert certificates.get_certificate(session, CID) is None
        assert [e.code for e in outbox.events_for_certificate(session, CID)] == [EventCode.RADERA]
