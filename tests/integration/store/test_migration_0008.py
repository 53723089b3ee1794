"""0008 rewrites queued version 1 certificate snapshots as version 2, and its downgrade writes them back."""

from __future__ import annotations

import copy
import importlib.util
from dataclasses import replace
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

from alembic import command
from sqlalchemy import JSON, Integer, String, column, insert, select, table

from domain.certificates import Certificate, from_snapshot, to_snapshot
from domain.directory import Person, Personnel, Unit
from domain.values import CertificateStatus, HsaId, PersonId, PersonIdKind
from store.migrate import MIGRATIONS, make_config, upgrade
from store.session import make_engine
from store.types import UtcDateTime
from tests.builders import CARE_GIVER, make_revoked_certificate
from tests.integration.store.older_rows import snapshot_before_0014

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
OUTBOX = table(  # outbox_event as revision 0007 has it (the columns without defaults)
    "outbox_event",
    column("id", Integer()), column("certificate_id", String()), column("event_code", String()),
    column("occurred_at", UtcDateTime()), column("unit_hsa_id", String()), column("care_giver_hsa_id", String()),
    column("correlation_id", String()), column("acting_user_hsa_id", String()), column("payload", JSON()),
    column("payload_version", Integer()), column("status", String()), column("next_attempt_at", UtcDateTime()),
)

# What releases before 0008 wrote (domain.certificates.to_snapshot of version 1) for
# tests.builders.make_revoked_certificate(): every optional field set.
V1_REVOKED: dict[str, Any] = {
    "snapshot_version": 1, "id": "c0ffee00-0000-4000-8000-000000000001", "type_code": "FK7804",
    "type_code_system": "b64ea353-e8f6-4832-b563-fc7d46f29548", "status": "REVOKED",
    "patient": {
        "person_id_kind": "1.2.752.129.2.1.3.3", "person_id": "197010632391", "given_name": "Samuel",
        "family_name": "Samordning", "middle_name": "Mellan", "postal_address": "Hamngatan 3",
        "postal_code": "12347", "city": "Demostad", "deceased": False, "protected_identity": True,
        "test_indicator": True,
    },
    "unit": {
        "hsa_id": "SE2321000016-1003", "name": "Barnmottagningen", "care_giver": "SE2321000016-0001",
        "parent": "SE2321000016-1000", "arbetsplatskod": "1234567890", "postal_address": "Vårdvägen 1",
        "postal_code": "12345", "city": "Demostad", "phone": "010-123 45 68", "email": "barn@demo.example",
    },
    "care_giver": {"hsa_id": "SE2321000016-0001", "name": "Region Demo"},
    "created_by": {
        "hsa_id": "SE2321000016-P001", "name": "Ann Läkare", "licensed_professions": ["Läkare"],
        "position_codes": ["204010", "201011"], "group_prescriber_codes": ["9300005"],
        "prescriber_code": "1234567",
        "assignments": [{"unit": "SE2321000016-1003", "purpose": "Vård och behandling"}],
    },
    "created_at": "2026-11-20T08:15:30.250000+00:00", "test_certificate": True, "ref": "journal-ref-42",
    "prefill_xml": "<forifyllnad><svar id='1'/></forifyllnad>",
    "extensions": [
        {"path": "intyg/patient", "xml": "<x:extra xmlns:x='urn:example'>å</x:extra>"},
        {"path": "intyg/skapadAv", "xml": "<x:more xmlns:x='urn:example'/>"},
    ],
    "content": [
        {"id": "1", "instance": None, "parts": [{"id": "1.1", "value": "Hosta sedan två veckor", "xml": None}]},
        {"id": "6", "instance": 2, "parts": [
            {"id": "6.1", "value": "", "xml": "<cv xmlns='urn:example'><code>NEDSATT_HALFTEN</code></cv>"},
            {"id": "6.2", "value": "",
             "xml": "<datePeriod xmlns='urn:example'><start>2026-11-20</start></datePeriod>"},
        ]},
    ],
    "version": 6, "updated_at": "2026-11-21T09:00:00.123000+00:00",
    "ready_at": "2026-11-21T09:00:00.123000+00:00", "ready_by": "SE2321000016-P002",
    "signed_at": "2026-11-21T09:00:00.123000+00:00", "signed_by": "SE2321000016-P001",
    "signed_by_name": "Ann Läkare", "sent_at": "2026-11-21T09:00:00.123000+00:00", "sent_to": "FKASSA",
    "locked_at": "2026-11-21T09:00:00.123000+00:00", "revoked_at": "2026-11-21T09:00:00.123000+00:00",
    "revoked_by": "SE2321000016-P001", "revoke_reason": "Fel patient", "copied_from": "0ld-draft",
}

