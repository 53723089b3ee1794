"""The resend engine: leases and retry state on outbox events, attempt history, manual resend log.

* ``outbox_event`` gains the lease (``claimed_by``, ``lease_until``) that lets any number of workers
  share the table without sending a row twice, the counters and schedule of the current series of
  tries, the last outcome for operators, when the row became final, and which newer event
  superseded it. Existing rows (pending events queued by the previous release) get their series
  start from ``occurred_at``, so they keep their original time and their 30-day budget.
* ``outbox_attempt``: one row per attempt (time, outcome class, decision, HTTP status, result code,
  error id, start of the text, URL, correlation id, duration), the event's history.
* ``outbox_resend_request``: who asked for a manual resend, why, when, the selection and counts.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIME = sa.DateTime(timezone=True)
CODE = sa.String(length=32)


def upgrade() -> None:
    with op.batch_alter_table("outbox_event") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(), nullable=True))
        batch.add_column(sa.Column("lease_until", UTC_TIME, nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False))
        batch.add_column(
            sa.Column("series_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch.add_column(sa.Column("series_started_at", UTC_TIME, nullable=True))
        batch.add_column(
            sa.Column("schedule_kind", CODE, server_default=sa.text("'technical'"), nullable=False)
        )
        batch.add_column(sa.Column("last_attempt_at", UTC_TIME, nullable=True))
        batch.add_column(sa.Column("last_outcome", sa.String(), nullable=True))
        batch.add_column(sa.Column("last_error", sa.String(), nullable=True))
        batch.add_column(sa.Column("finished_at", UTC_TIME, nullable=True))
        batch.add_column(sa.Column("superseded_by", BIG_ID, nullable=True))
    op.execute("UPDATE outbox_event SET series_started_at = occurred_at")
    op.create_table(
        "outbox_attempt",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("event_id", BIG_ID, nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("decision", sa.String(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("result_code", sa.String(), nullable=True),
        sa.Column("error_id", sa.String(), nullable=True),
        sa.Column("text", sa.String(), nullable=True),
        sa.Column("url", sa.String(), nullable=True),
        sa.Column("correlation_id", sa.String(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_attempt")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_outbox_attempt_event_id_id", "outbox_attempt", ["event_id", "id"])
    op.create_table(
        "outbox_resend_request",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("requested_at", UTC_TIME, nullable=False),
        sa.Column("requested_by", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("selection", sa.JSON(), nullable=False),
        sa.Column("selected", sa.Integer(), nullable=False),
        sa.Column("rearmed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_resend_request")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("outbox_resend_request")
    op.drop_index("ix_outbox_attempt_event_id_id", table_name="outbox_attempt")
    op.drop_table("outbox_attempt")
    with op.batch_alter_table("outbox_event") as batch:
        for column in ("superseded_by", "finished_at", "last_error", "last_outcome", "last_attempt_at",
                       "schedule_kind", "series_started_at", "series_attempts", "attempts",
                       "lease_until", "claimed_by"):
            batch.drop_column(column)
