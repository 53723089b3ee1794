"""The PDL access log (Patientdatalagen): every access to patient data, one hash-chained row per record.

Rows are only ever appended. Each row is a ``PdlRecord`` column for column, so the StoreLog service
and the gateway's own logging write the same shape, plus when it was stored (``stored_at``) and its
link in the chain (``seq``, ``prev_hash``, ``hash``; see ``domain.pdl_chain``). The certificate a
record is about travels in ``activity_level`` (as in StoreLog, where Webcert puts the certificate id
there), which is what ``records_for_certificate`` selects on.

Sealed after commit: ``append_all`` only inserts the records, without a link and without any lock,
in the caller's transaction, so PDL-writing transactions commit side by side. ``seal_pending``
then links committed, unsealed records into the one chain: it locks the single ``pdl_chain_head``
row (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so a second sealer skips its turn instead of
queueing; SQLite's ``BEGIN IMMEDIATE`` serialises anyway), numbers and hashes the oldest unsealed
rows after the head, writes their links and moves the head, in one short transaction of its own.
A sealer thread in every gateway process (``scheduler.pdl_sealer``) does that about once a second.
The chain's order is therefore the sealing order (``seq``), not ``id`` order: a record whose
transaction commits late is sealed in a later round. A rolled-back transaction leaves no row, and
a record is tamper-evident from its seal on. Why, and the figures: docs/pdl-log.md.

Retention (``purge_through``) deletes the oldest rows and records, in ``pdl_chain_anchor``, the
``seq`` and hash of the last deleted row, from which ``verify`` starts.

Signed checkpoints (``domain.pdl_checkpoint``) are stored in ``pdl_checkpoint``, one row per
checkpoint, written under the chain-head lock so that their numbers follow the chain's order. The
verification believes the anchor and the heads only as far as they are signed (``verify_chain``).
On PostgreSQL the tables are append-only for the application's role (``store.roles``).
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Iterator, Sequence
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    CursorResult,
    Index,
    String,
    Table,
    TextClause,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Row
from sqlalchemy.orm import Mapped, Session, mapped_column

from domain.pdl import PdlQuery, PdlRecord
from domain.pdl_chain import (
    GENESIS,
    NONE_UNSEALED,
    SEAL_GRACE,
    ChainedRecord,
    ChainPoint,
    Link,
    Unsealed,
    check_sealing,
    content_digest,
    extend,
)
from domain.pdl_checkpoint import (
    Checkpoint,
    CheckpointKind,
    CheckpointVerdict,
    SignatureCheck,
    SignedCheckpoint,
    SignedVerification,
    check_checkpoints,
    verify_signed,
)
from store import driver
from store.base import Base, BigId, insert_from_json, json_recordset, json_rows
from store.session import UnitOfWork

HEAD_ID = 1
HASH = String(64)

class PdlRow(Base):
    __tablename__ = "pdl_record"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    log_id: Mapped[str]
    system_id: Mapped[str]
    system_name: Mapped[str | None]
    activity: Mapped[str]
    activity_level: Mapped[str | None] = mapped_column(index=True)
    activity_args: Mapped[str | None]
    start_date: Mapped[datetime]
    purpose: Mapped[str]
    user_id: Mapped[str]
    user_name: Mapped[str | None]
    user_assignment: Mapped[str | None]
    user_title: Mapped[str | None]
    user_care_giver_id: Mapped[str]
    user_care_giver_name: Mapped[str | None]
    user_care_unit_id: Mapped[str]
    user_care_unit_name: Mapped[str | None]
    patient_id_root: Mapped[str | None]
    patient_id: Mapped[str | None]
    patient_name: Mapped[str | None]
    resource_type: Mapped[str]
    resource_care_giver_id: Mapped[str]
    resource_care_giver_name: Mapped[str | None]
    resource_care_unit_id: Mapped[str | None]
    resource_care_unit_name: Mapped[str | None]
    user_person_id_root: Mapped[str | None]
    user_person_id: Mapped[str | None]
    resource_index: Mapped[int]
    consumer_id: Mapped[str | None]
    consumer_auth: Mapped[str | None]
    # The database's clock when the row was inserted: how long a record has waited for its seal.
    stored_at: Mapped[datetime] = mapped_column(server_default=text("CURRENT_TIMESTAMP"))
    # The link, NULL until sealed. NULLs never collide under the unique constraint.
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(HASH)
    hash: Mapped[str | None] = mapped_column(HASH)


class PdlChainHead(Base):
    """The one row holding the chain's last ``seq`` and hash: the writers' lock and the truncation check."""

    __tablename__ = "pdl_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(HASH)


class PdlChainAnchor(Base):
    """One row per retention run: the last purged record's ``seq`` and hash, where ``verify`` starts."""

    __tablename__ = "pdl_chain_anchor"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(HASH)
    purged_before: Mapped[datetime]
    purged_at: Mapped[datetime]
    purged_records: Mapped[int]


