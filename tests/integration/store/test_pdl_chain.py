"""The PDL hash chain on SQLite and PostgreSQL: tampering behind the service's back is caught, writers share one chain.

Records are sealed after commit. Each tampering case seals the records, then edits the table with
plain SQL, as someone with database access would, and ``intygsgateway pdl verify`` must exit 1
naming the first broken link. A record left unsealed past the grace period is a break too.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, insert, text
from sqlalchemy.orm import Session, sessionmaker

from cli import main
from domain.pdl import PURPOSE_CARE, RESOURCE_CERTIFICATE, Activity, PdlRecord
from domain.pdl_chain import SEAL_GRACE, BreakKind, Verification, link_hash
from store import pdl
from store.migrate import make_config
from store.session import UnitOfWork, make_engine, make_session_factory, transaction
from tests.tampering import past_the_triggers
from usecases.pdl_log import seal_all, verify_log

ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def record(number: int, **changes: object) -> PdlRecord:
    base = PdlRecord(
        log_id=f"log-{number}", system_id="SE2321000016-JOURNAL", activity=Activity.READ.value,
        start_date=T0 + timedelta(minutes=number), purpose=PURPOSE_CARE, user_id="SE2321000016-P001",
        user_care_giver_id="SE2321000016-0001", user_care_unit_id="SE2321000016-1000",
        resource_type=RESOURCE_CERTIFICATE, resource_care_giver_id="SE2321000016-0001",
        patient_id_root="1.2.752.129.2.1.3.1", patient_id="191212121212",
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def fill(factory: sessionmaker[Session], count: int = 5) -> None:
    """Append ``count`` records, in two transactions, through the service's own code, and seal them."""
    with transaction(factory) as session:
        assert pdl.append_all(session, [record(n) for n in range(1, 3)]) == 2
    with transaction(factory) as session:
        for n in range(3, count + 1):
            pdl.append(session, record(n))
    assert seal_everything(factory) == count


def seal_everything(factory: sessionmaker[Session]) -> int:
    """Seal everything committed, as ``pdl verify`` does before it walks the chain."""
    return seal_all(UnitOfWork(factory), wait=True)


def verify(factory: sessionmaker[Session], seal: bool = True) -> Verification:
    """Seal what is pending (unless ``seal`` is off), then verify."""
    return verify_log(UnitOfWork(factory), seal=seal).chain


def _sql(engine: Engine, *statements: str) -> None:
    with engine.begin() as connection:
        past_the_triggers(connection)
        for statement in statements:
            connection.execute(text(statement))


def _forge(engine: Engine, number: int, seq: int, prev_hash: str) -> None:
    """Insert a record with a correctly computed hash, as a forger who knows the format would."""
    forged = record(number, user_id="SE2321000016-FORGED")
    values = {**{k: getattr(forged, k) for k in pdl._RECORD_FIELDS}, "seq": seq, "prev_hash": prev_hash,
              "hash": link_hash(forged, seq, prev_hash)}  # fmt: skip
    with engine.begin() as connection:
        connection.execute(insert(pdl.PdlRow), [values])


def _hash_of(engine: Engine, seq: int) -> str:
    with engine.connect() as connection:
        return str(connection.execute(text(f"SELECT hash FROM pdl_record WHERE seq = {seq}")).scalar_one())


def _change(engine: Engine) -> None:
    _sql(engine, "UPDATE pdl_record SET user_id = 'SE2321000016-P999' WHERE seq = 3")


def _delete(engine: Engine) -> None:
    _sql(engine, "DELETE FROM pdl_record WHERE seq = 3")


def _reorder(engine: Engine) -> None:
    _sql(engine, "UPDATE pdl_record SET seq = -1 WHERE seq = 2", "UPDATE pdl_record SET seq = 2 WHERE seq = 3",
         "UPDATE pdl_record SET seq = 3 WHERE seq = -1")  # fmt: skip


