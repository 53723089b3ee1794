"""A TAK export with exact duplicates and a conflicting pair, through the command, explain and the dispatcher.

The export of ``tests.interop.tak.field_catalogue`` (both JSON shapes) is loaded with `routing
import` on SQLite and PostgreSQL; `routing explain` then answers VP006 for the conflicting key inside
its window and the single URL elsewhere, and so does the status-update dispatcher, which records
VP006 without calling anyone inside the window and delivers to the one route after it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cli import main
from routing.provider import StaticProvider
from simulator.journal import MockJournal
from simulator.server import running
from store import routing as store_routing
from store.outbox import event_report
from store.session import transaction
from tests.integration.outbox_env import Clock, add_certificates, make_dispatcher
from tests.interop import tak

Capture = pytest.CaptureFixture[str]
UNIT = "SE2321000016-1000"


@pytest.fixture
def journal() -> Iterator[tuple[MockJournal, str]]:
    simulator = MockJournal()
    with running(simulator) as url:
        yield simulator, url


@pytest.mark.parametrize("shape", [tak.snapshot_numeric, tak.export_natural], ids=["snapshot", "export"])
def test_routing_import_loads_it_and_explain_answers_vp006_only_inside_the_window(
    shape: object, db_url: str, tmp_path: Path, capsys: Capture
) -> None:
    """The import is published with its warnings counted; explain: VP006 (exit 6) in December, the URL otherwise."""
    export = tmp_path / "tak-export.json"
    export.write_text(json.dumps(shape(tak.field_catalogue())), encoding="utf-8")  # type: ignore[operator]
    assert main(["routing", "import", str(export), "--db", db_url, "--on", "2026-11-21"]) == 0
    out = capsys.readouterr().out
    assert "warnings: duplicate: 3" in out and "warnings: overlapping-validity: 1" in out
    assert "published version 1: 5 routes, 2 access rights" in out

    def explain(day: str) -> tuple[int, list[str]]:
        code = main(["routing", "explain", "--contract", tak.STATUS_UPDATE, "--address", UNIT, "--on", day,
                     "--db", db_url])
        return code, capsys.readouterr().out.splitlines()

    code, lines = explain(tak.CONFLICT_FROM)
    assert (code, lines[0]) == (6, "VP006 more than one route matches the logical address and service contract")
    assert tak.JOURNAL_URL in lines[-2] and tak.OTHER_URL in lines[-2]  # nearest: both rows named
    for day in ("2026-11-30", "2027-01-01"):
        code, lines = explain(day)
        assert (code, lines[0]) == (0, tak.JOURNAL_URL), day
    assert main(["routing", "import", str(export), "--db", db_url, "--strict"]) == 1
    assert "refused (strict): 5 warning(s)" in capsys.readouterr().err


def test_the_dispatcher_answers_vp006_inside_the_window_and_delivers_outside_it(
    session_factory: sessionmaker[Session], journal: tuple[MockJournal, str], tmp_path: Path, db_url: str,
    capsys: Capture,
) -> None:
    """A SKAPAT for the conflicting unit in December is held with VP006 and no call; in January a new one is
    delivered to the single route, and so is the held one, retried on its schedule once the route resolves."""
    simulator, url = journal
    export = tmp_path / "tak-export.json"
    export.write_text(json.dumps(tak.export_natural(tak.field_catalogue(journal_url=url))), encoding="utf-8")
    assert main(["routing", "import", str(export), "--db", db_url]) == 0
    capsys.readouterr()
    with transaction(session_factory) as session:
        catalogue = StaticProvider(store_routing.load_catalogue(session))
    december = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
    [held] = add_certificates(session_factory, ["cert-december"], unit=UNIT, at=december)
    dispatcher, sender = make_dispatcher(session_factory, catalogue, Clock(december))
    try:
        assert dispatcher.run_batch() == 1
    finally:
        sender.close()
    with transaction(session_factory) as session:
        report = event_report(session, held)
    assert report is not None and report.attempts[0]["url"] is None
    assert str(report.attempts[0]["text"]).startswith("VP006")
    assert simulator.received() == []

    january = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
    [sent] = add_certificates(session_factory, ["cert-january"], unit=UNIT, at=january)
    dispatcher, sender = make_dispatcher(session_factory, catalogue, Clock(january))
    try:
        dispatcher.run_batch()
    finally:
        sender.close()
    with transaction(session_factory) as session:
        delivered = event_report(session, sent)
    assert delivered is not None and delivered.event["status"] == "DELIVERED"
    assert sorted(str(record.certificate_id) for record in simulator.received()) == ["cert-december", "cert-january"]
    assert date(2027, 1, 5) > date.fromisoformat(tak.CONFLICT_TO)
