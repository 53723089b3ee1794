"""`intygsgateway routing ...` and `units show` against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cli import main
from domain.values import HsaId
from store import routing as store
from store.session import transaction
from store.units import register_integrated_unit
from tests.unit.domain.hsa_samples import HSA_FILE
from tests.unit.routing.tak_samples import NS, OTHER, export_natural

Capture = pytest.CaptureFixture[str]


def _write(tmp_path: Path, name: str, document: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


def _run(capsys: Capture, *argv: str) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, (captured.out + captured.err).splitlines()


def _import_directory(db_url: str, capsys: Capture) -> None:
    path = str(resources.files("cli").joinpath("demo_directory.json"))
    assert _run(capsys, "directory", "import", path, "--db", db_url)[0] == 0


def _changed_export() -> dict[str, Any]:
    """The sample export with one URL changed, one route removed and one access right added."""
    document = export_natural()
    data = document["data"]
    data["anropsadress"].append({"id": 41, "adress": "https://journal.example/csu/v2",
                                 "relationships": {"rivtaprofil": "rivtabp21",
                                                   "tjanstekomponent": "SE2321000016-J001"}})
    data["vagval"][0]["relationships"]["anropsadress"] = "https://journal.example/csu/v2"
    del data["vagval"][1]
    data["anropsbehorighet"].append({"id": 61, "fromTidpunkt": "2026-01-01T00:00:00+0100",
                                     "tomTidpunkt": "2126-01-01T00:00:00+0100",
                                     "relationships": {"logiskAdress": "*", "tjanstekonsument": "SE-NEW-CONSUMER",
                                                       "tjanstekontrakt": NS}})
    return document


def test_import_then_dry_run_of_a_changed_export_prints_the_right_diff(
        db_url: str, tmp_path: Path, capsys: Capture) -> None:
    """The dry run lists exactly the changed, removed and added rows, and writes nothing."""
    first = _write(tmp_path, "tak.json", export_natural())
    code, out = _run(capsys, "routing", "import", first, "--db", db_url, "--by", "alice")
    assert code == 0 and out[-1] == "published version 1: 2 routes, 1 access rights"
    changed = _write(tmp_path, "tak2.json", _changed_export())
    code, out = _run(capsys, "routing", "import", changed, "--db", db_url, "--dry-run", "--force")
    assert code == 0
    text = "\n".join(out)
    assert "routes changed: 1" in text and "https://journal.example/csu/v2" in text
    assert "routes removed: 1" in text and f"- {OTHER} SE2321000016-0001" in text
    assert "access rights added: 1" in text and "SE-NEW-CONSUMER may call for *" in text
    assert "routes added" not in text and "access rights removed" not in text
    assert out[-1] == "dry run: nothing changed"
    code, out = _run(capsys, "routing", "versions", "--db", db_url)
    assert len(out) == 1 and out[0].startswith("1\t") and "\talice\timport\t" in out[0]


def test_partial_export_is_refused_unless_forced_then_rolled_back(db_url: str, tmp_path: Path, capsys: Capture) -> None:
    """Losing two of three rows needs --force; rollback restores the previous version as a new one."""
    _run(capsys, "routing", "import", _write(tmp_path, "tak.json", export_natural()), "--db", db_url)
    document = export_natural()
    del document["data"]["vagval"][1], document["data"]["anropsbehorighet"][0]
    partial = _write(tmp_path, "partial.json", document)
    code, out = _run(capsys, "routing", "import", partial, "--db", db_url)
    assert code == 1 and any("refused (would-shrink)" in line for line in out)
    assert _run(capsys, "routing", "import", partial, "--db", db_url, "--force")[0] == 0
    code, out = _run(capsys, "routing", "rollback", "1", "--db", db_url, "--by", "bob")
    assert code == 0 and out[-1] == "published version 3: 2 routes, 1 access rights"
    code, out = _run(capsys, "routing", "explain", "--contract", NS, "--address", "SE2321000016-1000", "--db", db_url)
    assert out[0] == "https://journal.example/csu/rivtabp21"


def test_empty_export_never_wipes_the_catalogue(db_url: str, tmp_path: Path, capsys: Capture) -> None:
    """An export with no rows is refused without --force and the routes stay."""
    _run(capsys, "routing", "import", _write(tmp_path, "tak.json", export_natural()), "--db", db_url)
    empty = _write(tmp_path, "empty.json", {"format": "intygsgateway-routing/1", "routes": [], "accessRights": []})
    code, out = _run(capsys, "routing", "import", empty, "--db", db_url)
    assert code == 1 and any("would-empty" in line for line in out)
    assert _run(capsys, "routing", "list", "--db", db_url)[1][-1] == "2 row(s)"


def test_import_with_errors_is_refused_whole(db_url: str, tmp_path: Path, capsys: Capture) -> None:
    """One dangling reference refuses the import; nothing is written."""
    document = export_natural()
    document["data"]["vagval"][0]["relationships"]["anropsadress"] = "https://nowhere"
    code, out = _run(capsys, "routing", "import", _write(tmp_path, "bad.json", document), "--db", db_url)
    assert code == 1 and any("dangling-reference" in line for line in out)
    assert _run(capsys, "routing", "versions", "--db", db_url)[1] == []


def test_explain_prints_url_then_trace_and_exits_with_the_vp_number(db_url: str, capsys: Capture) -> None:
    """Climbing from a sub-unit finds the unit's route; VP004 and VP007 exit 4 and 7."""
    _import_directory(db_url, capsys)
    assert _run(capsys, "routing", "add", "--contract", NS, "--address", "SE2321000016-1000", "--url",
                "https://j/csu", "--producer", "SE-J", "--db", db_url)[0] == 0
    assert _run(capsys, "routing", "add-access", "--consumer", "SE-C", "--contract", NS, "--address",
                "SE2321000016-0001", "--db", db_url)[0] == 0
    code, out = _run(capsys, "routing", "explain", "--contract", NS, "--address", "se2321000016-1003",
                     "--consumer", "SE-C", "--db", db_url)
    assert code == 0
    assert out[0] == "https://j/csu"
    assert out[1] == "trace: se2321000016-1003,(parent),SE2321000016-1000"
    assert out[3] == "access: SE-C allowed, tried se2321000016-1003,(parent),SE2321000016-1000,(parent)," \
                     "SE2321000016-0001"
    code, out = _run(capsys, "routing", "explain", "--contract", NS, "--address", "SE2321000016-2000", "--db", db_url)
    assert (code, out[0]) == (4, "VP004 no route for the logical address and service contract")
    assert out[1] == "trace: SE2321000016-2000,(parent),SE2321000016-0001,(parent),SE,(default),*"


