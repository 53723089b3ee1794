"""PDL log forgeries by a database administrator who has the source code but not the signing key.

Each attack is first shown to pass the plain hash chain (the weakness the review found), then shown
to fail against the signed checkpoints, checked with the public key only; an auditor's run of
``pdl verify --public-key`` on a copy of the database, without the private key, agrees.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from cli import main
from cli.pdl_signing import (
    Ed25519Signer,
    PublicKeys,
    append_checkpoint,
    generate_key,
    public_key_from_spec,
    read_checkpoints,
)
from domain.pdl import PURPOSE_CARE, RESOURCE_CERTIFICATE, Activity, PdlRecord
from domain.pdl_chain import BreakKind, ChainPoint, content_digest, extend
from domain.pdl_checkpoint import SignedVerification, following, sign
from scheduler.pdl_retention import export_and_purge
from store import pdl
from store.session import UnitOfWork, make_engine, make_session_factory, transaction
from tests.tampering import past_the_triggers
from usecases.pdl_log import PdlSigning, checkpoint_if_due, seal_all, verify_log

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def record(number: int) -> PdlRecord:
    return PdlRecord(
        log_id=f"log-{number}", system_id="SE2321000016-JOURNAL", activity=Activity.READ.value,
        start_date=T0 + timedelta(minutes=number), purpose=PURPOSE_CARE, user_id="SE2321000016-P001",
        user_care_giver_id="SE2321000016-0001", user_care_unit_id="SE2321000016-1000",
        resource_type=RESOURCE_CERTIFICATE, resource_care_giver_id="SE2321000016-0001",
        patient_id_root="1.2.752.129.2.1.3.1", patient_id="191212121212",
    )  # fmt: skip


class Log:
    """A PDL log on one database, signed by a key in ``tmp_path``, with the checkpoint file beside it."""

    def __init__(self, factory: sessionmaker[Session], tmp_path: Path) -> None:
        self.factory = factory
        self.uow = UnitOfWork(factory)
        self.private, self.public = tmp_path / "signing.pem", tmp_path / "signing.pub"
        generate_key(self.private, self.public)
        self.file = tmp_path / "checkpoints.jsonl"
        self.now = T0 + timedelta(days=1)
        self.signing = PdlSigning(
            Ed25519Signer.from_file(str(self.private)),
            10,
            lambda: self.now,
            lambda signed: append_checkpoint(self.file, signed),
        )
        self.keys = PublicKeys([public_key_from_spec(str(self.public))])
        self.added = 0

    def add(self, count: int) -> None:
        """Append ``count`` records, seal them and sign a checkpoint, as the sealer thread does."""
        with transaction(self.factory) as session:
            pdl.append_all(session, [record(self.added + n) for n in range(1, count + 1)])
        self.added += count
        seal_all(self.uow, wait=True)
        self.now += timedelta(seconds=60)
        assert checkpoint_if_due(self.uow, self.signing, wait=True) is not None

    def verify(self, signed: bool = True, with_file: bool = False) -> SignedVerification:
        extra = read_checkpoints(self.file) if with_file else []
        return verify_log(self.uow, seal=False, keys=self.keys if signed else None, extra=extra)


@pytest.fixture
def log(session_factory: sessionmaker[Session], tmp_path: Path) -> Log:
    built = Log(session_factory, tmp_path)
    built.add(10)
    built.add(5)
    return built


def _rows(session: Session) -> list[pdl.PdlRow]:
    return list(session.scalars(select(pdl.PdlRow).where(pdl.PdlRow.seq.is_not(None)).order_by(pdl.PdlRow.seq)))


def test_an_untouched_log_verifies_with_the_public_key_alone(log: Log) -> None:
    result = log.verify(with_file=True)
    assert result.chain.broken is None and result.chain.checked == 15
    assert result.last_good is not None and (result.last_good.number, result.last_good.seq) == (2, 15)
    assert result.unsigned == 0


def test_a_record_changed_and_every_later_hash_recomputed_is_caught(log: Log) -> None:
    """The review's first forgery, done with the project's own chain code: change seq 3, relink 3..15, move the head."""
    with transaction(log.factory) as session:
        past_the_triggers(session)
        rows = _rows(session)
        forged = [pdl._record(row) for row in rows]
        forged[2] = replace(forged[2], user_id="SE2321000016-SOMEONE-ELSE")
        links, head = extend(ChainPoint(0, "0" * 64), [content_digest(r) for r in forged])
        for row, link, rec in zip(rows, links, forged, strict=True):
            session.execute(update(pdl.PdlRow).where(pdl.PdlRow.id == row.id).values(
                user_id=rec.user_id, prev_hash=link.prev_hash, hash=link.hash))  # fmt: skip
        session.execute(update(pdl.PdlChainHead).values(seq=head.seq, hash=head.hash))

    assert log.verify(signed=False).chain.broken is None  # the plain chain is fooled
    result = log.verify()
    assert result.chain.broken is not None and result.chain.broken.kind == BreakKind.REWRITTEN
    assert result.chain.broken.seq == 10  # the first signed head after the change
    assert result.last_good is None  # no signed checkpoint holds any more


def test_the_oldest_records_deleted_behind_a_forged_anchor_are_caught(log: Log) -> None:
    """The review's second forgery: delete seq 1..5 and insert an anchor row at seq 5; no hashing needed."""
    with transaction(log.factory) as session:
        past_the_triggers(session)
        fifth = session.execute(select(pdl.PdlRow.hash).where(pdl.PdlRow.seq == 5)).scalar_one()
        session.execute(delete(pdl.PdlRow).where(pdl.PdlRow.seq <= 5))
        session.execute(insert(pdl.PdlChainAnchor).values(
            seq=5, hash=fifth, purged_before=T0, purged_at=T0, purged_records=5))  # fmt: skip

    assert log.verify(signed=False).chain.broken is None  # the plain chain is fooled
    result = log.verify()
    assert result.chain.broken is not None and result.chain.broken.kind == BreakKind.ANCHOR_NOT_SIGNED


