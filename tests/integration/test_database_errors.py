"""A wrong, unreachable or un-migrated database explains itself, and only `serve` and `db upgrade` create one.

Every command that uses the database answers exit 1 with one stderr line naming the URL (password
masked), the cause and the fix, and leaves no file or table behind; `db check` reports a missing or
foreign schema instead of creating it.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from cli import main
from store.migrate import head, make_config
from store.session import make_engine

Capture = pytest.CaptureFixture[str]

# Commands that read or change data; none of them may create a database or a schema.
COMMANDS = [
    ["routing", "list"],
    ["routing", "import", "{file}"],
    ["routing", "explain", "--contract", "urn:x", "--address", "SE1"],
    ["routing", "check"],
    ["units", "show", "SE2321000016-1000"],
    ["outbox", "status"],
    ["resend", "--unit", "SE2321000016-1000", "--reason", "test", "--dry-run"],
    ["pdl", "verify"],
    ["certificate", "show", "c-1", "--user", "SE2321000016-P001"],
    ["directory", "import", "{file}"],
    ["db", "check"],
]


def _run(capsys: Capture, args: list[str], tmp_path: Path) -> tuple[int, str]:
    source = tmp_path / "source.json"
    source.write_text('{"format": "intygsgateway-routing/1", "routes": []}', encoding="utf-8")
    code = main([part.format(file=source) for part in args])
    return code, capsys.readouterr().err


def _tables(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return sorted(inspect(connection).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_a_missing_sqlite_file_is_named_and_not_created(args: list[str], tmp_path: Path, capsys: Capture) -> None:
    """`--db` at a file that does not exist: exit 1, the file, the fix, and still no file."""
    missing = tmp_path / "typo" / "gw.db"
    (tmp_path / "typo").mkdir()
    code, err = _run(capsys, [*args, "--db", f"sqlite:///{missing}"], tmp_path)
    assert code == 1
    assert err == (f"intygsgateway: cannot open the database at sqlite:///{missing}: the file {missing} does not "
                   "exist. Fix: check that --db or INTYGSGATEWAY_DATABASE_URL names the gateway's database, or "
                   "create the database with `intygsgateway db upgrade`\n")
    assert not missing.exists()


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_an_empty_database_says_run_db_upgrade_and_stays_empty(
    args: list[str], blank_db_url: str, tmp_path: Path, capsys: Capture
) -> None:
    """An empty database (a new PostgreSQL database, an empty SQLite file): no schema, run `db upgrade`."""
    make_engine(blank_db_url).dispose()
    if blank_db_url.startswith("sqlite"):
        Path(blank_db_url.removeprefix("sqlite:///")).touch()
    code, err = _run(capsys, [*args, "--db", blank_db_url], tmp_path)
    assert code == 1 and err.count("\n") == 1
    assert "has no intygsgateway schema (it is empty). Fix: run `intygsgateway db upgrade`" in err
    assert _tables(blank_db_url) == []


def test_db_check_on_a_foreign_database_reports_it_and_db_upgrade_leaves_it_alone(
    blank_db_url: str, capsys: Capture
) -> None:
    """Another application's tables without our migration record: check says so, upgrade refuses to mix in."""
    engine = make_engine(blank_db_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE journal_notes (id INTEGER PRIMARY KEY, note TEXT)"))
    finally:
        engine.dispose()
    for args in (["db", "check"], ["db", "upgrade"]):
        assert main([*args, "--db", blank_db_url]) == 1
        err = capsys.readouterr().err
        assert "holds tables but no intygsgateway schema" in err and "another application's database" in err
    assert _tables(blank_db_url) == ["journal_notes"]


def test_an_outdated_database_names_both_revisions(blank_db_url: str, tmp_path: Path, capsys: Capture) -> None:
    """A database one migration behind: its revision, the one needed, and `db upgrade`; which then fixes it."""
    engine = make_engine(blank_db_url)
    try:
        config = make_config(engine)
        previous = ScriptDirectory.from_config(config).get_revision(head()).down_revision
        assert isinstance(previous, str)
        command.upgrade(config, previous)
    finally:
        engine.dispose()
    code, err = _run(capsys, ["routing", "list", "--db", blank_db_url], tmp_path)
    assert code == 1
    assert f"is at schema revision {previous}, this version needs {head()}. Fix: run `intygsgateway db upgrade`" in err
    assert main(["db", "upgrade", "--db", blank_db_url]) == 0
    assert main(["db", "check", "--db", blank_db_url]) == 0


def test_a_newer_releases_database_is_not_touched(db_url: str, capsys: Capture) -> None:
    """A revision this version does not know: named, and `db upgrade` refuses rather than guessing."""
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        engine.dispose()
    for args in (["routing", "list"], ["db", "upgrade"], ["db", "check"]):
        assert main([*args, "--db", db_url]) == 1
        assert "is at schema revision 9999, which this version does not know" in capsys.readouterr().err


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("args", [["routing", "list"], ["db", "upgrade"], ["db", "check"], ["worker"]],
                         ids=lambda a: " ".join(a))
def test_an_unreachable_server_is_named_with_the_password_masked(args: list[str], capsys: Capture) -> None:
    """No server at the URL: the URL without its password, the driver's reason, and what to check."""
    port = _closed_port()
    code = main([*args, "--db", f"postgresql://gw:s3cret@127.0.0.1:{port}/gw"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert err.startswith(f"intygsgateway: cannot open the database at postgresql://gw:***@127.0.0.1:{port}/gw: ")
    assert "refused" in err.lower() and "Fix: check that the database server runs" in err
    assert "s3cret" not in err


@pytest.mark.postgres
def test_a_postgres_database_that_does_not_exist_is_named(pg_url: str, capsys: Capture) -> None:
    """The server answers but the database is not there: the server's own words, and who creates it."""
    url = pg_url.rsplit("/", 1)[0] + "/no_such_gateway_db"
    assert main(["db", "check", "--db", url]) == 1
    err = capsys.readouterr().err
    assert 'database "no_such_gateway_db" does not exist' in err
    assert "a PostgreSQL database is created by its administrator" in err