MINIMAL = Certificate(
    id="minimal", type_code="FK7804", type_code_system="b64ea353-e8f6-4832-b563-fc7d46f29548",
    received_type_code="FK7804", received_type_code_system="b64ea353-e8f6-4832-b563-fc7d46f29548",
    status=CertificateStatus.DRAFT,
    patient=Person(PersonId(PersonIdKind.PERSONNUMMER, "191212121212"), "Tolvan", "Tolvansson"),
    unit=Unit(HsaId("SE2321000016-1000"), "Vårdcentralen", CARE_GIVER.hsa_id),
    care_giver=CARE_GIVER,
    created_by=Personnel(HsaId("SE2321000016-P002"), "Bo Vårdadministratör"),
    created_at=datetime(2026, 11, 20, 8, 15, 30, tzinfo=UTC), test_certificate=False,
)
# The same, for MINIMAL: every optional field None or empty.
V1_MINIMAL: dict[str, Any] = {
    "snapshot_version": 1, "id": "minimal", "type_code": "FK7804",
    "type_code_system": "b64ea353-e8f6-4832-b563-fc7d46f29548", "status": "DRAFT",
    "patient": {
        "person_id_kind": "1.2.752.129.2.1.3.1", "person_id": "191212121212", "given_name": "Tolvan",
        "family_name": "Tolvansson", "middle_name": None, "postal_address": None, "postal_code": None,
        "city": None, "deceased": False, "protected_identity": False, "test_indicator": False,
    },
    "unit": {
        "hsa_id": "SE2321000016-1000", "name": "Vårdcentralen", "care_giver": "SE2321000016-0001",
        "parent": None, "arbetsplatskod": None, "postal_address": None, "postal_code": None, "city": None,
        "phone": None, "email": None,
    },
    "care_giver": {"hsa_id": "SE2321000016-0001", "name": "Region Demo"},
    "created_by": {
        "hsa_id": "SE2321000016-P002", "name": "Bo Vårdadministratör", "licensed_professions": [],
        "position_codes": [], "group_prescriber_codes": [], "prescriber_code": None, "assignments": [],
    },
    "created_at": "2026-11-20T08:15:30+00:00", "test_certificate": False, "ref": None, "prefill_xml": None,
    "extensions": [], "content": [], "version": 1, "updated_at": None, "ready_at": None, "ready_by": None,
    "signed_at": None, "signed_by": None, "signed_by_name": None, "sent_at": None, "sent_to": None,
    "locked_at": None, "revoked_at": None, "revoked_by": None, "revoke_reason": None, "copied_from": None,
}

# Payloads the rewrite must leave alone: another event's, a RADERA without a snapshot, and a broken
# version 1 snapshot (no release wrote one; it must not stop the upgrade).
UNTOUCHED: list[tuple[str, dict[str, Any]]] = [
    ("SKAPAT", {"counts": None}),
    ("RADERA", {}),
    ("RADERA", {"certificate": {"snapshot_version": 1, "id": "broken"}}),
]


def _migration(name: str = "0008_flat_certificate_snapshots") -> ModuleType:
    """A migration module itself (its file name starts with a digit, so it is loaded by path)."""
    path = MIGRATIONS / "versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"migration_{name[:4]}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _event(n: int, code: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": n, "certificate_id": f"cert-{n}", "event_code": code, "occurred_at": T0,
        "unit_hsa_id": "SE2321000016-1000", "care_giver_hsa_id": "SE2321000016-0001", "correlation_id": f"c{n}",
        "acting_user_hsa_id": None, "payload": payload, "payload_version": 1, "status": "PENDING",
        "next_attempt_at": T0,
    }


def _as_version_2(snapshot: dict[str, Any]) -> dict[str, Any]:
    """What the application wrote as version 2: today's snapshot without the columns added since
    (the reason code of migration 0010, the type as received of 0011, the send's fields of 0013)."""
    later = ("revoke_reason_code", "received_type_code", "received_type_code_system", "send_requested_at",
             "send_failed_at", "send_failure_class", "send_failure_text")
    older = snapshot_before_0014(snapshot, snapshot["relation_parent_id"] if snapshot["relation_code"] else None)
    return {**{k: v for k, v in older.items() if k not in later}, "snapshot_version": 2}


def test_the_rewrite_gives_what_the_application_writes_and_back() -> None:
    """A version 1 snapshot rewritten is the application's version 2 snapshot, and back again."""
    migration = _migration()
    # Version 1 and 2 had no revocation reason code; a version 2 snapshot reads without one.
    revoked = replace(make_revoked_certificate(), revoke_reason_code=None)
    for v1, certificate in ((V1_REVOKED, revoked), (V1_MINIMAL, MINIMAL)):
        v2 = migration.flat_snapshot(copy.deepcopy(v1))
        assert v2 == _as_version_2(to_snapshot(certificate))
        assert from_snapshot(v2) == certificate
        assert migration.nested_snapshot(v2) == v1


def test_queued_snapshots_survive_the_upgrade_and_the_downgrade(blank_db_url: str) -> None:
    """Queued RADERA snapshots read as the deleted certificates after 0008 and as before after its downgrade."""
    before = [
        _event(1, "RADERA", {"certificate": V1_REVOKED}),
        _event(2, "RADERA", {"certificate": V1_MINIMAL}),
        *(_event(3 + i, code, payload) for i, (code, payload) in enumerate(UNTOUCHED)),
    ]
    engine = make_engine(blank_db_url)
    try:
        command.upgrade(make_config(engine), "0007")
        with engine.begin() as connection:
            connection.execute(insert(OUTBOX), before)
    finally:
        engine.dispose()
    upgrade(blank_db_url)
    engine = make_engine(blank_db_url)
    try:
        with engine.connect() as connection:
            after = dict(connection.execute(select(OUTBOX.c.id, OUTBOX.c.payload)).tuples().all())
        command.downgrade(make_config(engine), "0007")
        with engine.connect() as connection:
            downgraded = dict(connection.execute(select(OUTBOX.c.id, OUTBOX.c.payload)).tuples().all())
    finally:
        engine.dispose()
    assert from_snapshot(after[1]["certificate"]) == replace(make_revoked_certificate(), revoke_reason_code=None)
    assert from_snapshot(after[2]["certificate"]) == MINIMAL
    assert [after[3 + i] for i in range(len(UNTOUCHED))] == [payload for _code, payload in UNTOUCHED]
    assert downgraded == {event["id"]: event["payload"] for event in before}