def test_explain_puts_the_url_first_only_when_the_consumer_may_call(db_url: str, capsys: Capture) -> None:
    """A script reading the first line must not believe a call passes that VP007 refuses: the code comes
    first, then the route (tried first, and found) and the access right's trace in the order tried."""
    _import_directory(db_url, capsys)
    assert _run(capsys, "routing", "add", "--contract", NS, "--address", "SE2321000016-1000", "--url",
                "https://j/csu", "--producer", "SE-J", "--db", db_url)[0] == 0
    code, out = _run(capsys, "routing", "explain", "--contract", NS, "--address", "SE2321000016-1003",
                     "--consumer", "SE-OTHER", "--db", db_url)
    assert code == 7
    assert out[:2] == ["VP007 the consumer has no access right", "trace: SE2321000016-1003,(parent),SE2321000016-1000"]
    assert out[2].startswith("route: SE2321000016-1000 -> 'https://j/csu'")
    assert out[3] == ("access: SE-OTHER refused, tried SE2321000016-1003,(parent),SE2321000016-1000,(parent),"
                      "SE2321000016-0001,(parent),SE,(default),*")
    code, out = _run(capsys, "routing", "explain", "--contract", NS, "--address", "SE2321000016-1003", "--db", db_url)
    assert (code, out[0]) == (0, "https://j/csu")


def test_remove_and_list(db_url: str, capsys: Capture) -> None:
    """remove deletes exactly the matching route; a remove matching nothing fails."""
    for address in ("SE-A", "SE-B"):
        _run(capsys, "routing", "add", "--contract", NS, "--address", address, "--url", f"https://{address}",
             "--db", db_url)
    assert _run(capsys, "routing", "remove", "--contract", NS, "--address", "se-a", "--db", db_url)[0] == 0
    assert _run(capsys, "routing", "list", "--db", db_url)[1] == [
        f"{NS}\tSE-B -> 'https://SE-B' (RIVTABP21, producer -) valid 0001-01-01..9999-12-31", "1 row(s)"]
    assert _run(capsys, "routing", "remove", "--contract", NS, "--address", "SE-A", "--db", db_url)[0] == 1