class PdlCheckpointRow(Base):
    """One signed checkpoint (``domain.pdl_checkpoint.Checkpoint`` column for column, and its signature)."""

    __tablename__ = "pdl_checkpoint"

    number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    head: Mapped[str] = mapped_column(HASH)
    anchor_seq: Mapped[int] = mapped_column(BigInteger)
    anchor_hash: Mapped[str] = mapped_column(HASH)
    signed_at: Mapped[datetime]
    key_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    prev: Mapped[str] = mapped_column(HASH)
    export_digest: Mapped[str | None] = mapped_column(HASH)
    signature: Mapped[str] = mapped_column(String(256))  # base64


_TABLE = cast(Table, PdlRow.__table__)

# Searches and retention select on these; the log id (with the resource number) is unique.
Index("uq_pdl_record_log_id", PdlRow.log_id, PdlRow.resource_index, unique=True)
Index("ix_pdl_record_patient_id", PdlRow.patient_id)
Index("ix_pdl_record_start_date", PdlRow.start_date)
Index("ix_pdl_record_consumer_id", PdlRow.consumer_id)
# The sealer's work list: only unsealed rows are in this index, so it stays a few entries long
# however large the log grows.
UNSEALED = PdlRow.seq.is_(None)
Index("ix_pdl_record_unsealed", PdlRow.id, postgresql_where=UNSEALED, sqlite_where=UNSEALED)

#: Records one sealing transaction links at most (``seal_batch``). A sealing transaction holds the
#: chain's head, and on SQLite the file's one write lock, which every request's transaction waits for:
#: 200 records seal in a few milliseconds, where 1,000 held it for tens under load (issue 16). Rounds
#: repeat until done.
SEAL_BATCH = 200
#: The same on PostgreSQL, where the head's lock holds back only the other sealers (which skip their
#: turn) and a retention or verification run: each transaction costs the sealer about 2 ms of CPU
#: besides its records, and 1,000 records a round sealed a fifth faster than 200 for a fifth less
#: CPU of the gateway and of PostgreSQL per record (issue 16).
SEAL_BATCH_POSTGRES = 1000


def seal_batch(dialect: str) -> int:
    """How many records a sealing transaction links at most on a database of ``dialect``."""
    return SEAL_BATCH_POSTGRES if dialect == "postgresql" else SEAL_BATCH


_RECORD_FIELDS = tuple(field.name for field in fields(PdlRecord))
# The sealer's statements, built once: the oldest unsealed rows as (id, *record fields), and one UPDATE
# by primary key run for every row (executemany).
_UNSEALED_ROWS = (
    select(_TABLE.c.id, *(_TABLE.c[name] for name in _RECORD_FIELDS))
    .where(UNSEALED).order_by(_TABLE.c.id).limit(bindparam("limit"))
)  # fmt: skip
_SEAL = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("row_id"))
    .values(seq=bindparam("link_seq"), prev_hash=bindparam("link_prev"), hash=bindparam("link_hash"))
)  # fmt: skip
# The same on PostgreSQL as one statement, the links in one JSON parameter: an executemany is one
# UPDATE per record, and sealing ran in the gateway's workers beside StoreLog's requests, a third of
# their time at 9,000 records/s (issue 16).
_LINK_COLUMNS = {"row_id": "bigint", "link_seq": "bigint", "link_prev": "text", "link_hash": "text"}
_SEAL_PG = text(
    f"UPDATE {PdlRow.__tablename__} AS r SET seq = v.link_seq, prev_hash = v.link_prev, hash = v.link_hash "
    f"FROM {json_recordset(_LINK_COLUMNS, 'links')} "
    "WHERE r.id = v.row_id"
)
# Built once; ``inline()`` leaves out the RETURNING of the new row's id that SQLAlchemy otherwise adds
# to a single-row INSERT: nobody reads the id, and fetching it costs a result to parse.
_APPEND = insert(_TABLE).inline()


