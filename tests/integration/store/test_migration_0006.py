"""Upgrading a database with queued events: they survive 0006 and are sent as queued."""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from sqlalchemy import JSON, Integer, String, column, insert, table

from domain.events import PAYLOAD_VERSION
from domain.resend_policy import ScheduleKind, Series
from store.migrate import make_config, upgrade
from store.outbox import claim_due
from store.session import make_engine, make_session_factory, transaction
from store.types import UtcDateTime
from tests.integration.store.outbox_helpers import T0

OLD_OUTBOX = table(  # outbox_event as revision 0005 has it
    "outbox_event",
    column("certificate_id", String()), column("event_code", String()), column("occurred_at", UtcDateTime()),
    column("unit_hsa_id", String()), column("care_giver_hsa_id", String()), column("correlation_id", String()),
    column("acting_user_hsa_id", String()), column("payload", JSON()), column("payload_version", Integer()),
    column("status", String()), column("next_attempt_at", UtcDateTime()),
)


def test_pending_events_queued_before_the_upgrade_are_claimable_after_it(blank_db_url: str) -> None:
    engine = make_engine(blank_db_url)
    try:
        command.upgrade(make_config(engine), "0005")
        with engine.begin() as connection:
            connection.execute(insert(OLD_OUTBOX), [
                {"certificate_id": f"cert-{n}", "event_code": "SKAPAT", "occurred_at": T0,
                 "unit_hsa_id": "SE2321000016-1000", "care_giver_hsa_id": "SE2321000016-0001",
                 "correlation_id": f"c{n}", "acting_user_hsa_id": None, "payload": {"counts": None},
                 "payload_version": PAYLOAD_VERSION, "status": "PENDING", "next_attempt_at": T0}
                for n in range(3)
            ])
    finally:
        engine.dispose()
    upgrade(blank_db_url)
    engine = make_engine(blank_db_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            claimed = claim_due(session, "w", T0 + timedelta(seconds=1), timedelta(minutes=1), 10)
    finally:
        engine.dispose()
    assert [c.event.certificate_id for c in claimed] == ["cert-0", "cert-1", "cert-2"]
    assert {c.series for c in claimed} == {Series(ScheduleKind.TECHNICAL, 0, T0)}
    assert {(c.attempts, c.event.payload_version) for c in claimed} == {(0, PAYLOAD_VERSION)}