@pytest.mark.parametrize("attack", ["delete", "reorder", "insert", "change"])
def test_deletion_reordering_insertion_and_change_are_caught(log: Log, attack: str) -> None:
    with transaction(log.factory) as session:
        past_the_triggers(session)
        rows = _rows(session)
        if attack == "delete":
            session.execute(delete(pdl.PdlRow).where(pdl.PdlRow.seq == 12))
        elif attack == "reorder":
            session.execute(update(pdl.PdlRow).where(pdl.PdlRow.id == rows[11].id).values(seq=-12))
            session.execute(update(pdl.PdlRow).where(pdl.PdlRow.id == rows[12].id).values(seq=12))
            session.execute(update(pdl.PdlRow).where(pdl.PdlRow.id == rows[11].id).values(seq=13))
        elif attack == "insert":
            session.execute(update(pdl.PdlRow).where(pdl.PdlRow.seq == 15).values(seq=16))
            pdl.append(session, record(99))
            session.flush()
            session.execute(update(pdl.PdlRow).where(pdl.PdlRow.log_id == "log-99").values(
                seq=15, prev_hash=rows[13].hash, hash=rows[14].hash))  # fmt: skip
        else:
            session.execute(update(pdl.PdlRow).where(pdl.PdlRow.seq == 12).values(purpose="Annat"))
    result = log.verify()
    assert result.chain.broken is not None
    assert result.chain.broken.kind in (BreakKind.MISSING, BreakKind.OUT_OF_PLACE, BreakKind.CHANGED, BreakKind.EXTRA)
    assert result.last_good is not None and result.last_good.number == 1  # the last good signed checkpoint


def test_truncation_with_the_newest_checkpoints_deleted_is_caught_by_the_checkpoint_file(log: Log) -> None:
    """Cut seq 11..15, reset the head, delete checkpoint 2: the database alone looks consistent; the file does not."""
    with transaction(log.factory) as session:
        past_the_triggers(session)
        tenth = session.execute(select(pdl.PdlRow.hash).where(pdl.PdlRow.seq == 10)).scalar_one()
        session.execute(delete(pdl.PdlRow).where(pdl.PdlRow.seq > 10))
        session.execute(update(pdl.PdlChainHead).values(seq=10, hash=tenth))
        session.execute(delete(pdl.PdlCheckpointRow).where(pdl.PdlCheckpointRow.number == 2))

    assert log.verify().chain.broken is None  # what the database still holds is consistent
    result = log.verify(with_file=True)
    assert result.chain.broken is not None and result.chain.broken.kind == BreakKind.TRUNCATED
    assert result.last_good is not None and result.last_good.number == 1


def test_truncation_below_a_stored_checkpoint_is_caught(log: Log) -> None:
    with transaction(log.factory) as session:
        past_the_triggers(session)
        twelfth = session.execute(select(pdl.PdlRow.hash).where(pdl.PdlRow.seq == 12)).scalar_one()
        session.execute(delete(pdl.PdlRow).where(pdl.PdlRow.seq > 12))
        session.execute(update(pdl.PdlChainHead).values(seq=12, hash=twelfth))
    result = log.verify()
    assert result.chain.broken is not None and result.chain.broken.kind == BreakKind.TRUNCATED


def test_a_checkpoint_signed_with_another_key_or_edited_is_forged(log: Log) -> None:
    with transaction(log.factory) as session:
        past_the_triggers(session)
        session.execute(update(pdl.PdlCheckpointRow).where(pdl.PdlCheckpointRow.number == 2).values(seq=14))
    result = log.verify()
    assert result.chain.broken is not None and result.chain.broken.kind == BreakKind.FORGED_CHECKPOINT
    assert result.chain.broken.checkpoint == 2


