"""Per-event delivery: each event's own correlation id, its claims counted, attempts that show a crash.

* ``outbox_event.correlation_id`` held the correlation id of the request that caused the event; it
  is renamed ``request_correlation_id``. A new ``correlation_id`` is the event's own: made once, sent
  as ``x-skltp-correlation-id`` with every attempt, so that a journal system can recognise a repeat
  and an operator can follow the event from the request to the journal. Rows already queued get a
  new random UUID each (in SQL, so the upgrade does not read the table into Python); it is unique.
* ``outbox_event.open_claims``: claims since an outcome was last recorded. An event whose holders
  keep dying or cannot record gives up (outcome ``claim-limit``) instead of circling for ever.
* ``outbox_attempt.claimed_by``: the claim (the worker process) that made the attempt. A call's
  attempt is written as ``sending`` before the call; one left ``sending`` by a dead worker becomes
  ``unknown`` when the event is claimed again. Both are plain values of the existing ``outcome``
  column, so they need no schema change.

The downgrade renames the request's correlation id back and drops the event's own ids (they are
not kept anywhere else; attempts keep theirs in ``outbox_attempt.correlation_id``).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# A version-4 UUID in SQLite's own functions: 16 random bytes as hex, the version and variant nibbles set.
SQLITE_UUID4 = (
    "lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || "
    "substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || "
    "substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))"
)


def upgrade() -> None:
    with op.batch_alter_table("outbox_event") as batch:  # the rename first: SQLite's batch copy needs it alone
        batch.alter_column("correlation_id", new_column_name="request_correlation_id",
                           existing_type=sa.String(), existing_nullable=False)
    with op.batch_alter_table("outbox_event") as batch:
        batch.add_column(sa.Column("correlation_id", sa.String(), nullable=True))
        batch.add_column(sa.Column("open_claims", sa.Integer(), server_default=sa.text("0"), nullable=False))
    new_id = "gen_random_uuid()::text" if op.get_bind().dialect.name == "postgresql" else SQLITE_UUID4
    op.execute(f"UPDATE outbox_event SET correlation_id = {new_id}")
    with op.batch_alter_table("outbox_event") as batch:
        batch.alter_column("correlation_id", existing_type=sa.String(), nullable=False)
        batch.create_index("ux_outbox_event_correlation_id", ["correlation_id"], unique=True)
    with op.batch_alter_table("outbox_attempt") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_attempt") as batch:
        batch.drop_column("claimed_by")
    with op.batch_alter_table("outbox_event") as batch:
        batch.drop_index("ux_outbox_event_correlation_id")
        batch.drop_column("open_claims")
        batch.drop_column("correlation_id")
    with op.batch_alter_table("outbox_event") as batch:
        batch.alter_column("request_correlation_id", new_column_name="correlation_id",
                           existing_type=sa.String(), existing_nullable=False)