def append(session: Session, record: PdlRecord) -> None:
    """Add ``record`` to the log in the caller's transaction; a sealer chains it after the commit."""
    append_all(session, [record])


def append_all(session: Session, records: Sequence[PdlRecord]) -> int:
    """Add ``records`` in order in the caller's transaction, unsealed; return how many.

    No lock is taken: a sealer links them into the chain once committed (see the module doc).
    """
    if not records:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        session.execute(*_appended_as_json(records))
    else:
        # A Core INSERT on the table: the log is append-only, so no ORM object is ever needed.
        session.execute(_APPEND, [record_row(record) for record in records])
    return len(records)


def _appended_as_json(records: Sequence[PdlRecord]) -> tuple[TextClause, dict[str, str]]:
    """PostgreSQL's INSERT of ``records``: one statement with every row in one JSON parameter, in order
    (``insert_from_json``). psycopg sends an executemany row by row in a pipeline, about 20 µs of CPU
    per row, and a StoreLog call carries a hundred records."""
    rows = [record_row(record) for record in records]
    return _append_from_json(tuple(rows[0])), {_TABLE.name: json_rows(rows)}


def store_records(unit_of_work: UnitOfWork, records: Sequence[PdlRecord]) -> int:
    """Add ``records`` (as ``append_all``) in a transaction of their own; return how many.

    On PostgreSQL they are one statement, sent alone (``UnitOfWork.one_statement``): its own
    transaction, without the round trips of ``BEGIN`` and ``COMMIT``.

    Raises:
        Conflict: a record's ``(log_id, resource_index)`` is already stored; nothing was stored.
        DatabaseUnavailable: the database did not answer; nothing was stored.
    """
    if not records:
        return 0
    if unit_of_work.dialect != "postgresql":
        with unit_of_work() as session:
            return append_all(session, records)
    with unit_of_work.one_statement() as connection:
        connection.execute(*_appended_as_json(records))
    return len(records)


@functools.cache
def _append_from_json(columns: tuple[str, ...]) -> TextClause:
    return text(insert_from_json(_TABLE.name, columns, _TABLE.name))


def seal_pending(session: Session, limit: int = SEAL_BATCH, wait: bool = False) -> int:
    """Link up to ``limit`` committed, unsealed records into the chain, oldest ``id`` first; return how many.

    Without ``wait`` it returns 0 at once when another sealer holds the head (PostgreSQL), so the
    background sealers never queue for it; with ``wait`` it waits for that sealer to commit, so
    that everything committed before the call can be sealed (before a verification or a purge).
    The caller commits: the links and the moved head become visible together.
    """
    head = _locked_head(session) if wait else _head_for_sealing(session)
    if head is None:
        return 0
    rows = driver.fetch_all(session, _UNSEALED_ROWS, {"limit": limit})
    if not rows:
        return 0
    # Each row is (id, *the record's fields in PdlRecord's order): built positionally, which costs a
    # fraction of reading thirty attributes off a Row by name, for every record of the log.
    links, new_head = extend(head, [content_digest(PdlRecord(*row[1:])) for row in rows])
    sealed = [{"row_id": row[0], "link_seq": link.seq, "link_prev": link.prev_hash, "link_hash": link.hash}
              for row, link in zip(rows, links, strict=True)]
    if session.get_bind().dialect.name == "postgresql":
        driver.execute(session, _SEAL_PG, {"links": json_rows(sealed)})
    else:
        session.execute(_SEAL, sealed)
    session.execute(
        update(PdlChainHead).where(PdlChainHead.id == HEAD_ID).values(seq=new_head.seq, hash=new_head.hash)
    )
    return len(rows)


