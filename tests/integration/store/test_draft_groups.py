"""A group of new drafts' rows stored at once (``store.draft_groups``): on PostgreSQL one statement whose
rows travel as JSON, which must leave exactly the rows the statement per table leaves.

The oracle is the statement per table (``certificates.add_certificates``, ``units``, ``queue.enqueue_all``,
``pdl.append_all``), run on the same database for the same drafts under other ids; every column of every
row is compared, except what each insert makes anew (row ids, correlation ids, insert times).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from domain.directory import CareGiver
from domain.values import HsaId
from store import certificates, draft_groups, pdl, units
from store.base import with_all
from store.errors import Conflict
from store.outbox import queue
from store.session import UnitOfWork, transaction
from store.units import IntegratedUnit
from tests.builders import CARE_GIVER, make_new_draft
from usecases.create_draft import NewDraft, draft_rows

T0 = datetime(2026, 12, 1, 9, 0, 0, 123456, tzinfo=UTC)
OTHER_REGION = CareGiver(HsaId("SE2321000016-0002"), "Region Annan")
# What each insert makes anew, left out of the comparison.
MADE_ANEW = {"id", "correlation_id", "created_at", "stored_at", "log_id"}


def _drafts(prefix: str) -> list[NewDraft]:
    """Six drafts on two units (two spellings of one), one of them test data (no PDL record), with
    characters that need escaping in JSON and a time with microseconds."""
    drafts = []
    for n in range(6):
        draft = make_new_draft(
            f"{prefix}draft-{n}",
            unit=["SE2321000016-1003", "se2321000016-1003", "SE2321000016-1004"][n % 3],
            at=T0 + timedelta(milliseconds=n),
            care_giver=OTHER_REGION if n == 4 else CARE_GIVER,
            test_certificate=n == 5,
        )
        certificate = replace(draft.certificate, ref=f'ref "{n}" \\ åäö \u2028 <&>')
        drafts.append(replace(draft, certificate=certificate))
    return drafts


def _per_table(session: Session, drafts: list[NewDraft]) -> None:
    rows = draft_rows(drafts)
    certificates.add_certificates(session, rows.certificates)
    for sighting in rows.units:
        units.register_integrated_unit(session, sighting.unit, sighting.care_giver, sighting.last_seen,
                                       first_seen=sighting.first_seen)
    queue.enqueue_per_table(session, rows.events)
    pdl.append_all(session, rows.records)


def _rows(session: Session, table: str, column: str, prefix: str) -> list[dict[str, Any]]:
    """The rows of ``table`` whose ``column`` starts with ``prefix``, in row order, without what is made anew
    and with the prefix taken out of every text."""
    found = session.execute(text(f"SELECT * FROM {table} WHERE {column} LIKE :like ORDER BY {column}, 1"),
                            {"like": f"{prefix}%"}).mappings().all()
    return [{name: value.replace(prefix, "") if isinstance(value, str) else value
             for name, value in row.items() if name not in MADE_ANEW} for row in found]


def test_the_rows_are_those_the_statements_per_table_leave(session_factory: sessionmaker[Session]) -> None:
    together, apart = _drafts("a-"), _drafts("b-")
    with transaction(session_factory) as session:
        rows = draft_rows(together)
        draft_groups.add_drafts(session, rows.certificates, rows.units, rows.events, rows.records)
    with transaction(session_factory) as session:
        _per_table(session, apart)
    with transaction(session_factory) as session:
        for table, column in (("certificate", "certificate_id"), ("outbox_event", "certificate_id"),
                              ("certificate_event", "certificate_id"), ("pdl_record", "activity_args")):
            assert _rows(session, table, column, "a-") == _rows(session, table, column, "b-"), table
        # The events' rows in the order of the drafts, so each certificate's events stay in order.
        ordered = session.execute(text(
            "SELECT certificate_id FROM outbox_event WHERE certificate_id LIKE 'a-%' ORDER BY id")).scalars().all()
        assert ordered == [draft.certificate.id for draft in together]
        assert certificates.certificates_by_id(session, [d.certificate.id for d in together]) == {
            d.certificate.id: d.certificate for d in together}
        records = [pdl.records_for_certificate(session, d.certificate.id) for d in together]
        assert records == [[] if d.record is None else [d.record] for d in together]


def test_the_units_follow_the_rule_of_the_upsert(session_factory: sessionmaker[Session]) -> None:
    """A unit already integrated keeps its first sighting and spelling, moves its last, and takes the
    care giver of the newest draft; a new one is inserted as the drafts saw it."""
    with transaction(session_factory) as session:
        units.register_integrated_unit(session, HsaId("SE2321000016-1003"), HsaId("SE2321000016-0001"),
                                       T0 - timedelta(days=1))
    drafts = _drafts("u-")
    with transaction(session_factory) as session:
        rows = draft_rows(drafts)
        draft_groups.add_drafts(session, rows.certificates, rows.units, rows.events, rows.records)
    with transaction(session_factory) as session:
        assert units.get_integrated_unit(session, HsaId("se2321000016-1003")) == IntegratedUnit(
            HsaId("SE2321000016-1003"), OTHER_REGION.hsa_id, T0 - timedelta(days=1), T0 + timedelta(milliseconds=4))
        assert units.get_integrated_unit(session, HsaId("SE2321000016-1004")) == IntegratedUnit(
            HsaId("SE2321000016-1004"), CARE_GIVER.hsa_id, T0 + timedelta(milliseconds=2),
            T0 + timedelta(milliseconds=5))


def test_a_taken_certificate_id_refuses_the_whole_group(session_factory: sessionmaker[Session]) -> None:
    drafts = _drafts("c-")
    with transaction(session_factory) as session:
        rows = draft_rows(drafts[:1])
        draft_groups.add_drafts(session, rows.certificates, rows.units, rows.events, rows.records)
    with pytest.raises(Conflict), transaction(session_factory) as session:
        rows = draft_rows(drafts)
        draft_groups.add_drafts(session, rows.certificates, rows.units, rows.events, rows.records)
    with transaction(session_factory) as session:
        stored = certificates.certificates_by_id(session, [d.certificate.id for d in drafts])
        assert list(stored) == [drafts[0].certificate.id]
        count = session.execute(text("SELECT count(*) FROM outbox_event WHERE certificate_id LIKE 'c-%'")).scalar()
        assert count == 1


@pytest.fixture
def sent() -> Iterator[list[tuple[str, bool]]]:
    """Every statement any engine sends during the test, by its first word, and whether psycopg sent it
    in autocommit, that is without a BEGIN of its own before it (listened to, not changed). Every engine:
    ``one_statement`` sends through an engine of its own."""
    statements: list[tuple[str, bool]] = []

    def executing(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        autocommit = getattr(connection.connection.dbapi_connection, "autocommit", False) is True
        statements.append((statement.split()[0].upper(), autocommit))

    event.listen(Engine, "before_cursor_execute", executing)
    yield statements
    event.remove(Engine, "before_cursor_execute", executing)


def test_stored_alone_a_group_is_the_same_rows_in_one_round_trip(
    session_factory: sessionmaker[Session], sent: list[tuple[str, bool]]
) -> None:
    """``store_drafts``: the rows ``add_drafts`` leaves in a transaction; on PostgreSQL one statement sent
    outside a transaction block (no BEGIN, no COMMIT), elsewhere the transaction as before."""
    alone, together = _drafts("x-"), _drafts("y-")
    run = UnitOfWork(session_factory)
    rows = draft_rows(alone)
    draft_groups.store_drafts(run, rows.certificates, rows.units, rows.events, rows.records)
    if run.dialect == "postgresql":
        assert sent == [("WITH", True)]
    else:  # the statements per table, in a transaction
        assert len(sent) > 3 and not any(autocommit for _, autocommit in sent)
    with transaction(session_factory) as session:
        rows = draft_rows(together)
        draft_groups.add_drafts(session, rows.certificates, rows.units, rows.events, rows.records)
    with transaction(session_factory) as session:
        for table, column in (("certificate", "certificate_id"), ("outbox_event", "certificate_id"),
                              ("certificate_event", "certificate_id"), ("pdl_record", "activity_args")):
            assert _rows(session, table, column, "x-") == _rows(session, table, column, "y-"), table


def test_stored_alone_a_refused_group_leaves_nothing(session_factory: sessionmaker[Session]) -> None:
    """The one statement is its own transaction: the draft whose id is taken refuses the others' rows
    in every table, and the connection goes back to the pool fit for a transaction."""
    drafts = _drafts("r-")
    run = UnitOfWork(session_factory)
    first = draft_rows(drafts[:1])
    draft_groups.store_drafts(run, first.certificates, first.units, first.events, first.records)
    rows = draft_rows([*drafts[1:], drafts[0]])
    with pytest.raises(Conflict):
        draft_groups.store_drafts(run, rows.certificates, rows.units, rows.events, rows.records)
    with transaction(session_factory) as session:
        for table, column in (("certificate", "certificate_id"), ("outbox_event", "certificate_id"),
                              ("certificate_event", "certificate_id")):
            count = session.execute(text(f"SELECT count(*) FROM {table} WHERE {column} LIKE 'r-%'")).scalar()
            assert count == 1, table
        assert session.execute(text("SELECT count(*) FROM integrated_unit WHERE unit_key LIKE '%1004'")).scalar() == 0
        dbapi_connection = session.connection().connection.dbapi_connection
        assert getattr(dbapi_connection, "autocommit", False) is not True  # back in the pool fit for a transaction


def test_one_statement_is_refused_where_writers_queue_at_begin(session_factory: sessionmaker[Session]) -> None:
    run = UnitOfWork(session_factory)
    if run.dialect == "postgresql":
        with run.one_statement() as connection:
            assert connection.connection.dbapi_connection.autocommit is True  # type: ignore[union-attr]
    else:
        with pytest.raises(NotImplementedError):
            run.one_statement()


def test_one_statement_connections_stay_in_autocommit_apart_from_the_transactions(
    session_factory: sessionmaker[Session], sent: list[tuple[str, bool]]
) -> None:
    """``one_statement`` takes its connections from a pool of its own, put in autocommit once: the
    transactions' connections are never switched to autocommit and back, a statement's connection goes
    back as it is and comes out again for the next (no reconnect), and disposing the engine closes them."""
    engine = session_factory.kw["bind"]
    run = UnitOfWork(session_factory)
    if run.dialect != "postgresql":
        return
    with transaction(session_factory) as session:
        session.execute(text("SELECT 1"))
        main = session.connection().connection.dbapi_connection
    seen = []
    for prefix in ("a1-", "a2-"):
        rows = draft_rows(_drafts(prefix)[:2])
        with run.one_statement() as connection:
            assert connection.engine is not engine
            seen.append(connection.connection.dbapi_connection)
            connection.execute(*draft_groups.statement_for(rows.certificates, rows.units, rows.events, rows.records))
    assert seen[0] is seen[1] and seen[0] is not main
    assert main.autocommit is False  # type: ignore[union-attr]
    assert [statement for statement, _ in sent] == ["SELECT", "WITH", "WITH"]
    with transaction(session_factory) as session:
        assert session.execute(text("SELECT count(*) FROM certificate WHERE certificate_id LIKE 'a_-%'")).scalar() == 4
    engine.dispose()
    assert seen[0].closed  # type: ignore[union-attr]


def test_the_group_statement_returns_no_row(session_factory: sessionmaker[Session]) -> None:
    """The last clause is the statement itself: nothing comes back for the driver to read and SQLAlchemy
    to describe (``store.base.with_all``), and the clauses before it still run."""
    assert with_all(["INSERT INTO a VALUES (1)"]) == "INSERT INTO a VALUES (1)"
    run = UnitOfWork(session_factory)
    if run.dialect != "postgresql":
        return
    rows = draft_rows(_drafts("n-"))
    statement, parameters = draft_groups.statement_for(rows.certificates, rows.units, rows.events, rows.records)
    with run.one_statement() as connection:
        assert connection.execute(statement, parameters).returns_rows is False
    with transaction(session_factory) as session:
        for table in ("certificate", "outbox_event", "certificate_event"):
            count = session.execute(text(f"SELECT count(*) FROM {table} WHERE certificate_id LIKE 'n-%'")).scalar()
            assert count == 6, table
        assert session.execute(text("SELECT count(*) FROM pdl_record WHERE activity_level LIKE 'n-%'")).scalar() == 5
