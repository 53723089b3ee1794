"""New drafts stored together: the rows of a group of drafts, in one statement on PostgreSQL.

CreateDraftCertificate stores the drafts one process has ready at once in one transaction (the group
commit of ``usecases.create_draft``): each draft's certificate, its SKAPAT event and history entry, its
PDL record, and the units the drafts register. Written as a statement per table, those were five
statements, and each one cost the gateway about 150-250 µs of CPU in SQLAlchemy and psycopg whatever
the rows it carried: half of a CreateDraftCertificate (issue 16). On PostgreSQL they are one statement:
each table's rows travel as one JSON parameter (``json_rows``) and data-modifying ``WITH`` clauses insert
them all, in one round trip. On SQLite, which runs in the process and has no round trips, the
statements per table stay.

Either way the rows are the same, built by each table's own row function (``certificates.insert_row``,
``outbox.queue.rows_by_table``, ``pdl.record_row``,
``units.upsert_row``), and the statement is one statement: a certificate id already stored refuses
the whole group, as the transaction would.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import TextClause

from domain.certificates import Certificate
from domain.events import OutboxEvent
from domain.pdl import PdlRecord
from store import certificates, pdl, units
from store.base import TableShape, inserts_from_json, json_tables
from store.certificates import CertificateRow
from store.outbox import queue
from store.pdl import PdlRow
from store.session import Tx, UnitOfWork, translate_errors
from store.units import IntegratedUnit, IntegratedUnitRow


def store_drafts(
    unit_of_work: UnitOfWork,
    new: Sequence[Certificate],
    sightings: Sequence[IntegratedUnit],
    events: Sequence[OutboxEvent],
    records: Sequence[PdlRecord],
) -> None:
    """Store the rows of new drafts (as ``add_drafts``) in a transaction of their own.

    On PostgreSQL the rows are one statement, sent alone (``UnitOfWork.one_statement``): the
    statement is then its own transaction, without the round trips of ``BEGIN`` and ``COMMIT``.
    Elsewhere, or for an event that needs the statements per table, ``add_drafts`` in a transaction.

    Raises:
        Conflict: a row is refused by a constraint (a certificate id already stored); nothing was stored.
        DatabaseUnavailable: the database did not answer; nothing was stored.
    """
    if not _one_statement(unit_of_work.dialect, events):
        with unit_of_work() as session:
            add_drafts(session, new, sightings, events, records)
        return
    if not new:
        return
    statement, parameters = statement_for(new, sightings, events, records)
    with unit_of_work.one_statement() as connection:
        connection.execute(statement, parameters)


def add_drafts(
    session: Tx,
    new: Sequence[Certificate],
    sightings: Sequence[IntegratedUnit],
    events: Sequence[OutboxEvent],
    records: Sequence[PdlRecord],
) -> None:
    """Store the certificates, unit sightings, events (with their history) and PDL records of new
    drafts in the caller's transaction, each list in order.

    Raises:
        Conflict: a row is refused by a constraint (a certificate id already stored); nothing was stored.
        ValueError: as ``certificates.add_certificate``.
    """
    if not _one_statement(session.get_bind().dialect.name, events):
        certificates.add_certificates(session, new)
        for sighting in sightings:
            units.register_integrated_unit(
                session, sighting.unit, sighting.care_giver, sighting.last_seen, first_seen=sighting.first_seen
            )
        queue.enqueue_all(session, events)
        pdl.append_all(session, records)
        return
    if not new:
        return
    statement, parameters = statement_for(new, sightings, events, records)
    with translate_errors():
        session.execute(statement, parameters)


def _one_statement(dialect: str, events: Sequence[OutboxEvent]) -> bool:
    """Whether these rows can be one statement (``statement_for``): on PostgreSQL, unless an event
    supersedes earlier edits, which needs its own row id first (``queue.enqueue``; no new draft's
    event does)."""
    return dialect == "postgresql" and not any(map(queue.supersedes, events))


def statement_for(
    new: Sequence[Certificate],
    sightings: Sequence[IntegratedUnit],
    events: Sequence[OutboxEvent],
    records: Sequence[PdlRecord],
) -> tuple[TextClause, dict[str, str]]:
    """The PostgreSQL statement that stores these rows, and its parameters (each table's rows as JSON)."""
    shape, parameters = json_tables({
        str(CertificateRow.__tablename__): [certificates.insert_row(certificate) for certificate in new],
        **queue.rows_by_table(events),
        str(PdlRow.__tablename__): [pdl.record_row(record) for record in records],
        _UNITS: [units.upsert_row(sighting) for sighting in sightings],
    })
    return _statement(shape), parameters


_UNITS = str(IntegratedUnitRow.__tablename__)


def _upsert_units(select: str) -> str:
    return units.upsert_sql("postgresql", select)


def _statement(shape: TableShape) -> TextClause:
    """One ``WITH`` clause per table that has rows (``shape``: each table and the columns of its rows),
    the units upserted (``inserts_from_json``)."""
    return inserts_from_json(shape, ((_UNITS, _upsert_units),))
