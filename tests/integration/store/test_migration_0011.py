"""0011 gives every stored certificate its type as received; queued snapshots are left as they are and read."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from sqlalchemy import JSON, Integer, MetaData, String, Table, column, insert, inspect, select, table

from domain.certificates import from_snapshot, to_snapshot
from store import certificates
from store.migrate import make_config, upgrade
from store.session import make_engine, make_session_factory, transaction
from store.types import UtcDateTime
from tests.builders import make_draft, make_revoked_certificate
from tests.integration.store.older_rows import row_before_0014

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
KV_UTLATANDE_TYP = "f6fb361a-e31d-48b8-8657-99b63912dd9b"
NEW_COLUMNS = ("received_type_code", "received_type_code_system")
LATER = ("send_requested_at", "send_failed_at", "send_failure_class", "send_failure_text")  # migration 0013
OUTBOX = table(  # outbox_event as revision 0008 has it (the columns without defaults)
    "outbox_event",
    column("id", Integer()), column("certificate_id", String()), column("event_code", String()),
    column("occurred_at", UtcDateTime()), column("unit_hsa_id", String()), column("care_giver_hsa_id", String()),
    column("correlation_id", String()), column("acting_user_hsa_id", String()), column("payload", JSON()),
    column("payload_version", Integer()), column("status", String()), column("next_attempt_at", UtcDateTime()),
)


def _older(snapshot: dict[str, Any], version: int) -> dict[str, Any]:
    """What earlier releases wrote: version 3 without the type as received, version 2 also without the reason code."""
    dropped = NEW_COLUMNS if version == 3 else (*NEW_COLUMNS, "revoke_reason_code")
    return {**{k: v for k, v in snapshot.items() if k not in dropped}, "snapshot_version": version}


def _event(n: int, code: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": n, "certificate_id": f"cert-{n}", "event_code": code, "occurred_at": T0,
        "unit_hsa_id": "SE2321000016-1000", "care_giver_hsa_id": "SE2321000016-0001", "correlation_id": f"c{n}",
        "acting_user_hsa_id": None, "payload": payload, "payload_version": 1, "status": "PENDING",
        "next_attempt_at": T0,
    }


def test_older_snapshots_read_with_their_own_type_as_received() -> None:
    """Snapshots of versions 2 and 3 read as the certificate, the type as received being its own type."""
    certificate = make_revoked_certificate()
    plain = replace(certificate, revoke_reason_code=None)
    assert from_snapshot(_older(to_snapshot(certificate), 3)) == certificate
    assert from_snapshot(_older(to_snapshot(plain), 2)) == plain
    with pytest.raises(ValueError, match="snapshot version 1"):
        from_snapshot({**to_snapshot(certificate), "snapshot_version": 1})


def test_rows_and_queued_snapshots_survive_the_upgrade_and_the_downgrade(blank_db_url: str) -> None:
    """Stored certificates read with their own type as received; RADERA snapshots are not touched, and read."""
    legacy_ts = replace(make_draft("ts-draft"), type_code="TSTRK1007", type_code_system=KV_UTLATANDE_TYP,
                        received_type_code="TSTRK1007", received_type_code_system=KV_UTLATANDE_TYP)
    drafts = [make_revoked_certificate("lisjp-cert"), legacy_ts]
    deleted = make_revoked_certificate("deleted-cert")
    before = [
        _event(1, "RADERA", {"certificate": _older(to_snapshot(deleted), 3)}),
        _event(2, "SKAPAT", {"ref": "x"}),
        _event(3, "RADERA", {"certificate": {"snapshot_version": 2, "id": "broken"}}),
    ]
    engine = make_engine(blank_db_url)
    try:
        command.upgrade(make_config(engine), "0010")
        with engine.begin() as connection:
            certificate_table = Table("certificate", MetaData(), autoload_with=connection)
            rows = []
            for draft in drafts:
                row = row_before_0014(draft, (*NEW_COLUMNS, *LATER))
                rows.append({**row, "unit_key": draft.unit.hsa_id.key})
            connection.execute(insert(certificate_table), rows)
            connection.execute(insert(OUTBOX), before)
    finally:
        engine.dispose()
    upgrade(blank_db_url)
    engine = make_engine(blank_db_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            assert [certificates.get_certificate(session, d.id) for d in drafts] == drafts
        with engine.connect() as connection:
            after = dict(connection.execute(select(OUTBOX.c.id, OUTBOX.c.payload)).tuples().all())
        command.downgrade(make_config(engine), "0010")
        with engine.connect() as connection:
            downgraded = dict(connection.execute(select(OUTBOX.c.id, OUTBOX.c.payload)).tuples().all())
            columns = {str(c["name"]) for c in inspect(connection).get_columns("certificate")}
    finally:
        engine.dispose()
    assert from_snapshot(after[1]["certificate"]) == deleted
    assert after == {event["id"]: event["payload"] for event in before}
    assert downgraded == after
    assert not set(NEW_COLUMNS) & columns

