"""0013 makes every queued event a status update for the journal, leaves certificates and ärenden
without send or delivery state, and its downgrade drops onward events the older release cannot send."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from alembic import command
from sqlalchemy import JSON, Float, Integer, String, Table, column, insert, select, table, text

from store.certificates import CertificateRow
from store.migrate import make_config, upgrade
from store.session import make_engine
from store.types import UtcDateTime
from tests.builders import make_revoked_certificate
from tests.integration.store.older_rows import row_before_0014

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
LATER = ("send_requested_at", "send_failed_at", "send_failure_class", "send_failure_text")
OUTBOX = table(  # outbox_event as revision 0012 has it (the columns without defaults)
    "outbox_event",
    column("id", Integer()), column("certificate_id", String()), column("event_code", String()),
    column("occurred_at", UtcDateTime()), column("unit_hsa_id", String()), column("care_giver_hsa_id", String()),
    column("correlation_id", String()), column("request_correlation_id", String()),
    column("acting_user_hsa_id", String()), column("payload", JSON()), column("payload_version", Integer()),
    column("status", String()), column("next_attempt_at", UtcDateTime()),
)
ATTEMPT = table(
    "outbox_attempt",
    column("id", Integer()), column("event_id", Integer()), column("at", UtcDateTime()), column("outcome", String()),
    column("decision", String()), column("correlation_id", String()), column("duration_ms", Float()),
)
AFTER = table(
    "outbox_event",
    column("id", Integer()), column("contract", String()), column("recipient", String()),
    column("logical_address", String()), column("destination", String()),
)


def _event(n: int) -> dict[str, object]:
    return {
        "id": n, "certificate_id": "c0ffee00-0000-4000-8000-000000000001", "event_code": "SIGNAT",
        "occurred_at": T0, "unit_hsa_id": "SE2321000016-1003", "care_giver_hsa_id": "SE2321000016-0001",
        "correlation_id": f"event-{n}", "request_correlation_id": f"request-{n}", "acting_user_hsa_id": None,
        "payload": {}, "payload_version": 1, "status": "PENDING", "next_attempt_at": T0,
    }


def test_queued_events_become_status_updates_and_an_onward_event_goes_with_the_downgrade(blank_db_url: str) -> None:
    certificate = make_revoked_certificate()
    engine = make_engine(blank_db_url)
    try:
        command.upgrade(make_config(engine), "0012")
        with engine.begin() as connection:
            connection.execute(insert(OUTBOX), [_event(1), _event(2)])
            row = row_before_0014(certificate, LATER)
            row |= {"unit_key": certificate.unit.hsa_id.key, "signed_by_key": "se2321000016-p001"}
            connection.execute(cast(Table, CertificateRow.__table__).insert(), row)
    finally:
        engine.dispose()
    upgrade(blank_db_url)
    engine = make_engine(blank_db_url)
    try:
        with engine.begin() as connection:
            before = connection.execute(select(AFTER).order_by(AFTER.c.id)).all()
            sends = connection.execute(text("SELECT status, send_requested_at, send_failed_at, send_failure_class, "
                                            "send_failure_text FROM certificate")).one()
            # what this release writes: an onward registration with an attempt, and a certificate being sent
            connection.execute(text(
                "INSERT INTO outbox_event (id, certificate_id, event_code, occurred_at, unit_hsa_id, care_giver_hsa_id,"
                " correlation_id, request_correlation_id, payload, payload_version, status, next_attempt_at,"
                " contract, recipient, logical_address, destination) SELECT 3, certificate_id, 'SKICKA', occurred_at,"
                " unit_hsa_id, care_giver_hsa_id, 'event-3', 'request-3', payload, 1, 'PENDING', next_attempt_at,"
                " 'RegisterCertificate', 'FKASSA', '2021005521', '2021005521' FROM outbox_event WHERE id = 1"))
            connection.execute(insert(ATTEMPT), [{"id": 1, "event_id": 3, "at": T0, "outcome": "timeout",
                                                  "decision": "retry", "correlation_id": "event-3",
                                                  "duration_ms": 3.0}])
            connection.execute(text("UPDATE certificate SET status = 'SENDING'"))
        command.downgrade(make_config(engine), "0012")
        with engine.connect() as connection:
            left = connection.execute(select(OUTBOX.c.id, OUTBOX.c.request_correlation_id).order_by(OUTBOX.c.id)).all()
            attempts = connection.execute(select(ATTEMPT.c.id)).all()
            status = connection.execute(text("SELECT status FROM certificate")).scalar_one()
    finally:
        engine.dispose()
    assert [tuple(r) for r in before] == [(1, "CertificateStatusUpdateForCare", None, None, "journal"),
                                          (2, "CertificateStatusUpdateForCare", None, None, "journal")]
    assert tuple(sends) == ("REVOKED", None, None, None, None)
    assert [tuple(r) for r in left] == [(1, "request-1"), (2, "request-2")]
    assert attempts == [] and status == "SIGNED"
