"""Tamper-evident PDL log: hash-chain columns, the chain head, retention anchors, lookup indexes.

* ``pdl_record`` gains its link in the chain (``seq``, ``prev_hash``, ``hash``; see
  ``domain.pdl_chain``), NULL until a sealer links the committed row, ``stored_at`` (when the row
  was inserted: how long it has waited for its seal), ``resource_index`` (a StoreLog entry with
  several resources is one row per resource under one ``logId``), the user's ``personId``
  (``user_person_id_root``/``user_person_id``), a unique index on (``log_id``, ``resource_index``)
  for StoreLog's idempotency, indexes for the patient extract and time windows, and a partial index
  of the unsealed rows (the sealer's work list).
* ``pdl_chain_head``: one row, the chain's last ``seq`` and hash, starting at genesis. Sealers lock
  it, which keeps one chain across processes, and ``verify`` compares it with the last row to
  notice records cut off the end.
* ``pdl_chain_anchor``: one row per retention purge, the last purged record's ``seq`` and hash.

Rows written by the previous release stay unsealed here, with ``stored_at`` the upgrade's time; the
first sealer round after the upgrade links them, oldest ``id`` first, like any other record. So
this migration needs no app code.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIME = sa.DateTime(timezone=True)
HASH = sa.String(length=64)
NOW = sa.text("CURRENT_TIMESTAMP")
GENESIS_HASH = "0" * 64
UNSEALED = sa.text("seq IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("pdl_record") as batch:
        batch.add_column(sa.Column("user_person_id_root", sa.String(), nullable=True))
        batch.add_column(sa.Column("user_person_id", sa.String(), nullable=True))
        batch.add_column(sa.Column("resource_index", sa.Integer(), server_default=sa.text("0"), nullable=False))
        # Filled below: SQLite cannot add a column whose default is not a constant.
        batch.add_column(sa.Column("stored_at", UTC_TIME, nullable=True))
        batch.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("prev_hash", HASH, nullable=True))
        batch.add_column(sa.Column("hash", HASH, nullable=True))
    op.create_table(
        "pdl_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", HASH, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pdl_chain_head")),
    )
    op.create_table(
        "pdl_chain_anchor",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", HASH, nullable=False),
        sa.Column("purged_before", UTC_TIME, nullable=False),
        sa.Column("purged_at", UTC_TIME, nullable=False),
        sa.Column("purged_records", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pdl_chain_anchor")),
        sqlite_autoincrement=True,
    )
    op.execute("UPDATE pdl_record SET stored_at = CURRENT_TIMESTAMP")
    op.execute(f"INSERT INTO pdl_chain_head (id, seq, hash) VALUES (1, 0, '{GENESIS_HASH}')")
    with op.batch_alter_table("pdl_record") as batch:
        batch.alter_column("stored_at", existing_type=UTC_TIME, server_default=NOW, nullable=False)
        batch.create_unique_constraint(op.f("uq_pdl_record_seq"), ["seq"])
        batch.create_index("uq_pdl_record_log_id", ["log_id", "resource_index"], unique=True)
        batch.create_index("ix_pdl_record_patient_id", ["patient_id"])
        batch.create_index("ix_pdl_record_start_date", ["start_date"])
        batch.create_index("ix_pdl_record_unsealed", ["id"], postgresql_where=UNSEALED, sqlite_where=UNSEALED)


def downgrade() -> None:
    with op.batch_alter_table("pdl_record") as batch:
        batch.drop_index("ix_pdl_record_unsealed")
        batch.drop_index("ix_pdl_record_start_date")
        batch.drop_index("ix_pdl_record_patient_id")
        batch.drop_index("uq_pdl_record_log_id")
        batch.drop_constraint(op.f("uq_pdl_record_seq"), type_="unique")
        for column in ("hash", "prev_hash", "seq", "stored_at", "resource_index", "user_person_id",
                       "user_person_id_root"):
            batch.drop_column(column)
    op.drop_table("pdl_chain_anchor")
    op.drop_table("pdl_chain_head")