def _head_for_sealing(session: Session) -> ChainPoint | None:
    """The head, locked for this transaction; None when another sealer has it (PostgreSQL)."""
    row = session.execute(
        select(PdlChainHead.seq, PdlChainHead.hash).where(PdlChainHead.id == HEAD_ID).with_for_update(skip_locked=True)
    ).one_or_none()
    if row is not None:
        return ChainPoint(int(row.seq), str(row.hash))
    if session.execute(select(PdlChainHead.id).where(PdlChainHead.id == HEAD_ID)).one_or_none() is not None:
        return None  # it exists, so it was skipped: another sealer is at work
    return _create_head(session)


def _locked_head(session: Session) -> ChainPoint:
    """The head, locked for this transaction, waiting for a sealer that holds it."""
    row = session.execute(
        select(PdlChainHead.seq, PdlChainHead.hash).where(PdlChainHead.id == HEAD_ID).with_for_update()
    ).one_or_none()
    return _create_head(session) if row is None else ChainPoint(int(row.seq), str(row.hash))


def _create_head(session: Session) -> ChainPoint:
    # The migration creates the head; a database without it was set up by hand. Creating it here
    # would fork the chain if two sealers raced, so the unique id makes one of them fail.
    session.execute(insert(PdlChainHead).values(id=HEAD_ID, seq=GENESIS.seq, hash=GENESIS.hash))
    return GENESIS


def lock_head(session: Session, wait: bool) -> ChainPoint | None:
    """The head, locked for this transaction (None: another sealer holds it and ``wait`` is off)."""
    return _locked_head(session) if wait else _head_for_sealing(session)


def current_head(session: Session) -> ChainPoint:
    """The chain's last point as recorded (genesis for an empty log)."""
    row = session.execute(select(PdlChainHead.seq, PdlChainHead.hash).where(PdlChainHead.id == HEAD_ID)).one_or_none()
    return GENESIS if row is None else ChainPoint(int(row.seq), str(row.hash))


def latest_anchor(session: Session) -> ChainPoint:
    """Where the kept chain starts: the last retention anchor, or genesis."""
    row = session.execute(
        select(PdlChainAnchor.seq, PdlChainAnchor.hash).order_by(PdlChainAnchor.seq.desc()).limit(1)
    ).one_or_none()
    return GENESIS if row is None else ChainPoint(int(row.seq), str(row.hash))


def record_row(record: PdlRecord) -> dict[str, object]:
    """The values of a new (unsealed) record's row, by column name."""
    return {name: getattr(record, name) for name in _RECORD_FIELDS}


def _record(row: PdlRow | Row[Any]) -> PdlRecord:
    return PdlRecord(**{name: getattr(row, name) for name in _RECORD_FIELDS})


def chained_records(session: Session) -> Iterator[ChainedRecord]:
    """Every stored record with its link, in ``seq`` order, read in batches (for ``verify``)."""
    last = session.execute(select(func.max(PdlRow.seq))).scalar()
    return iter(()) if last is None else records_through(session, int(last))


def unsealed(session: Session) -> Unsealed:
    """How many records wait for their seal, and the one stored longest ago."""
    count = int(session.execute(select(func.count()).select_from(_TABLE).where(UNSEALED)).scalar_one())
    if count == 0:
        return NONE_UNSEALED
    oldest = session.execute(
        select(PdlRow.log_id, PdlRow.stored_at).where(UNSEALED).order_by(PdlRow.stored_at, PdlRow.id).limit(1)
    ).one()
    return Unsealed(count, oldest.log_id, oldest.stored_at)


