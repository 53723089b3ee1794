"""``intygsgateway certificate ...``: the lifecycle use cases from the command line.

Output is checked on a real process: structlog caches its loggers with the stdout of their first
use, which pytest's per-test capture would close under a later in-process call.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cli import main
from cli.serve import load_demo_directory
from domain.values import CertificateStatus, EventCode, HsaId, RelationCode
from store import certificates, outbox, pdl
from store.session import transaction
from tests.builders import CLINIC, make_operable_draft

CID = "cli-cert-1"
BIN = [sys.executable, "-m", "cli"]
ROOT = Path(__file__).resolve().parents[2]
LAKARE, ADMIN, DENTIST = "SE2321000016-P001", "SE2321000016-P002", "SE2321000016-P005"


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


def test_edit_renew_replace_and_complete_from_the_command_line(
    db_url: str, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """edit stores checked answers (a bad file changes nothing, exit 2); renew and replace print the relation;
    complete without an open completion request is refused; revoking the replacement names the one to review."""
    load_demo_directory(db_url)
    with transaction(session_factory) as session:
        certificates.add_certificate(session, make_operable_draft(CID, datetime.now(UTC), content=()))
    bad = tmp_path / "bad.json"
    bad.write_text('{"content": [{"id": "x", "parts": [{"id": "x.1", "value": "v"}]}]}', encoding="utf-8")
    refused = _process(db_url, "edit", CID, "--content", str(bad), "--user", LAKARE)
    assert (refused.returncode, "content refused" in refused.stderr) == (2, True)
    assert _process(db_url, "sign", CID, "--user", LAKARE).stderr.strip().splitlines()[-1] == (
        "intygsgateway: refused: NO_ANSWERS (status DRAFT, role LAKARE)")
    assert _run(db_url, "edit", CID, "--content", str(ROOT / "docs/examples/lisjp-content.json"), "--user",
                LAKARE) == 0
    assert _run(db_url, "sign", CID, "--user", LAKARE) == 0
    renewed = _process(db_url, "renew", CID, "--user", LAKARE)
    assert renewed.returncode == 0 and f"relation FRLANG to {CID}" in renewed.stdout, renewed.stderr
    replaced = _process(db_url, "replace", CID, "--user", LAKARE)
    assert replaced.returncode == 0 and f"relation ERSATT to {CID}" in replaced.stdout
    replacement = replaced.stdout.strip().splitlines()[-2].split(":")[0]
    nothing = _process(db_url, "complete", CID, "--mode", "C", "--text", "Ingen kan.", "--user", LAKARE)
    assert nothing.stderr.strip().splitlines()[-1] == "intygsgateway: refused: NO_OPEN_COMPLETION (status SIGNED)"
    assert _run(db_url, "sign", replacement, "--user", LAKARE) == 0
    revoked = _process(db_url, "revoke", replacement, "--user", LAKARE, "--reason", "FEL_PATIENT")
    assert f"review {CID}" in revoked.stdout, revoked.stdout


def test_renew_at_the_users_unit_from_the_command_line(db_url: str, session_factory: sessionmaker[Session]) -> None:
    """renew --unit issues the draft at the user's unit; a unit they have no assignment on is refused (exit 1,
    naming the unit), and a value that is no HSA-id is a usage error (exit 2) before anything is looked up."""
    load_demo_directory(db_url)
    now = datetime.now(UTC)
    with transaction(session_factory) as session:
        certificates.add_certificate(session, make_operable_draft(
            CID, now, status=CertificateStatus.SENT, signed_at=now, signed_by=HsaId(LAKARE),
            signed_by_name="Ann Läkare", sent_at=now, sent_to="FKASSA"))
    renewed = _process(db_url, "renew", CID, "--user", DENTIST, "--unit", CLINIC)
    assert renewed.returncode == 0, renewed.stderr
    assert f"LISJP DRAFT (version 1), unit {CLINIC}, patient" in renewed.stdout
    refused = _process(db_url, "replace", CID, "--user", LAKARE, "--unit", CLINIC)
    assert (refused.returncode, refused.stderr.strip().splitlines()[-1]) == (
        1, f"intygsgateway: refused: NO_ASSIGNMENT (role LAKARE, unit {CLINIC})")
    usage = _process(db_url, "complete", CID, "--mode", "A", "--user", LAKARE, "--unit", "Sjukhuset Demo")
    assert (usage.returncode, "argument --unit: an HSA-id is" in usage.stderr) == (2, True), usage.stderr
    with transaction(session_factory) as session:
        [child] = certificates.children(session, CID)
        [event] = outbox.events_for_certificate(session, child.id)
    assert (child.relation, event.code, event.unit) == (RelationCode.FRLANG, EventCode.SKAPAT, HsaId(CLINIC))
