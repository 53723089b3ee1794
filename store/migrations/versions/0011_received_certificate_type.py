"""A certificate keeps ``typAvIntyg`` as received beside its canonical type; snapshots become version 3.

Journal systems name a certificate type by more than one (code, code system) pair: the legacy
KV_UTLATANDE_TYP, codes in lower case. The certificate's ``type_code``/``type_code_system`` hold
the type's canonical pair (what status updates carry); the new ``received_type_code`` and
``received_type_code_system`` hold what the journal system sent. Until now a draft kept the code
system as received and the registry's code, which for every type then accepted was the pair as
received, so existing rows are given their own type as the pair received.

Queued RADERA events carry the deleted certificate as a snapshot of the row's columns (version 2,
see 0008); they are rewritten as version 3 with the two new values, taken the same way, and the
downgrade drops them again. As in 0008 the shapes are spelled out here, not imported from
``domain``, and a snapshot that is not of the version being rewritten, or not shaped as one, is left
as it is.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
BATCH = 1000

CERTIFICATE = sa.table(
    "certificate",
    sa.column("type_code", sa.String()),
    sa.column("type_code_system", sa.String()),
    sa.column("received_type_code", sa.String()),
    sa.column("received_type_code_system", sa.String()),
)
OUTBOX = sa.table(
    "outbox_event",
    sa.column("id", BIG_ID),
    sa.column("event_code", sa.String()),
    sa.column("payload", sa.JSON()),
)


def with_received_type(v2: dict[str, Any]) -> dict[str, Any]:
    """A version 2 snapshot as version 3: the type as received is the type stored."""
    v3 = {**v2, "snapshot_version": 3}
    v3["received_type_code"] = v2["type_code"]
    v3["received_type_code_system"] = v2["type_code_system"]
    return v3


def without_received_type(v3: dict[str, Any]) -> dict[str, Any]:
    """A version 3 snapshot as version 2."""
    v2 = {k: v for k, v in v3.items() if k not in ("received_type_code", "received_type_code_system")}
    v2["snapshot_version"] = 2
    return v2


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
            except (KeyError, TypeError):
                continue  # not shaped as its version says: left as it is
            changed.append({"key": event_id, "value": {**payload, "certificate": rewritten}})
        if changed:
            connection.execute(
                OUTBOX.update().where(OUTBOX.c.id == sa.bindparam("key")).values(payload=sa.bindparam("value")),
                changed,
            )
        last = rows[-1][0]


def upgrade() -> None:
    with op.batch_alter_table("certificate") as batch:
        batch.add_column(sa.Column("received_type_code", sa.String(), nullable=True))
        batch.add_column(sa.Column("received_type_code_system", sa.String(), nullable=True))
    op.get_bind().execute(
        CERTIFICATE.update().values(
            received_type_code=CERTIFICATE.c.type_code, received_type_code_system=CERTIFICATE.c.type_code_system
        )
    )
    # Filled for every row above, so the columns can be required from now on (batch mode: SQLite
    # cannot alter a column's nullability in place and rebuilds the table).
    with op.batch_alter_table("certificate") as batch:
        batch.alter_column("received_type_code", existing_type=sa.String(), nullable=False)
        batch.alter_column("received_type_code_system", existing_type=sa.String(), nullable=False)
    _rewrite(2, with_received_type)


def downgrade() -> None:
    _rewrite(3, without_received_type)
    with op.batch_alter_table("certificate") as batch:
        batch.drop_column("received_type_code_system")
        batch.drop_column("received_type_code")
