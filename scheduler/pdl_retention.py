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
verified on its own, and joined to the kept chain at the anchor. It is written readable by its owner
only (0600), to a temporary name first and linked to its final name once complete, so no reader
ever sees half an export and an existing archive is never replaced.

With signing configured, the purge's transaction also stores a signed checkpoint of kind ``purge``
with the new anchor and the SHA-256 of the export file: the anchor is believed by ``pdl verify``
only because of it, and the archive can be matched to it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import structlog

from domain.pdl import as_plain
from domain.pdl_chain import ChainedRecord, ChainPoint
from domain.pdl_checkpoint import SignedCheckpoint
from store import UnitOfWork, pdl
from usecases.pdl_log import PdlSigning, seal_all, sign_purge


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
    signing: PdlSigning | None = None,
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
        written, digest, last_hash = write_export(export, pdl.records_through(session, last))
        purged = pdl.purge_through(session, last, before, now)
        if purged != written:
            raise RuntimeError(f"exported {written} records but the purge found {purged}; nothing purged")
        signed: SignedCheckpoint | None = None
        if signing is not None:
            signed = sign_purge(session, signing, ChainPoint(last, last_hash), digest)
    if signed is not None and signing is not None:
        signing.on_signed(signed)
    return PurgeReport(purged, last, export)


def write_export(path: Path, records: Iterable[ChainedRecord]) -> tuple[int, str, str]:
    """Write records as JSON Lines to a new file ``path``, mode 0600, all or nothing.

    Returns how many, the SHA-256 of the file's bytes, and the last record's hash. The file is
    written under a temporary name in the same folder, fsynced, then linked to ``path``, which fails
    if ``path`` exists (an archive is never replaced); the temporary name is removed either way.
    """
    written, last_hash = 0, ""
    sha = hashlib.sha256()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as out:
            for item in records:
                link = {"seq": item.link.seq, "prev_hash": item.link.prev_hash, "hash": item.link.hash}
                line = {**as_plain(item.record), **link}
                data = (json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
                out.write(data)
                sha.update(data)
                written += 1
                last_hash = item.link.hash
            out.flush()
            os.fsync(out.fileno())
        os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return written, sha.hexdigest(), last_hash


def retention_job(
    transaction: UnitOfWork,
    clock: Callable[[], datetime],
    retention_years: int,
    export_dir: Path,
    signing: PdlSigning | None = None,
) -> PurgeReport:
    """The scheduled job: purge what is older than ``retention_years``, exported to ``export_dir``.

    The export file is named after the run's time (``pdl-YYYYMMDDTHHMMSSZ.jsonl``), so runs never
    collide and the archive lists in order.
    """
    now = clock()
    export_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    export = export_dir / f"pdl-{now.strftime('%Y%m%dT%H%M%SZ')}.jsonl"
    report = export_and_purge(transaction, retention_cutoff(now, retention_years), export, now, signing=signing)
    # A fresh logger per run: the job runs rarely, and a module-level one would keep the output
    # stream of whoever configured logging first.
    structlog.get_logger("scheduler.pdl_retention").info(
        "pdl_retention_run", purged=report.purged, anchor_seq=report.anchor_seq, export=str(report.export)
    )
    return report