def _insert_between(engine: Engine) -> None:
    _sql(engine, *(f"UPDATE pdl_record SET seq = {k + 1} WHERE seq = {k}" for k in (5, 4, 3)))
    _forge(engine, 99, 3, _hash_of(engine, 2))


def _insert_at_end(engine: Engine) -> None:
    _forge(engine, 99, 6, _hash_of(engine, 5))


def _cut_off_the_end(engine: Engine) -> None:
    _sql(engine, "DELETE FROM pdl_record WHERE seq = 5")


def _rewrite_last(engine: Engine) -> None:
    _sql(engine, "DELETE FROM pdl_record WHERE seq = 5")
    _forge(engine, 5, 5, _hash_of(engine, 4))


TAMPERING: dict[str, tuple[Callable[[Engine], None], BreakKind, int]] = {
    "change": (_change, BreakKind.CHANGED, 3),
    "delete": (_delete, BreakKind.MISSING, 4),
    "reorder": (_reorder, BreakKind.OUT_OF_PLACE, 2),
    "insert_between": (_insert_between, BreakKind.OUT_OF_PLACE, 4),
    "insert_at_end": (_insert_at_end, BreakKind.EXTRA, 6),
    "cut_off_the_end": (_cut_off_the_end, BreakKind.TRUNCATED, 5),
    "rewrite_last_with_valid_hash": (_rewrite_last, BreakKind.CHANGED, 5),
}


