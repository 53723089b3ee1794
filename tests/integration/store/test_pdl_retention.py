"""Retention and search of the PDL log on SQLite and PostgreSQL: export then purge, the chain still verifies.

Also the ``pdl search`` and ``pdl purge`` commands, which run the same code.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog
from sqlalchemy.orm import Session, sessionmaker

from cli import main
from cli.settings import Settings
from cli.worker import scheduled_jobs
from domain.pdl import PdlQuery
from domain.pdl_chain import GENESIS, ChainedRecord, Link, verify
from scheduler.pdl_retention import export_and_purge, retention_cutoff, retention_job
from store import pdl
from store.session import UnitOfWork, transaction
from tests.integration.store.test_pdl_chain import record, seal_everything
from tests.integration.store.test_pdl_chain import verify as verify_stored

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _at(year: int) -> datetime:
    return datetime(year, 6, 1, 9, 0, tzinfo=UTC)


def fill_years(factory: sessionmaker[Session]) -> None:
    """Records from 2010, 2011, 2025 and a late-logged 2012 access, appended in that order."""
    with transaction(factory) as session:
        pdl.append_all(session, [
            record(1, start_date=_at(2010), patient_id="194011306125"),
            record(2, start_date=_at(2011), user_id="SE2321000016-P002"),
            record(3, start_date=_at(2025), user_care_unit_id="SE2321000016-2000"),
            record(4, start_date=_at(2012)),
        ])  # fmt: skip


def test_purge_exports_the_old_prefix_and_the_kept_chain_verifies(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """Before 2015: the 2010 and 2011 records go (exported with links); 2025 and the late 2012 stay."""
    fill_years(session_factory)
    export = tmp_path / "archive.jsonl"
    report = export_and_purge(UnitOfWork(session_factory), _at(2015), export, NOW)
    assert (report.purged, report.anchor_seq) == (2, 2)
    lines = [json.loads(line) for line in export.read_text(encoding="utf-8").splitlines()]
    assert [line["log_id"] for line in lines] == ["log-1", "log-2"]
    kept = verify_stored(session_factory)
    assert kept.broken is None and kept.checked == 2
    with transaction(session_factory) as session:
        assert [r.log_id for r in pdl.search(session, PdlQuery(start=_at(2000)))] == ["log-4", "log-3"]


def test_exported_segment_verifies_on_its_own(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    """The archive holds each record's link: it verifies from genesis to the anchor."""
    fill_years(session_factory)
    export = tmp_path / "archive.jsonl"
    report = export_and_purge(UnitOfWork(session_factory), _at(2015), export, NOW)
    with transaction(session_factory) as session:
        anchor = pdl.latest_anchor(session)
    chained = []
    for line in export.read_text(encoding="utf-8").splitlines():
        values = json.loads(line)
        link = Link(values.pop("seq"), values.pop("prev_hash"), values.pop("hash"))
        values["start_date"] = datetime.fromisoformat(values["start_date"])
        chained.append(ChainedRecord(record(0, **values), link))
    assert report.anchor_seq == anchor.seq
    assert verify(GENESIS, chained, anchor).broken is None


def test_purge_takes_only_sealed_records(session_factory: sessionmaker[Session]) -> None:
    """A 2009 record committed after the sealing round that preceded a purge stays, and is sealed after the anchor."""
    fill_years(session_factory)
    assert seal_everything(session_factory) == 4
    with transaction(session_factory) as session:
        pdl.append(session, record(5, start_date=_at(2009)))
    with transaction(session_factory) as session:
        last = pdl.purge_boundary(session, _at(2015))
        assert last == 2
        assert pdl.purge_through(session, last, _at(2015), NOW) == 2
    kept = verify_stored(session_factory)
    assert kept.broken is None and kept.checked == 3 and kept.last.seq == 5
    with transaction(session_factory) as session:
        assert [r.log_id for r in pdl.search(session, PdlQuery(end=_at(2010)))] == ["log-5"]


