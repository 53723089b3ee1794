"""PDL retention: export the records older than the retention period, then purge them, keeping the chain verifiable.

The job (``retention_job``) runs on the scheduler's leader; ``intygsgateway pdl purge`` runs the same
``export_and_purge`` by hand. It first seals the records waiting for their seal (only sealed
records are purged: an unsealed one has no link an anchor could keep). Then, in one transaction,
it finds the oldest prefix of the chain whose records all started before the cut-off
(``store.pdl.purge_boundary``: only a prefix can go, or the kept part would not verify), writes
those records with their links to a JSON Lines file and makes it durable (fsync), and only then
deletes them and stores the anchor (the last purged ``seq`` and hash) from which ``pdl verify``
starts. If writing the export fails, nothing is deleted; if the
commit fails after the export was written, the records stay and the next run exports them again.

The unit of work is passed in as ``transaction`` (a ``store.UnitOfWork``, what ``seal_all`` opens).

The export keeps each record's ``seq``, ``prev_hash`` and ``hash``, so an archived segment can be
verified on its own, and joined to the kept chain at the anchor.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import structlog

from domain.pdl import as_plain
from domain.pdl_chain import ChainedRecord
from store import UnitOfWork, pdl
from usecases.pdl_log import seal_all


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """What a run did: records exported and deleted, the anchor's ``seq`` (None: nothing was old enough)."""

    purged: int
    anchor_seq: int | None
    export: Path | None


def retention_cutoff(now: datetime, years: int) -> datetime:
    """``now`` minus ``years`` calendar years (29 February becomes 28 February)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def export_and_purge(
    transaction: UnitOfWork,
    before: datetime,
    export: Path,
    now: datetime,
    dry_run: bool = False,
) -> PurgeReport:
    """Export, then purge, the chain's prefix of records that started before ``before``.

    ``export`` must not exist yet (an earlier archive is never overwritten). With ``dry_run`` the
    records are counted, nothing is written and nothing is deleted; pending records are sealed all
    the same (the sealers would do so within a second), so that the count is what a run would purge.
    """
    seal_all(transaction, wait=True)
    with transaction() as session:
        last = pdl.purge_boundary(session, before)
        if last is None:
            return PurgeReport(0, None, None)
        if dry_run:
            count = sum(1 for _ in pdl.records_through(session, last))
            return PurgeReport(count, last, None)
        written = _write_export(export, pdl.records_through(session, last))
        purged = pdl.purge_through(session, last, before, now)
        if purged != written:
            raise RuntimeError(f"exported {written} records but the purge found {purged}; nothing purged")
    return PurgeReport(purged, last, export)


def _write_export(path: Path, records: Iterable[ChainedRecord]) -> int:
    written = 0
    with path.open("x", encoding="utf-8") as out:
        for item in records:
            link = item.link
            line = {**as_plain(item.record), "seq": link.seq, "prev_hash": link.prev_hash, "hash": link.hash}
            out.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
            written += 1
        out.flush()
        os.fsync(out.fileno())
    return written


def retention_job(
    transaction: UnitOfWork,
    clock: Callable[[], datetime],
    retention_years: int,
    export_dir: Path,
) -> PurgeReport:
    """The scheduled job: purge what is older than ``retention_years``, exported to ``export_dir``.

    The export file is named after the run's time (``pdl-YYYYMMDDTHHMMSSZ.jsonl``), so runs never
    collide and the archive lists in order.
    """
    now = clock()
    export_dir.mkdir(parents=True, exist_ok=True)
    export = export_dir / f"pdl-{now.strftime('%Y%m%dT%H%M%SZ')}.jsonl"
    report = export_and_purge(transaction, retention_cutoff(now, retention_years), export, now)
    # A fresh logger per run: the job runs rarely, and a module-level one would keep the output
    # stream of whoever configured logging first.
    structlog.get_logger("scheduler.pdl_retention").info(
        "pdl_retention_run", purged=report.purged, anchor_seq=report.anchor_seq, export=str(report.export)
    )
    return report
