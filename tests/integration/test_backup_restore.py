"""deploy/postgresql/backup.sh and restore.sh on a real PostgreSQL: the PDL log stays verifiable.

Drafts are created over HTTP (each writes a PDL record), sealed and signed into checkpoints written
to the off-host checkpoint file, as a running gateway does. The shipped backup script dumps the
database and copies the file; the shipped restore script loads the dump into an empty database and
verifies the chain there with the public key and the backup's checkpoints. Records added after the
backup are then missing from the restore, and the live checkpoint file says so.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from cli.pdl_signing import generate_key
from cli.settings import Settings
from cli.wiring import pdl_signing
from store.session import UnitOfWork, make_engine, make_session_factory
from tests.envelopes import create_draft_envelope
from tests.integration.gateway_server import demo_gateway_deps, plain_session, running
from usecases.pdl_log import checkpoint_if_due, seal_all

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "postgresql"
BIN = Path(sys.executable).parent / "intygsgateway"
pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def _bindir() -> str:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"), key=lambda p: int(p.parts[4]))
    if not found:
        pytest.skip("no pg_dump under /usr/lib/postgresql")
    return str(found[-1].parent)


@pytest.fixture
def databases(pg_url: str) -> Iterator[tuple[str, str]]:
    """A source and an empty target database, dropped afterwards."""
    names = [f"backup_{uuid.uuid4().hex[:10]}", f"restored_{uuid.uuid4().hex[:10]}"]
    admin = make_engine(pg_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for name in names:
            connection.execute(text(f"CREATE DATABASE {name}"))
    base = make_url(pg_url)
    try:
        yield base.set(database=names[0]).render_as_string(False), base.set(database=names[1]).render_as_string(False)
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for name in names:
                connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def _libpq(url: str) -> dict[str, str]:
    parsed = make_url(url)
    return {"PGHOST": str(parsed.host), "PGPORT": str(parsed.port), "PGUSER": str(parsed.username),
            "PGDATABASE": str(parsed.database)}


def _sign_what_is_there(settings: Settings) -> None:
    """Seal every record and sign a checkpoint of the head, as the sealer does, appending to the file."""
    signing = pdl_signing(settings)
    assert signing is not None
    engine = make_engine(settings.database_url)
    try:
        uow = UnitOfWork(make_session_factory(engine))
        seal_all(uow, wait=True)
        assert checkpoint_if_due(uow, replace(signing, every_seconds=0.0), wait=True) is not None
    finally:
        engine.dispose()


def _drafts(settings: Settings, count: int) -> None:
    _, deps = demo_gateway_deps(settings.database_url, pdl_seal_seconds=0.0)
    with running(deps, settings.database_url) as gateway, plain_session() as http:
        for _ in range(count):
            answer = http.post(gateway.url + "/services/create-draft-certificate/v3.0", data=create_draft_envelope(),
                               headers={"Content-Type": "text/xml"})
            assert b">OK<" in answer.content


def test_a_restored_backup_verifies_against_its_signed_checkpoints(
    databases: tuple[str, str], tmp_path: Path
) -> None:
    """backup.sh, then restore.sh into an empty database: `pdl verify` proves the chain with the public key."""
    source, target = databases
    bindir = _bindir()
    generate_key(tmp_path / "pdl.key", tmp_path / "pdl.pub")
    checkpoints = tmp_path / "pdl-checkpoints.jsonl"
    settings = Settings(database_url=source, pdl_signing_key=str(tmp_path / "pdl.key"),
                        pdl_checkpoint_file=str(checkpoints))
    _drafts(settings, 3)
    _sign_what_is_there(settings)

    env = {**os.environ, **_libpq(source), "CHECKPOINTS": str(checkpoints), "PG_BINDIR": bindir}
    backup = subprocess.run(["bash", str(DEPLOY / "backup.sh"), str(tmp_path / "backups")], env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert backup.returncode == 0, backup.stderr
    folder = Path(backup.stdout.strip().splitlines()[-1])
    assert sorted(p.name for p in folder.iterdir()) == ["SHA256SUMS", "intygsgateway.dump", "pdl-checkpoints.jsonl"]
    assert oct(folder.stat().st_mode & 0o777) == "0o700"

    # Life goes on after the backup: another record, another checkpoint in the live file.
    _drafts(settings, 1)
    _sign_what_is_there(settings)

    restore_env = {**os.environ, **_libpq(target), "PG_BINDIR": bindir, "INTYGSGATEWAY": str(BIN),
                   "INTYGSGATEWAY_DATABASE_URL": target}
    restored = subprocess.run(["bash", str(DEPLOY / "restore.sh"), str(folder), str(tmp_path / "pdl.pub")],
                              env=restore_env, capture_output=True, text=True, timeout=120, check=False)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "checkpoint" in restored.stdout.lower()

    # Checked against the live checkpoint file, the restore is missing what came after the backup: visibly.
    later = subprocess.run([str(BIN), "pdl", "verify", "--no-seal", "--public-key", str(tmp_path / "pdl.pub"),
                            "--checkpoints", str(checkpoints), "--db", target],
                           env=restore_env, capture_output=True, text=True, timeout=120, check=False)
    assert later.returncode == 1, later.stdout + later.stderr

    # A dump that does not match its checksum is not restored at all.
    with (folder / "intygsgateway.dump").open("ab") as dump:
        dump.write(b"x")
    tampered = subprocess.run(["bash", str(DEPLOY / "restore.sh"), str(folder), str(tmp_path / "pdl.pub")],
                              env=restore_env, capture_output=True, text=True, timeout=120, check=False)
    assert tampered.returncode != 0