def test_nothing_old_enough_purges_nothing(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    """When the first record is still within the period, nothing is written or deleted."""
    fill_years(session_factory)
    report = export_and_purge(UnitOfWork(session_factory), _at(2009), tmp_path / "x.jsonl", NOW)
    assert report == type(report)(0, None, None)
    assert not (tmp_path / "x.jsonl").exists()


def test_failed_export_deletes_nothing(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    """An export file that already exists is never overwritten, and then no record is purged."""
    fill_years(session_factory)
    existing = tmp_path / "archive.jsonl"
    existing.write_text("earlier archive\n", encoding="utf-8")
    with pytest.raises(FileExistsError):
        export_and_purge(UnitOfWork(session_factory), _at(2015), existing, NOW)
    assert verify_stored(session_factory).checked == 4
    assert existing.read_text(encoding="utf-8") == "earlier archive\n"


def test_retention_job_purges_what_is_older_than_the_period(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """With 10 years from 2026-11-21, the 2010 and 2011 records go; the export is named for the run."""
    fill_years(session_factory)
    with structlog.testing.capture_logs() as logs:
        report = retention_job(UnitOfWork(session_factory), lambda: NOW, 10, tmp_path / "exports")
    assert report.purged == 2
    assert [(e["event"], e["purged"], e["anchor_seq"]) for e in logs] == [("pdl_retention_run", 2, 2)]
    assert report.export == tmp_path / "exports" / "pdl-20261121T120000Z.jsonl"


def test_retention_cutoff_handles_leap_days() -> None:
    """29 February minus ten years is 28 February."""
    assert retention_cutoff(datetime(2028, 2, 29, tzinfo=UTC), 10) == datetime(2018, 2, 28, tzinfo=UTC)


def test_purge_command_exports_then_verify_passes(
    db_url: str, session_factory: sessionmaker[Session], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`pdl purge --dry-run` changes nothing; `pdl purge --before --export` purges; `pdl verify` still passes."""
    fill_years(session_factory)
    export = tmp_path / "out.jsonl"
    assert main(["pdl", "purge", "--db", db_url, "--before", "2015-01-01", "--export", str(export), "--dry-run"]) == 0
    assert "would purge 2 records" in capsys.readouterr().out and not export.exists()
    assert main(["pdl", "purge", "--db", db_url, "--before", "2015-01-01", "--export", str(export)]) == 0
    assert "purged 2 records" in capsys.readouterr().out and export.exists()
    assert main(["pdl", "verify", "--db", db_url]) == 0


def test_search_command_writes_a_patient_extract(
    db_url: str, session_factory: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    """By patient as CSV and JSON; by unit (user's or resource's), user and time window as a table."""
    fill_years(session_factory)
    assert main(["pdl", "search", "--db", db_url, "--patient", "194011306125", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(row["log_id"], row["user_care_unit_id"], row["purpose"]) for row in rows] == [
        ("log-1", "SE2321000016-1000", "Vård och behandling")
    ]
    assert main(["pdl", "search", "--db", db_url, "--user", "se2321000016-p002", "--format", "json"]) == 0
    assert [r["log_id"] for r in json.loads(capsys.readouterr().out)] == ["log-2"]
    assert main(["pdl", "search", "--db", db_url, "--unit", "SE2321000016-2000"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 records"
    assert main(["pdl", "search", "--db", db_url, "--care-giver", "SE2321000016-0001",
                 "--from", "2011-01-01", "--to", "2013-01-01", "--format", "json"]) == 0
    assert [r["log_id"] for r in json.loads(capsys.readouterr().out)] == ["log-2", "log-4"]


def test_search_without_criteria_is_a_usage_error(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A search must say what it looks for: the whole log is not an extract."""
    assert main(["pdl", "search", "--db", db_url]) == 2
    assert "at least one" in capsys.readouterr().err


def test_worker_schedules_the_retention_job_nightly(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    """The elected worker runs `pdl_retention` daily at 03:15 UTC with the settings' period and folder."""
    fill_years(session_factory)
    settings = Settings(pdl_retention_years=10, pdl_export_dir=str(tmp_path / "archive"))
    (job,) = [job for job in scheduled_jobs(settings, UnitOfWork(session_factory)) if job.name == "pdl_retention"]
    assert job.cron == {"hour": 3, "minute": 15}
    report = job.run()
    assert report.purged == 2 and report.export is not None and report.export.parent == tmp_path / "archive"