def _one_snapshot(session: Session) -> None:
    """Make every following read of this transaction see the same committed state.

    PostgreSQL's default (READ COMMITTED) takes a new snapshot per statement, so a sealer committing
    between reading the records and reading the head would look like records cut off or inserted.
    SQLite needs nothing: its transactions are serialised (``BEGIN IMMEDIATE``).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))


def verify_chain(
    session: Session,
    valid: SignatureCheck | None = None,
    extra: Sequence[SignedCheckpoint] = (),
    now: datetime | None = None,
    grace: timedelta = SEAL_GRACE,
) -> SignedVerification:
    """Walk the sealed chain from the (signed) anchor to the head, then judge the unsealed records.

    With ``valid`` (the public keys) the stored checkpoints and ``extra`` ones (from the off-host
    file) are checked and the chain must pass through each; without, only the hash chain is walked,
    from the stored anchor. See ``domain.pdl_checkpoint.verify_signed`` and
    ``domain.pdl_chain.check_sealing``; ``now`` defaults to the current time. Must be the
    transaction's first statement: it reads everything from one snapshot.
    """
    _one_snapshot(session)
    verdict = check_checkpoints([*checkpoints(session), *extra], valid) if valid is not None else CheckpointVerdict(())
    result = verify_signed(latest_anchor(session), chained_records(session), current_head(session), verdict)
    sealing = check_sealing(result.chain, unsealed(session), now or datetime.now(UTC), grace)
    return SignedVerification(sealing, result.last_good, result.unsigned)


def latest_checkpoint(session: Session) -> Checkpoint | None:
    """The newest stored checkpoint (the next one's predecessor), or None."""
    row = session.scalars(select(PdlCheckpointRow).order_by(PdlCheckpointRow.number.desc()).limit(1)).one_or_none()
    return None if row is None else _checkpoint(row).checkpoint


def checkpoints(session: Session) -> list[SignedCheckpoint]:
    """Every stored checkpoint with its signature, oldest first."""
    return [_checkpoint(row) for row in session.scalars(select(PdlCheckpointRow).order_by(PdlCheckpointRow.number))]


def add_checkpoint(session: Session, signed: SignedCheckpoint) -> None:
    """Store a signed checkpoint (the caller holds the chain-head lock, so numbers follow the chain)."""
    c = signed.checkpoint
    session.execute(insert(PdlCheckpointRow).values(
        number=c.number, seq=c.seq, head=c.head, anchor_seq=c.anchor_seq, anchor_hash=c.anchor_hash,
        signed_at=c.at, key_id=c.key_id, kind=c.kind.value, prev=c.prev, export_digest=c.export_digest,
        signature=base64.b64encode(signed.signature).decode("ascii"),
    ))  # fmt: skip


def _checkpoint(row: PdlCheckpointRow) -> SignedCheckpoint:
    at = row.signed_at if row.signed_at.tzinfo is not None else row.signed_at.replace(tzinfo=UTC)
    checkpoint = Checkpoint(
        number=row.number, seq=row.seq, head=row.head, anchor_seq=row.anchor_seq, anchor_hash=row.anchor_hash,
        at=at, key_id=row.key_id, kind=CheckpointKind(row.kind), prev=row.prev, export_digest=row.export_digest,
    )  # fmt: skip
    return SignedCheckpoint(checkpoint, base64.b64decode(row.signature))


def records_for_certificate(session: Session, certificate_id: str) -> list[PdlRecord]:
    """Every record whose ``activity_level`` is this certificate id, in the order they were written."""
    rows = session.scalars(
        select(PdlRow).where(PdlRow.activity_level == certificate_id).order_by(PdlRow.id)
    )
    return [_record(row) for row in rows]


def records_by_log_id(session: Session, log_ids: Sequence[str]) -> dict[str, list[PdlRecord]]:
    """The stored records of each of ``log_ids`` that exists, resources in order."""
    found: dict[str, list[PdlRecord]] = {}
    # Usually none exists: ask the unique index for the ids alone first, and load whole rows only
    # for the few that do (a resend).
    existing = session.scalars(select(PdlRow.log_id).where(PdlRow.log_id.in_(list(log_ids)))).all() if log_ids else []
    if not existing:
        return found
    rows = session.scalars(
        select(PdlRow).where(PdlRow.log_id.in_(set(existing))).order_by(PdlRow.log_id, PdlRow.resource_index)
    )
    for row in rows:
        found.setdefault(row.log_id, []).append(_record(row))
    return found


def search(session: Session, query: PdlQuery) -> list[PdlRecord]:
    """Records matching ``query``, oldest first, at most ``query.limit``.

    Unit and care giver match either the user's (where the access was made) or the resource's (whose
    data was accessed), so a unit sees both its own accesses and accesses to its records.
    """
    statement = select(PdlRow)
    if query.patient_id is not None:
        statement = statement.where(PdlRow.patient_id == query.patient_id)
    if query.user_id is not None:
        statement = statement.where(func.lower(PdlRow.user_id) == query.user_id.casefold())
    if query.care_unit_id is not None:
        key = query.care_unit_id.casefold()
        statement = statement.where(
            (func.lower(PdlRow.user_care_unit_id) == key) | (func.lower(PdlRow.resource_care_unit_id) == key)
        )
    if query.care_giver_id is not None:
        key = query.care_giver_id.casefold()
        statement = statement.where(
            (func.lower(PdlRow.user_care_giver_id) == key) | (func.lower(PdlRow.resource_care_giver_id) == key)
        )
    if query.consumer_id is not None:
        statement = statement.where(func.lower(PdlRow.consumer_id) == query.consumer_id.casefold())
    if query.start is not None:
        statement = statement.where(PdlRow.start_date >= query.start)
    if query.end is not None:
        statement = statement.where(PdlRow.start_date < query.end)
    rows = session.scalars(statement.order_by(PdlRow.start_date, PdlRow.id).limit(query.limit))
    return [_record(row) for row in rows]


def purge_boundary(session: Session, before: datetime) -> int | None:
    """The last ``seq`` a purge of records older than ``before`` may remove, or None if none.

    Only a prefix of the chain can go, or the kept part would not verify. Systems may log accesses
    late, so ``start_date`` does not grow with ``seq``: the boundary stops just before the first
    record (in ``seq`` order) that is still within the retention period. Older records after it
    are removed by a later run, once everything before them has aged too.
    """
    first_kept = session.execute(select(func.min(PdlRow.seq)).where(PdlRow.start_date >= before)).scalar()
    if first_kept is None:
        last = session.execute(select(func.max(PdlRow.seq))).scalar()
        return None if last is None else int(last)
    first = session.execute(select(func.min(PdlRow.seq))).scalar()
    return None if first is None or first >= first_kept else int(first_kept) - 1


def records_through(session: Session, last_seq: int, batch: int = 1000) -> Iterator[ChainedRecord]:
    """Sealed records up to and including ``last_seq`` with their links, in ``seq`` order (what a purge removes)."""
    after = -(2**62)  # below any seq, forged negative ones included
    while True:
        rows = session.scalars(
            select(PdlRow).where(PdlRow.seq > after, PdlRow.seq <= last_seq).order_by(PdlRow.seq).limit(batch)
        ).all()
        yield from (ChainedRecord(_record(row), _link(row)) for row in rows)
        if len(rows) < batch:
            return
        after = _link(rows[-1]).seq


def _link(row: PdlRow) -> Link:
    """A sealed row's link (the queries that call this select sealed rows only)."""
    assert row.seq is not None and row.prev_hash is not None and row.hash is not None
    return Link(row.seq, row.prev_hash, row.hash)


def purge_through(session: Session, last_seq: int, before: datetime, now: datetime) -> int:
    """Delete every record up to and including ``last_seq`` and anchor the chain at it.

    Returns how many rows were deleted; unsealed rows are never touched. The anchor keeps that
    record's hash so that ``verify`` can still check the first kept record's ``prev_hash``. Takes
    the chain-head lock, so no sealer moves the head while the anchor is written.
    """
    _locked_head(session)
    last = session.execute(select(PdlRow.hash).where(PdlRow.seq == last_seq)).scalar_one()
    result = session.execute(delete(PdlRow).where(PdlRow.seq <= last_seq))
    deleted = cast(CursorResult[Any], result).rowcount
    session.execute(
        insert(PdlChainAnchor).values(
            seq=last_seq, hash=last, purged_before=before, purged_at=now, purged_records=deleted
        )
    )
    return int(deleted)
