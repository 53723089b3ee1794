"""Certificate snapshots in queued RADERA events become version 2: the certificate row's columns as JSON.

A RADERA event carries the deleted certificate in ``payload["certificate"]``, because its row is gone
when the status update is built. Version 1 of that snapshot nested the patient, unit, care giver and
issuer as objects; version 2 is flat, with the ``certificate`` table's column names and JSON
documents (``domain.certificates.CERTIFICATE_COLUMNS``), so that one declaration maps a certificate
to its row and to its snapshot. This rewrites every stored version 1 snapshot (any outbox status:
a delivered event may be resent by an operator), and the downgrade writes them back as version 1.

The shapes are spelled out here rather than imported from ``domain``: a migration must keep doing
what it did when it was written, whatever the application's mapping becomes later. The rewrite is a
renaming of keys, with no parsing of values (times stay the ISO 8601 texts they were). Version 1
kept the unit's care giver apart from the certificate's; the row has always kept one for both
(``store.certificates.add_certificate`` refuses a certificate where they differ), so version 2 keeps
the certificate's, and the downgrade gives it to the unit as well.

A payload whose snapshot is not of the version being rewritten, or not shaped as that version (no
release has written one), is left as it is: it was unreadable before and stays so, and one such row
must not stop the upgrade of a database.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
BATCH = 1000

OUTBOX = sa.table(
    "outbox_event",
    sa.column("id", BIG_ID),
    sa.column("event_code", sa.String()),
    sa.column("payload", sa.JSON()),
)

# (version 2 key, version 1 key) for the values that are top-level in both versions.
SAME_LEVEL = (
    ("certificate_id", "id"), ("type_code", "type_code"), ("type_code_system", "type_code_system"),
    ("status", "status"), ("created_at", "created_at"), ("test_certificate", "test_certificate"),
    ("ref", "ref"), ("prefill_xml", "prefill_xml"), ("extensions", "extensions"), ("content", "content"),
    ("version", "version"), ("updated_at", "updated_at"), ("ready_at", "ready_at"),
    ("ready_by_hsa_id", "ready_by"), ("signed_at", "signed_at"), ("signed_by_hsa_id", "signed_by"),
    ("signed_by_name", "signed_by_name"), ("sent_at", "sent_at"), ("sent_to", "sent_to"),
    ("locked_at", "locked_at"), ("revoked_at", "revoked_at"), ("revoked_by_hsa_id", "revoked_by"),
    ("revoke_reason", "revoke_reason"), ("copied_from", "copied_from"),
)
# (version 2 key, version 1 object, key in that object) for the values version 1 nested.
NESTED = (
    ("patient_id_kind", "patient", "person_id_kind"), ("patient_id", "patient", "person_id"),
    ("patient_given_name", "patient", "given_name"), ("patient_middle_name", "patient", "middle_name"),
    ("patient_family_name", "patient", "family_name"), ("patient_postal_address", "patient", "postal_address"),
    ("patient_postal_code", "patient", "postal_code"), ("patient_city", "patient", "city"),
    ("patient_deceased", "patient", "deceased"), ("patient_protected_identity", "patient", "protected_identity"),
    ("patient_test_indicator", "patient", "test_indicator"),
    ("unit_hsa_id", "unit", "hsa_id"), ("unit_name", "unit", "name"), ("unit_parent_hsa_id", "unit", "parent"),
    ("unit_arbetsplatskod", "unit", "arbetsplatskod"), ("unit_postal_address", "unit", "postal_address"),
    ("unit_postal_code", "unit", "postal_code"), ("unit_city", "unit", "city"), ("unit_phone", "unit", "phone"),
    ("unit_email", "unit", "email"),
    ("care_giver_hsa_id", "care_giver", "hsa_id"), ("care_giver_name", "care_giver", "name"),
    ("created_by_hsa_id", "created_by", "hsa_id"), ("created_by_name", "created_by", "name"),
)
# (key in version 2's created_by_detail, key in version 1's created_by): the issuer's codes.
ISSUER_DETAIL = (
    ("licensedProfessions", "licensed_professions"), ("positionCodes", "position_codes"),
    ("groupPrescriberCodes", "group_prescriber_codes"), ("prescriberCode", "prescriber_code"),
    ("assignments", "assignments"),
)


def flat_snapshot(v1: dict[str, Any]) -> dict[str, Any]:
    """A version 1 snapshot as version 2."""
    v2: dict[str, Any] = {"snapshot_version": 2}
    v2.update((new, v1[old]) for new, old in SAME_LEVEL)
    v2.update((new, v1[part][old]) for new, part, old in NESTED)
    v2["created_by_detail"] = {new: v1["created_by"][old] for new, old in ISSUER_DETAIL}
    return v2


def nested_snapshot(v2: dict[str, Any]) -> dict[str, Any]:
    """A version 2 snapshot as version 1."""
    v1: dict[str, Any] = {"snapshot_version": 1, "patient": {}, "unit": {}, "care_giver": {}, "created_by": {}}
    v1.update((old, v2[new]) for new, old in SAME_LEVEL)
    for new, part, old in NESTED:
        v1[part][old] = v2[new]
    v1["unit"]["care_giver"] = v2["care_giver_hsa_id"]
    v1["created_by"].update((old, v2["created_by_detail"][new]) for new, old in ISSUER_DETAIL)
    return v1


def _rewrite(version: int, convert: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Rewrite the certificate snapshot of every RADERA payload whose snapshot is of ``version``."""
    connection = op.get_bind()
    last = None
    while True:
        # A batch of events at a time (keyset on the id), so that a large outbox is never read whole.
        query = (
            sa.select(OUTBOX.c.id, OUTBOX.c.payload)
            .where(OUTBOX.c.event_code == "RADERA")
            .order_by(OUTBOX.c.id)
            .limit(BATCH)
        )
        if last is not None:
            query = query.where(OUTBOX.c.id > last)
        rows = connection.execute(query).all()
        if not rows:
            break
        changed = []
        for event_id, payload in rows:
            snapshot = payload.get("certificate") if isinstance(payload, dict) else None
            if not isinstance(snapshot, dict) or snapshot.get("snapshot_version") != version:
                continue
            try:
                rewritten = convert(snapshot)
            except (KeyError, TypeError, AttributeError):
                continue  # not shaped as its version says: left as it is (see the module docstring)
            changed.append({"key": event_id, "value": {**payload, "certificate": rewritten}})
        if changed:
            connection.execute(
                OUTBOX.update().where(OUTBOX.c.id == sa.bindparam("key")).values(payload=sa.bindparam("value")),
                changed,
            )
        last = rows[-1][0]


def upgrade() -> None:
    _rewrite(1, flat_snapshot)


def downgrade() -> None:
    _rewrite(2, nested_snapshot)