def test_a_checkpoint_made_with_the_administrators_own_key_is_forged(log: Log) -> None:
    class OwnKey:
        def __init__(self) -> None:
            self._key = Ed25519PrivateKey.generate()

        @property
        def key_id(self) -> str:
            return log.signing.signer.key_id  # pretends to be the real key

        def sign(self, message: bytes) -> bytes:
            return self._key.sign(message)

    with transaction(log.factory) as session:
        past_the_triggers(session)
        previous = pdl.latest_checkpoint(session)
        head, anchor = pdl.current_head(session), pdl.latest_anchor(session)
        pdl.add_checkpoint(
            session, sign(following(previous, head, anchor, log.now, log.signing.signer.key_id), OwnKey())
        )
    result = log.verify()
    assert result.chain.broken is not None and result.chain.broken.kind == BreakKind.FORGED_CHECKPOINT


def test_a_deleted_middle_checkpoint_shows_as_a_gap(log: Log) -> None:
    log.add(3)
    with transaction(log.factory) as session:
        past_the_triggers(session)
        session.execute(delete(pdl.PdlCheckpointRow).where(pdl.PdlCheckpointRow.number == 2))
    result = log.verify()
    assert result.chain.broken is not None and result.chain.broken.kind == BreakKind.CHECKPOINT_MISSING


def test_a_signed_purge_verifies_and_its_export_is_private_and_digested(log: Log, tmp_path: Path) -> None:
    export = tmp_path / "purged.jsonl"
    report = export_and_purge(log.uow, T0 + timedelta(minutes=6), export, log.now, signing=log.signing)
    assert report.purged == 5
    assert stat.S_IMODE(export.stat().st_mode) == 0o600
    result = log.verify(with_file=True)
    assert result.chain.broken is None and result.chain.checked == 10
    with transaction(log.factory) as session:
        past_the_triggers(session)
        purge = pdl.latest_checkpoint(session)
    assert purge is not None and purge.kind == "purge" and purge.anchor_seq == 5
    assert purge.export_digest == hashlib.sha256(export.read_bytes()).hexdigest()
    assert stat.S_IMODE(log.file.stat().st_mode) == 0o600


def test_a_moved_anchor_after_a_signed_purge_is_caught(log: Log, tmp_path: Path) -> None:
    export_and_purge(log.uow, T0 + timedelta(minutes=6), tmp_path / "purged.jsonl", log.now, signing=log.signing)
    with transaction(log.factory) as session:
        past_the_triggers(session)
        eighth = session.execute(select(pdl.PdlRow.hash).where(pdl.PdlRow.seq == 8)).scalar_one()
        session.execute(delete(pdl.PdlRow).where(pdl.PdlRow.seq <= 8))
        session.execute(insert(pdl.PdlChainAnchor).values(
            seq=8, hash=eighth, purged_before=T0, purged_at=T0, purged_records=3))  # fmt: skip
    result = log.verify()
    assert result.chain.broken is not None and result.chain.broken.kind == BreakKind.ANCHOR_NOT_SIGNED


def test_rotated_keys_verify_each_in_its_own_time_range(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    old = Log(session_factory, tmp_path / "old")
    old.add(4)
    generate_key(tmp_path / "new" / "k.pem", tmp_path / "new" / "k.pub")
    rotation = old.now + timedelta(seconds=30)
    old.signing = replace(old.signing, signer=Ed25519Signer.from_file(str(tmp_path / "new" / "k.pem")))
    old.add(4)  # signed with the new key after the rotation
    cut = rotation.isoformat()
    old.keys = PublicKeys.from_specs([f"{old.public}@/{cut}", f"{tmp_path / 'new' / 'k.pub'}@{cut}/"])
    assert old.verify(with_file=True).chain.broken is None
    # The old key's range ending before its own checkpoint: that signature no longer counts.
    early = (T0).isoformat()
    old.keys = PublicKeys.from_specs([f"{old.public}@/{early}", f"{tmp_path / 'new' / 'k.pub'}@{cut}/"])
    assert old.verify().chain.broken is not None


def test_pdl_verify_on_a_copy_without_the_private_key(
    log: Log, db_backend: str, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The auditor's run: a copy of the database, the public key and the checkpoint file; no secret anywhere."""
    if db_backend != "sqlite":
        pytest.skip("the copy is a file copy of the SQLite database; the PostgreSQL runs above use the same code")
    copy = tmp_path / "copy.db"
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as source, sqlite3.connect(copy) as target:
        source.backup(target)  # a consistent copy, the write-ahead log included
    os.remove(log.private)
    args = ["pdl", "verify", "--db", f"sqlite:///{copy}", "--no-seal", "--public-key", str(log.public),
            "--checkpoints", str(log.file)]  # fmt: skip
    assert main(args) == 0
    assert "chain intact: 15 records" in capsys.readouterr().out
    engine = make_engine(f"sqlite:///{copy}")
    try:
        with transaction(make_session_factory(engine)) as session:
            past_the_triggers(session)
            session.execute(update(pdl.PdlRow).where(pdl.PdlRow.seq == 4).values(patient_id="191010101010"))
    finally:
        engine.dispose()
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "chain broken: changed at seq 4" in out
