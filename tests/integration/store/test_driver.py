"""Statements handed to psycopg (``store.driver``): the same rows, values and errors as through SQLAlchemy.

The oracle is SQLAlchemy's own execution of the same statement in the same transaction. On SQLite
``store.driver`` is SQLAlchemy, so there the tests hold trivially; they are run there too so that the
callers' code path is the same on both.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, bindparam, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session, sessionmaker

from domain.arenden import Amne, ArendeStatus, Direction, MessageReference
from domain.certificates import Certificate
from domain.values import CertificateStatus
from store import arenden, certificates, driver, message_groups
from store.errors import Conflict, DatabaseUnavailable
from store.session import transaction
from store.types import NaiveDatetimeError, UtcDateTime
from tests.builders import make_arende, make_draft, make_signed_certificate

SIGNED_AT = datetime(2026, 11, 23, 9, 30, 0, 654321, tzinfo=timezone(timedelta(hours=1)))


def _stored(session_factory: sessionmaker[Session]) -> list[Certificate]:
    """A draft and a signed certificate, with a question, a reminder and an answer to care's question."""
    draft = make_draft("drv-draft")
    signed = replace(make_signed_certificate("drv-signed"), signed_at=SIGNED_AT)
    with transaction(session_factory) as session:
        certificates.add_certificates(session, [draft, signed])
        arenden.add_arenden(session, [
            make_arende(signed, message_id="drv-care-q", direction=Direction.FROM_CARE, sender_part="VARDEN"),
            make_arende(signed, message_id="drv-fk-q"),
            make_arende(signed, message_id="drv-fk-p", amne=Amne.PAMINN, reminder_of="drv-fk-q"),
            make_arende(signed, message_id="drv-fk-a", status=ArendeStatus.ANSWERED, kompletteringar=(),
                        deadline=None, answer_to=MessageReference("drv-care-q", None)),
        ])
    return [draft, signed]


def _typed(rows: list[object]) -> list[dict[str, tuple[type, object]]]:
    return [{name: (type(value), value) for name, value in row._asdict().items()} for row in rows]  # type: ignore[attr-defined]


def test_the_rows_are_sqlalchemys_rows_value_for_value_and_type_for_type(
    session_factory: sessionmaker[Session],
) -> None:
    """Enums come back as enums and ``UtcDateTime`` as an aware UTC datetime (the row was written at
    +01:00), and the ids may be any sequence: their type (``IdList``) makes them the driver's array."""
    draft, signed = _stored(session_factory)
    ids = ("drv-signed", "drv-draft", "drv-missing")  # a tuple: psycopg adapts no tuple to an array
    with transaction(session_factory) as session:
        for statement, parameters in (
            (certificates._LOCK_HEADERS, {"certificate_ids": ids}),
            (arenden._CONVERSATIONS, {"certificate_ids": ids[:1], "message_ids": ("drv-fk-q", "drv-none")}),
        ):
            direct = driver.fetch_all(session, statement, parameters)
            oracle = session.execute(statement, parameters).all()
            assert _typed(direct) == _typed(list(oracle))
            assert direct  # something was compared
        headers = driver.fetch_all(session, certificates._LOCK_HEADERS, {"certificate_ids": ids})
    assert [row.certificate_id for row in headers] == ["drv-draft", "drv-signed"]
    assert headers[0].status is CertificateStatus.DRAFT and headers[1].status is signed.status
    assert headers[1].signed_at == SIGNED_AT and headers[1].signed_at.tzinfo == UTC


def test_a_parameter_passes_through_its_type(session_factory: sessionmaker[Session]) -> None:
    """``UtcDateTime`` refuses a naive datetime and stores an aware one as its instant in UTC."""
    _stored(session_factory)
    statement = text("UPDATE arende SET answered_at = :at WHERE message_id = :message_id").bindparams(
        bindparam("at", type_=UtcDateTime())
    )
    with pytest.raises((NaiveDatetimeError, StatementError)), transaction(session_factory) as session:
        driver.execute(session, statement, {"at": SIGNED_AT.replace(tzinfo=None), "message_id": "drv-fk-q"})
    with transaction(session_factory) as session:
        driver.execute(session, statement, {"at": SIGNED_AT, "message_id": "drv-fk-q"})
    with transaction(session_factory) as session:
        stored = arenden.get_arende(session, "drv-fk-q")
    assert stored is not None and stored.answered_at == SIGNED_AT and stored.answered_at.tzinfo == UTC


def test_a_refused_write_is_a_conflict_named_by_its_constraint_and_nothing_of_it_stays(
    session_factory: sessionmaker[Session],
) -> None:
    """A meddelande-id already stored refuses the group's one statement; the error names the constraint,
    never the key (the server's text quotes it), and the transaction's earlier write is rolled back."""
    _, signed = _stored(session_factory)
    taken = make_arende(signed, message_id="drv-fk-q")
    fresh = make_arende(signed, message_id="drv-fk-new")
    with pytest.raises(Conflict) as refused, transaction(session_factory) as session:
        arenden.add_arenden(session, [make_arende(signed, message_id="drv-earlier")])
        message_groups.add_messages(session, [fresh, taken], [], datetime(2026, 11, 23, tzinfo=UTC), [])
    assert "constraint" in str(refused.value) and "drv-fk-q" not in str(refused.value)
    with transaction(session_factory) as session:
        assert arenden.get_arende(session, "drv-fk-new") is None
        assert arenden.get_arende(session, "drv-earlier") is None


@pytest.mark.postgres
def test_a_connection_the_server_dropped_is_unavailable_and_never_handed_out_again(engine: Engine) -> None:
    """The failing statement answers ``DatabaseUnavailable``; the broken connection is invalidated, so the
    transactions after it (one connection at a time: the pool holds only that one) all work."""
    if engine.dialect.name != "postgresql":
        pytest.skip("a server that drops connections is PostgreSQL's")
    factory = sessionmaker(engine, expire_on_commit=False)
    _stored(factory)
    with pytest.raises(DatabaseUnavailable), transaction(factory) as session:
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            other.commit()
        driver.fetch_all(session, certificates._LOCK_HEADERS, {"certificate_ids": ["drv-signed"]})
    for _ in range(3):
        with transaction(factory) as session:
            rows = driver.fetch_all(session, certificates._LOCK_HEADERS, {"certificate_ids": ["drv-signed"]})
        assert [row.certificate_id for row in rows] == ["drv-signed"]
