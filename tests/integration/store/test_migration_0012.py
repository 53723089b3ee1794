"""0012 keeps the causing request's correlation id under its new name and gives every queued event
its own; its downgrade gives the request's id its old name back."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import JSON, Float, Integer, String, column, insert, select, table

from store.migrate import make_config, upgrade
from store.session import make_engine
from store.types import UtcDateTime

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
OUTBOX = table(  # outbox_event as revision 0008 has it (the columns without defaults)
    "outbox_event",
    column("id", Integer()), column("certificate_id", String()), column("event_code", String()),
    column("occurred_at", UtcDateTime()), column("unit_hsa_id", String()), column("care_giver_hsa_id", String()),
    column("correlation_id", String()), column("acting_user_hsa_id", String()), column("payload", JSON()),
    column("payload_version", Integer()), column("status", String()), column("next_attempt_at", UtcDateTime()),
)
ATTEMPT = table(
    "outbox_attempt",
    column("id", Integer()), column("event_id", Integer()), column("at", UtcDateTime()), column("outcome", String()),
    column("decision", String()), column("correlation_id", String()), column("duration_ms", Float()),
)
AFTER = table(  # the same rows at 0012
    "outbox_event",
    column("id", Integer()), column("correlation_id", String()), column("request_correlation_id", String()),
    column("open_claims", Integer()),
)


def _event(n: int) -> dict[str, object]:
    return {
        "id": n, "certificate_id": f"cert-{n}", "event_code": "SKAPAT", "occurred_at": T0,
        "unit_hsa_id": "SE2321000016-1003", "care_giver_hsa_id": "SE2321000016-0001",
        "correlation_id": f"request-{n}", "acting_user_hsa_id": None, "payload": {}, "payload_version": 1,
        "status": "PENDING", "next_attempt_at": T0,
    }


def test_request_correlation_ids_survive_and_every_event_gets_its_own(blank_db_url: str) -> None:
    engine = make_engine(blank_db_url)
    try:
        command.upgrade(make_config(engine), "0011")
        with engine.begin() as connection:
            connection.execute(insert(OUTBOX), [_event(n) for n in range(1, 4)])
            connection.execute(insert(ATTEMPT), [{"id": 1, "event_id": 1, "at": T0, "outcome": "timeout",
                                                  "decision": "retry", "correlation_id": "attempt-1",
                                                  "duration_ms": 3.0}])
    finally:
        engine.dispose()
    upgrade(blank_db_url)
    engine = make_engine(blank_db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(AFTER).order_by(AFTER.c.id)).all()
            attempt = connection.execute(select(ATTEMPT.c.correlation_id, column("claimed_by"))
                                         .select_from(ATTEMPT)).one()
        assert [(r.request_correlation_id, r.open_claims) for r in rows] == [
            ("request-1", 0), ("request-2", 0), ("request-3", 0)]
        assert all(UUID4.match(r.correlation_id) for r in rows), [r.correlation_id for r in rows]
        assert len({r.correlation_id for r in rows}) == 3
        assert tuple(attempt) == ("attempt-1", None)
        command.downgrade(make_config(engine), "0011")
        with engine.connect() as connection:
            back = connection.execute(select(OUTBOX.c.id, OUTBOX.c.correlation_id).order_by(OUTBOX.c.id)).all()
            attempts = connection.execute(select(ATTEMPT.c.id, ATTEMPT.c.correlation_id)).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in back] == [(1, "request-1"), (2, "request-2"), (3, "request-3")]
    assert [tuple(r) for r in attempts] == [(1, "attempt-1")]
