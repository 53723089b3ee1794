"""0007 moves kompletteringar into their ärende's row, in order, and its downgrade moves them back."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import JSON, Integer, String, Text, column, insert, select, table

from store import arenden
from store.migrate import make_config, upgrade
from store.session import make_engine, make_session_factory, transaction
from store.types import UtcDateTime

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ARENDE = table(  # arende as revision 0006 has it (the columns this test fills)
    "arende",
    column("id", Integer()), column("message_id", String()), column("certificate_id", String()),
    column("direction", String()), column("status", String()), column("amne", String()),
    column("text", Text()), column("sent_at", UtcDateTime()), column("received_at", UtcDateTime()),
    column("sender_part", String()), column("contact_info", JSON()), column("patient_id_kind", String()),
    column("patient_id", String()), column("recipient", String()),
)
KOMPLETTERING = table(
    "komplettering",
    column("arende_id", Integer()), column("position", Integer()), column("question_id", String()),
    column("instance", Integer()), column("text", Text()),
)


def _arende(n: int) -> dict[str, object]:
    return {
        "id": n, "message_id": f"fk-q-{n}", "certificate_id": "cert-1", "direction": "FROM_RECIPIENT",
        "status": "OPEN", "amne": "KOMPLT", "text": "Fråga", "sent_at": T0, "received_at": T0,
        "sender_part": "FKASSA", "contact_info": [], "patient_id_kind": "1.2.752.129.2.1.3.1",
        "patient_id": "191212121212", "recipient": "SE2321000016-1000",
    }


def test_kompletteringar_survive_the_upgrade_and_the_downgrade(blank_db_url: str) -> None:
    engine = make_engine(blank_db_url)
    try:
        command.upgrade(make_config(engine), "0006")
        with engine.begin() as connection:
            connection.execute(insert(ARENDE), [_arende(1), _arende(2), _arende(3)])
            # Inserted out of order: the position, not the insert order, is the order.
            connection.execute(insert(KOMPLETTERING), [
                {"arende_id": 1, "position": 1, "question_id": "6", "instance": 2, "text": "Ange period."},
                {"arende_id": 1, "position": 0, "question_id": "1", "instance": None, "text": "Beskriv arbetet."},
                {"arende_id": 3, "position": 0, "question_id": "4", "instance": None, "text": "Mer om diagnosen."},
            ])
    finally:
        engine.dispose()
    upgrade(blank_db_url)
    engine = make_engine(blank_db_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            stored = {a.message_id: a for a in arenden.arenden_for_certificate(session, "cert-1")}
        assert [(k.question_id, k.instance, k.text) for k in stored["fk-q-1"].kompletteringar] == [
            ("1", None, "Beskriv arbetet."), ("6", 2, "Ange period."),
        ]
        assert stored["fk-q-2"].kompletteringar == ()
        assert [k.question_id for k in stored["fk-q-3"].kompletteringar] == ["4"]
        command.downgrade(make_config(engine), "0006")
        with engine.begin() as connection:
            rows = connection.execute(
                select(KOMPLETTERING).order_by(KOMPLETTERING.c.arende_id, KOMPLETTERING.c.position)
            ).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in rows] == [
        (1, 0, "1", None, "Beskriv arbetet."), (1, 1, "6", 2, "Ange period."), (3, 0, "4", None, "Mer om diagnosen."),
    ]