def test_clean_chain_verifies(
    db_url: str, session_factory: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    """Five records appended in two transactions verify, and the CLI prints the head hash."""
    fill(session_factory)
    result = verify(session_factory)
    assert result.broken is None and result.checked == 5 and result.last.seq == 5 and result.pending == 0
    assert main(["pdl", "verify", "--db", db_url]) == 0
    assert f"head hash {result.last.hash}, 0 pending" in capsys.readouterr().out


def test_empty_log_verifies(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A new database has an empty, intact chain."""
    assert main(["pdl", "verify", "--db", db_url]) == 0
    assert "chain intact: 0 records" in capsys.readouterr().out


@pytest.mark.parametrize("case", TAMPERING)
def test_tampering_is_caught(
    case: str, db_url: str, engine: Engine, session_factory: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    """Each kind of change behind the service's back breaks the chain at the expected record; verify exits 1."""
    tamper, kind, seq = TAMPERING[case]
    fill(session_factory)
    tamper(engine)
    broken = verify(session_factory).broken
    assert broken is not None and (broken.kind, broken.seq) == (kind, seq)
    assert main(["pdl", "verify", "--db", db_url]) == 1
    assert f"chain broken: {kind.value} at seq {seq}" in capsys.readouterr().out


def _unsealed_row(engine: Engine, number: int, stored_at: datetime) -> None:
    """Insert a record without a link, as a writer behind the service's back would, stored at ``stored_at``."""
    values = {**{k: getattr(record(number), k) for k in pdl._RECORD_FIELDS}, "stored_at": stored_at}
    with engine.begin() as connection:
        connection.execute(insert(pdl.PdlRow), [values])


def test_committed_records_wait_unsealed_and_are_pending_not_broken(
    db_url: str, session_factory: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    """An appended record has no link until sealed; meanwhile verify counts it pending, and sealing links it."""
    fill(session_factory)
    with transaction(session_factory) as session:
        pdl.append(session, record(6))
    unsealed = verify(session_factory, seal=False)
    assert (unsealed.broken, unsealed.checked, unsealed.pending) == (None, 5, 1)
    assert main(["pdl", "verify", "--no-seal", "--db", db_url]) == 0
    assert "5 records" in capsys.readouterr().out
    assert main(["pdl", "verify", "--db", db_url]) == 0
    assert "6 records, head seq 6" in capsys.readouterr().out


def test_record_left_unsealed_past_the_grace_period_breaks_the_chain(
    db_url: str, engine: Engine, session_factory: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    """A row inserted behind the service's back, never sealed and older than the grace period, fails verification."""
    fill(session_factory)
    _unsealed_row(engine, 99, datetime.now(UTC) - SEAL_GRACE - timedelta(minutes=1))
    result = verify(session_factory, seal=False)
    assert result.broken is not None and (result.broken.kind, result.broken.seq, result.broken.log_id) == (
        BreakKind.NOT_SEALED, None, "log-99")
    assert (result.checked, result.pending) == (5, 1)
    assert main(["pdl", "verify", "--no-seal", "--db", db_url]) == 1
    assert "chain broken: not_sealed at logId log-99" in capsys.readouterr().out


def test_record_committed_after_a_later_one_was_sealed_is_sealed_in_a_later_round(
    db_backend: str, session_factory: sessionmaker[Session]
) -> None:
    """The chain's order is the sealing order: a record whose transaction commits late follows the ones
    sealed before."""
    if db_backend == "sqlite":
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): a row always commits before any later id exists")
    with session_factory() as late, late.begin():
        pdl.append(late, record(1))  # takes the lower id, commits last
        with transaction(session_factory) as session:
            pdl.append(session, record(2))
        assert seal_everything(session_factory) == 1
    assert seal_everything(session_factory) == 1
    result = verify(session_factory)
    assert result.broken is None and result.checked == 2 and result.pending == 0
    with transaction(session_factory) as session:
        assert [item.record.log_id for item in pdl.records_through(session, 2)] == ["log-2", "log-1"]


def test_rolled_back_append_leaves_the_chain_as_it_was(session_factory: sessionmaker[Session]) -> None:
    """A transaction that fails after appending leaves neither rows nor a moved head."""
    fill(session_factory, 2)
    with pytest.raises(RuntimeError), transaction(session_factory) as session:
        pdl.append(session, record(3))
        raise RuntimeError("the caller's transaction fails")
    fill_more = record(4)
    with transaction(session_factory) as session:
        pdl.append(session, fill_more)
    result = verify(session_factory)
    assert result.broken is None and result.last.seq == 3


WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from functools import partial
    from domain.pdl import PdlRecord
    from usecases.pdl_log import seal_all
    from scheduler.pdl_sealer import PdlSealer
    from store import pdl
    from store.session import UnitOfWork, make_engine, make_session_factory, transaction

    url, name, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    run = UnitOfWork(make_session_factory(make_engine(url)))
    sealer = PdlSealer(run, 0.005)  # this process's background sealer, as in the gateway
    sealer.start()
    sealed = 0
    for n in range(rounds):
        records = [
            PdlRecord(log_id=f"{name}-{n}-{i}", system_id="SE1", activity="Läsa", start_date=datetime.now(UTC),
                      purpose="Vård och behandling", user_id="U", user_care_giver_id="G", user_care_unit_id="E",
                      resource_type="Intyg", resource_care_giver_id="G")
            for i in range(3)
        ]
        with run() as session:
            pdl.append_all(session, records)
        sealed += seal_all(run, batch=2)  # and a second sealer, racing the thread and the other process
    sealer.stop()
    print(sealed)
    """
)


def test_two_processes_writing_and_sealing_at_once_keep_one_chain(
    db_url: str, session_factory: sessionmaker[Session]
) -> None:
    """Two OS processes append 3 x 60 records each, each sealing in two threads meanwhile; one unbroken
    chain results."""
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, db_url, name, "60"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for name in ("a", "b")
    ]
    sealed_by_writers = 0
    for writer in writers:
        out, errors = writer.communicate(timeout=120)
        assert writer.returncode == 0, errors.decode()
        sealed_by_writers += int(out)
    assert sealed_by_writers > 0
    result = verify(session_factory)
    assert result.broken is None and result.checked == 360 and result.pending == 0


def test_two_sealers_at_once_never_fork_the_chain(session_factory: sessionmaker[Session]) -> None:
    """Two threads seal the same 600 pending records in small batches, each queueing for the head: each
    record is sealed once, in one chain."""
    with transaction(session_factory) as session:
        pdl.append_all(session, [record(n) for n in range(600)])
    run = UnitOfWork(session_factory)
    counts: list[int] = []
    start = threading.Barrier(2)

    def sealer() -> None:
        start.wait(10)
        counts.append(seal_all(run, wait=True, batch=7))

    threads = [threading.Thread(target=sealer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(counts) == 600
    result = verify(session_factory, seal=False)
    assert result.broken is None and result.checked == 600 and result.pending == 0


def test_verification_while_sealers_commit_sees_one_state(session_factory: sessionmaker[Session]) -> None:
    """A thread appends and seals without pause while the chain is verified again and again: never a false break.

    Verification goes on until the thread has sealed several more rounds after the first verdict
    (bounded), so the verdicts really interleave with sealing however the threads are scheduled.
    """
    run = UnitOfWork(session_factory)
    stop = threading.Event()
    sealed_rounds = [0]

    def churn() -> None:
        while not stop.is_set() and sealed_rounds[0] < 10_000:
            with run() as session:
                pdl.append_all(session, [record(sealed_rounds[0] * 10 + i) for i in range(3)])
            seal_all(run)
            sealed_rounds[0] += 1

    thread = threading.Thread(target=churn)
    thread.start()
    try:
        verdicts = [verify(session_factory, seal=False)]
        target = sealed_rounds[0] + 5
        while (len(verdicts) < 30 or sealed_rounds[0] < target) and len(verdicts) < 2_000:
            verdicts.append(verify(session_factory, seal=False))
            # SQLite's write lock is not fair: without a pause this loop can take it back every time
            # and starve the sealing thread past its busy timeout on a loaded machine.
            stop.wait(0.005)
    finally:
        stop.set()
        thread.join(60)
    assert [v.broken for v in verdicts if v.broken is not None] == []
    assert verdicts[-1].checked + verdicts[-1].pending > verdicts[0].checked + verdicts[0].pending


def test_rows_from_before_the_chain_are_sealed_after_the_migration(blank_db_url: str) -> None:
    """A record written by the previous release (revision 0003) is pending after the upgrade, then sealed,
    and verifies."""
    engine = make_engine(blank_db_url)
    try:
        command.upgrade(make_config(engine), "0003")
        old = record(1)
        later = ("user_person_id_root", "user_person_id", "resource_index", "consumer_id", "consumer_auth")
        columns = {k: getattr(old, k) for k in pdl._RECORD_FIELDS if k not in later}
        with engine.begin() as connection:
            connection.execute(insert(pdl.PdlRow).values(**columns))
        command.upgrade(make_config(engine), "head")
        pending = verify(make_session_factory(engine), seal=False)
        result = verify(make_session_factory(engine))
    finally:
        engine.dispose()
    assert (pending.broken, pending.checked, pending.pending) == (None, 0, 1)
    assert result.broken is None and result.checked == 1


def test_a_sealing_transaction_links_more_records_on_postgresql(session_factory: sessionmaker[Session]) -> None:
    """1,201 pending records take two sealing transactions on PostgreSQL (1,000 a round: only sealers
    wait for its head) and seven on SQLite (200 a round: every writer waits for its lock)."""
    with transaction(session_factory) as session:
        pdl.append_all(session, [record(n) for n in range(1201)])
    opened: list[int] = []

    class Counted(UnitOfWork):
        def __call__(self) -> AbstractContextManager[Session]:
            opened.append(1)
            return super().__call__()

    run = Counted(session_factory)
    assert seal_all(run) == 1201
    assert len(opened) == {"postgresql": 2, "sqlite": 7}[run.dialect]
    assert verify(session_factory).pending == 0