def test_export_writes_what_import_reads(db_url: str, tmp_path: Path, capsys: Capture) -> None:
    """Our export of an imported TAK file imports again as no change."""
    _run(capsys, "routing", "import", _write(tmp_path, "tak.json", export_natural()), "--db", db_url)
    out_file = tmp_path / "ours.json"
    assert _run(capsys, "routing", "export", str(out_file), "--db", db_url)[0] == 0
    code, out = _run(capsys, "routing", "import", str(out_file), "--db", db_url)
    assert (code, out[-1]) == (0, "no change: nothing written")


def _integrate(session_factory: sessionmaker[Session], unit: str) -> None:
    with transaction(session_factory) as session:
        register_integrated_unit(session, HsaId(unit), HsaId("SE2321000016-0001"), datetime(2026, 11, 1, tzinfo=UTC))


def test_check_and_units_show(db_url: str, session_factory: sessionmaker[Session], capsys: Capture) -> None:
    """A unit without a status-update route is a finding (exit 1); units show prints its status."""
    _import_directory(db_url, capsys)
    _integrate(session_factory, "SE2321000016-2000")
    _run(capsys, "routing", "add", "--contract", NS, "--address", "SE2321000016-1000", "--url", "https://j",
         "--producer", "SE-J", "--to", "2026-12-01", "--db", db_url)
    code, out = _run(capsys, "routing", "check", "--db", db_url, "--on", "2026-11-21")
    assert code == 1
    assert out[0].startswith("no-route\tSE2321000016-2000\tVP004")
    assert out[1].startswith("route-expiring\tSE2321000016-1000")
    code, out = _run(capsys, "units", "show", "SE2321000016-2000", "--db", db_url, "--on", "2026-11-21")
    assert code == 0
    assert out[1].startswith("integrated: 2026-11-01 00:00:00Z") and out[2] == "care giver: SE2321000016-0001"
    assert out[3] == "HSA parents: SE2321000016-0001"
    assert out[5].startswith("  route: VP004")
    assert _run(capsys, "units", "show", "SE2321000016-1003", "--db", db_url)[0] == 1


def test_versions_keep_routing_keep_versions(db_url: str, tmp_path: Path, capsys: Capture,
                                             session_factory: sessionmaker[Session]) -> None:
    """With routing_keep_versions=1 an older version cannot be rolled back to."""
    config = tmp_path / "gw.toml"
    config.write_text("routing_keep_versions = 1\n", encoding="utf-8")
    for address in ("SE-A", "SE-B"):
        _run(capsys, "routing", "add", "--contract", NS, "--address", address, "--url", "https://x",
             "--db", db_url, "--config", str(config))
    code, out = _run(capsys, "routing", "rollback", "1", "--db", db_url)
    assert code == 1 and out == ["intygsgateway: catalogue version 1 is not kept"]
    with transaction(session_factory) as session:
        assert [v.kept for v in store.versions(session)] == [True, False]


def test_hsa_unit_file_import_feeds_the_climb(db_url: str, tmp_path: Path, capsys: Capture) -> None:
    """`directory import FILE.xml` takes the platform's HSA file; explain then climbs its DN tree."""
    path = tmp_path / "hsa.xml"
    path.write_bytes(HSA_FILE)
    code, out = _run(capsys, "directory", "import", str(path), "--db", db_url)
    assert code == 0 and "care_givers=1" in out[-1] and "units=2" in out[-1]
    _run(capsys, "routing", "add", "--contract", NS, "--address", "SE2321000016-0001", "--url", "https://cg",
         "--db", db_url)
    code, out = _run(capsys, "routing", "explain", "--contract", NS, "--address", "SE2321000016-1003", "--db", db_url)
    assert out[:2] == ["https://cg", "trace: SE2321000016-1003,(parent),SE2321000016-1000,(parent),SE2321000016-0001"]
