"""0009 gives every stored certificate its type as received, and rewrites queued snapshots as version 3."""

from __future__ import annotations

import copy
import importlib.util
from dataclasses import replace
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

from alembic import command
from sqlalchemy import JSON, Integer, MetaData, String, Table, column, insert, inspect, select, table

from domain.certificates import certificate_to_columns, from_snapshot, to_snapshot
from store import certificates
from store.migrate import MIGRATIONS, make_config, upgrade
from store.session import make_engine, make_session_factory, transaction
from store.types import UtcDateTime
from tests.builders import make_draft, make_revoked_certificate

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
KV_UTLATANDE_TYP = "f6fb361a-e31d-48b8-8657-99b63912dd9b"
NEW_COLUMNS = ("received_type_code", "received_type_code_system")
OUTBOX = table(  # outbox_event as revision 0008 has it (the columns without defaults)
    "outbox_event",
    column("id", Integer()), column("certificate_id", String()), column("event_code", String()),
    column("occurred_at", UtcDateTime()), column("unit_hsa_id", String()), column("care_giver_hsa_id", String()),
    column("correlation_id", String()), column("acting_user_hsa_id", String()), column("payload", JSON()),
    column("payload_version", Integer()), column("status", String()), column("next_attempt_at", UtcDateTime()),
)


def _migration() -> ModuleType:
    path = MIGRATIONS / "versions" / "0009_received_certificate_type.py"
    spec = importlib.util.spec_from_file_location("migration_0009", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _v2(snapshot: dict[str, Any]) -> dict[str, Any]:
    """What releases before 0009 wrote: the snapshot without the type as received, version 2."""
    return {**{k: v for k, v in snapshot.items() if k not in NEW_COLUMNS}, "snapshot_version": 2}


def _event(n: int, code: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": n, "certificate_id": f"cert-{n}", "event_code": code, "occurred_at": T0,
        "unit_hsa_id": "SE2321000016-1000", "care_giver_hsa_id": "SE2321000016-0001", "correlation_id": f"c{n}",
        "acting_user_hsa_id": None, "payload": payload, "payload_version": 1, "status": "PENDING",
        "next_attempt_at": T0,
    }


def test_the_snapshot_rewrite_gives_what_the_application_writes_and_back() -> None:
    """A version 2 snapshot rewritten is the application's snapshot of the same certificate, and back."""
    migration = _migration()
    certificate = make_revoked_certificate()
    v2 = _v2(to_snapshot(certificate))
    assert migration.with_received_type(copy.deepcopy(v2)) == to_snapshot(certificate)
    assert migration.without_received_type(to_snapshot(certificate)) == v2


def test_rows_and_queued_snapshots_survive_the_upgrade_and_the_downgrade(blank_db_url: str) -> None:
    """Stored certificates read with their own type as received; RADERA snapshots read as before."""
    legacy_ts = replace(make_draft("ts-draft"), type_code="TSTRK1007", type_code_system=KV_UTLATANDE_TYP,
                        received_type_code="TSTRK1007", received_type_code_system=KV_UTLATANDE_TYP)
    drafts = [make_revoked_certificate("lisjp-cert"), legacy_ts]
    deleted = make_revoked_certificate("deleted-cert")
    before = [
        _event(1, "RADERA", {"certificate": _v2(to_snapshot(deleted))}),
        _event(2, "SKAPAT", {"ref": "x"}),
        _event(3, "RADERA", {"certificate": {"snapshot_version": 2, "id": "broken"}}),
    ]
    engine = make_engine(blank_db_url)
    try:
        command.upgrade(make_config(engine), "0008")
        with engine.begin() as connection:
            certificate_table = Table("certificate", MetaData(), autoload_with=connection)
            rows = []
            for draft in drafts:
                row = {k: v for k, v in certificate_to_columns(draft).items() if k not in NEW_COLUMNS}
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
        command.downgrade(make_config(engine), "0008")
        with engine.connect() as connection:
            downgraded = dict(connection.execute(select(OUTBOX.c.id, OUTBOX.c.payload)).tuples().all())
            columns = {str(c["name"]) for c in inspect(connection).get_columns("certificate")}
    finally:
        engine.dispose()
    assert from_snapshot(after[1]["certificate"]) == deleted
    assert (after[2], after[3]) == (before[1]["payload"], before[2]["payload"])
    assert downgraded == {event["id"]: event["payload"] for event in before}
    assert not set(NEW_COLUMNS) & columns

