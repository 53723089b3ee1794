"""0015 gives every existing certificate the history it would have had: the outbox's status updates
still there, then what the certificate's and its ärenden's columns prove; its downgrade drops it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from alembic import command
from sqlalchemy import Table, inspect, select

from domain.arenden import Amne, ArendeStatus, Direction, MessageReference
from domain.values import CertificateStatus, HsaId
from store import arenden, certificates
from store.certificate_events import CertificateEventRow
from store.migrate import make_config, upgrade
from store.outbox.tables import OutboxRow
from store.session import make_engine, make_session_factory, transaction
from tests.builders import make_arende, make_signed_certificate

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
USER = "SE2321000016-P001"
OUTBOX = cast(Table, OutboxRow.__table__)
HISTORY = cast(Table, CertificateEventRow.__table__)
KEPT, PURGED, GONE = "kept-outbox", "purged-outbox", "deleted-draft"


def _event(n: int, certificate_id: str, code: str, **changes: Any) -> dict[str, Any]:
    return {
        "id": n, "certificate_id": certificate_id, "event_code": code, "occurred_at": T0 + timedelta(minutes=n),
        "unit_hsa_id": "SE2321000016-1003", "care_giver_hsa_id": "SE2321000016-0001", "correlation_id": f"e-{n}",
        "request_correlation_id": f"r-{n}", "acting_user_hsa_id": USER, "payload": {}, "payload_version": 1,
        "status": "DELIVERED", "next_attempt_at": T0, "contract": "CertificateStatusUpdateForCare",
        "destination": "journal", "logical_address": None, "recipient": None, **changes,
    }  # every row with the same keys: an executemany takes its columns from the first row


def _history(connection: Any) -> list[tuple[Any, ...]]:
    e = HISTORY.c
    rows = connection.execute(select(e.certificate_id, e.event_code, e.handled_by_hsa_id, e.amne, e.last_answer_date)
                              .order_by(e.certificate_id, e.occurred_at, e.id)).all()
    return [(row[0], str(row[1]), row[2], None if row[3] is None else str(row[3]), row[4]) for row in rows]


def test_history_from_the_outbox_and_from_the_columns_and_the_downgrade_drops_it(blank_db_url: str) -> None:
    engine = make_engine(blank_db_url)
    try:
        command.upgrade(make_config(engine), "0014")
        signed = make_signed_certificate(KEPT)
        purged = replace(make_signed_certificate(PURGED), status=CertificateStatus.REVOKED,
                         revoked_at=T0 + timedelta(days=2), revoked_by=HsaId(USER), ready_at=T0, ready_by=HsaId(USER))
        with transaction(make_session_factory(engine)) as session:
            certificates.add_certificate(session, signed)
            certificates.add_certificate(session, purged)
            arenden.add_arenden(session, [
                make_arende(purged, message_id="q1", status=ArendeStatus.HANDLED, handled_at=T0 + timedelta(days=1),
                            handled_by=HsaId(USER)),
                make_arende(purged, message_id="a1", answer_to=MessageReference("care-q"), deadline=None,
                            content_hash="1" * 64),
                make_arende(purged, message_id="care-q", direction=Direction.FROM_CARE, amne=Amne.KONTKT,
                            author=HsaId(USER), deadline=None, content_hash=None),
            ])
            session.execute(OUTBOX.insert(), [
                _event(1, KEPT, "SKAPAT"),
                _event(2, KEPT, "NYFRFM", acting_user_hsa_id=None,
                       payload={"amne": "KOMPLT", "sistaDatumForSvar": "2026-12-15", "counts": {}}),
                _event(3, KEPT, "SKICKA", contract="RegisterCertificate", destination="2021005521",
                       logical_address="2021005521", recipient="FKASSA"),  # onward: not history
                _event(4, GONE, "SKAPAT"), _event(5, GONE, "RADERA"),  # the draft is gone
            ])
    finally:
        engine.dispose()
    upgrade(blank_db_url)
    engine = make_engine(blank_db_url)
    try:
        with engine.begin() as connection:
            history = _history(connection)
        # SKAPAT and NYFRFM from the outbox (the column adds no second SKAPAT); the signing and the send
        # (signed and sent on the 21st, before those) from the columns; the onward SKICKA is not history.
        assert [row for row in history if row[0] == KEPT] == [
            (KEPT, "SIGNAT", USER, None, None), (KEPT, "SKICKA", None, None, None),
            (KEPT, "SKAPAT", USER, None, None), (KEPT, "NYFRFM", None, "KOMPLT", date(2026, 12, 15)),
        ]
        assert sorted(row[1:] for row in history if row[0] == PURGED) == sorted([
            ("SKAPAT", USER, None, None), ("KFSIGN", USER, None, None), ("SIGNAT", USER, None, None),
            ("SKICKA", None, None, None), ("MAKULE", USER, None, None),
            ("NYFRFM", None, "KOMPLT", date(2026, 12, 15)), ("NYSVFM", None, None, None),
            ("HANFRFM", USER, None, None), ("NYFRFV", USER, None, None),
        ])
        assert not [row for row in history if row[0] == GONE]
        assert "ix_certificate_patient_id" in {index["name"] for index in inspect(engine).get_indexes("certificate")}
        command.downgrade(make_config(engine), "0014")
        assert "certificate_event" not in inspect(engine).get_table_names()
        assert "ix_certificate_patient_id" not in {i["name"] for i in inspect(engine).get_indexes("certificate")}
        with engine.begin() as connection:
            assert connection.scalar(select(OUTBOX.c.id).where(OUTBOX.c.id == 5)) == 5  # the outbox untouched
    finally:
        engine.dispose()
