"""Ärenden: the ``arende`` table (questions, reminders, answers) and its ``komplettering`` rows.

Why each constraint (``store.arenden`` says more): ``uq_arende_message_id`` makes a resent or
concurrently delivered SendMessageToCare message land once; ``uq_arende_answer_to`` lets a question
have at most one answer (NULL for questions and reminders, and NULLs never clash); the index on
``certificate_id`` serves the per-certificate reads that every message and status update makes.

Unusual on purpose, as in 0001: wire codes (``direction``, ``status``, ``amne``) are plain
``VARCHAR(32)`` so that new codes need no migration; ``sqlite_autoincrement`` so that SQLite never
reuses an ``arende.id`` (it orders a certificate's messages); no foreign key to ``certificate``
(see ``store.arenden``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIME = sa.DateTime(timezone=True)
CODE = sa.String(length=32)  # a StrEnum stored by value


def upgrade() -> None:
    op.create_table(
        "arende",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("message_id", sa.String(), nullable=False),
        sa.Column("certificate_id", sa.String(), nullable=False),
        sa.Column("direction", CODE, nullable=False),
        sa.Column("status", CODE, nullable=False),
        sa.Column("amne", CODE, nullable=False),
        sa.Column("heading", sa.String(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sent_at", UTC_TIME, nullable=False),
        sa.Column("received_at", UTC_TIME, nullable=False),
        sa.Column("sender_part", sa.String(), nullable=False),
        sa.Column("contact_info", sa.JSON(), nullable=False),
        sa.Column("patient_id_kind", CODE, nullable=False),
        sa.Column("patient_id", sa.String(), nullable=False),
        sa.Column("recipient", sa.String(), nullable=False),
        sa.Column("reference_id", sa.String(), nullable=True),
        sa.Column("reminder_of", sa.String(), nullable=True),
        sa.Column("answer_to", sa.String(), nullable=True),
        sa.Column("answer_to_reference", sa.String(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("answered_at", UTC_TIME, nullable=True),
        sa.Column("handled_at", UTC_TIME, nullable=True),
        sa.Column("handled_by", sa.String(), nullable=True),
        sa.Column("author", sa.String(), nullable=True),
        sa.Column("content_hash", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arende")),
        sa.UniqueConstraint("message_id", name=op.f("uq_arende_message_id")),
        sa.UniqueConstraint("answer_to", name=op.f("uq_arende_answer_to")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_arende_certificate_id"), "arende", ["certificate_id"])
    op.create_table(
        "komplettering",
        sa.Column("arende_id", BIG_ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(), nullable=False),
        sa.Column("instance", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["arende_id"],
            ["arende.id"],
            name=op.f("fk_komplettering_arende_id_arende"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("arende_id", "position", name=op.f("pk_komplettering")),
    )


def downgrade() -> None:
    op.drop_table("komplettering")
    op.drop_table("arende")  # drops its index and constraints on both databases
