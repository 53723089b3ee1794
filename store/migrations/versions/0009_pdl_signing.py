"""Signed PDL checkpoints, the StoreLog sender on each record, and an append-only PDL table on PostgreSQL.

* ``pdl_checkpoint``: one row per signed checkpoint (``domain.pdl_checkpoint``): the chain's head
  and retention anchor at the time, the key id, the previous checkpoint's digest and the signature.
  The signing key lives outside the database; the rows are only what a verifier with the public
  key checks.
* ``pdl_record`` gains ``consumer_id`` and ``consumer_auth``: which authenticated system sent a
  StoreLog record and how it was identified (``mtls`` or ``proxy``), and an index for searching by
  it. Existing rows keep NULL (not known), which leaves their hashes as they were: the canonical
  form leaves absent fields out.
* On PostgreSQL, a trigger refuses any UPDATE of ``pdl_record`` that changes a record's content or
  a link already set: a sealer may fill in ``seq``/``prev_hash``/``hash`` once, nothing else. It is
  the database's own guard under the roles of ``store.roles`` (which grant the application INSERT
  and only those three columns of UPDATE); the owner of the table can drop it, which is why the
  signatures, not the trigger, are what an auditor relies on.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

HASH = sa.String(length=64)
UTC_TIME = sa.DateTime(timezone=True)
LINK_COLUMNS = ("seq", "prev_hash", "hash")

APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION pdl_record_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.seq IS NOT NULL THEN
            RAISE EXCEPTION 'pdl_record % is sealed and cannot be changed', OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF (to_jsonb(NEW) - 'seq' - 'prev_hash' - 'hash')
           IS DISTINCT FROM (to_jsonb(OLD) - 'seq' - 'prev_hash' - 'hash') THEN
            RAISE EXCEPTION 'pdl_record % content cannot be changed', OLD.id USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    RETURN NEW;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "pdl_checkpoint",
        sa.Column("number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("head", HASH, nullable=False),
        sa.Column("anchor_seq", sa.BigInteger(), nullable=False),
        sa.Column("anchor_hash", HASH, nullable=False),
        sa.Column("signed_at", UTC_TIME, nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("prev", HASH, nullable=False),
        sa.Column("export_digest", HASH, nullable=True),
        sa.Column("signature", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_pdl_checkpoint")),
    )
    with op.batch_alter_table("pdl_record") as batch:
        batch.add_column(sa.Column("consumer_id", sa.String(), nullable=True))
        batch.add_column(sa.Column("consumer_auth", sa.String(), nullable=True))
        batch.create_index("ix_pdl_record_consumer_id", ["consumer_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY_FUNCTION)
        op.execute(
            "CREATE TRIGGER pdl_record_append_only BEFORE UPDATE ON pdl_record "
            "FOR EACH ROW EXECUTE FUNCTION pdl_record_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS pdl_record_append_only ON pdl_record")
        op.execute("DROP FUNCTION IF EXISTS pdl_record_append_only()")
    with op.batch_alter_table("pdl_record") as batch:
        batch.drop_index("ix_pdl_record_consumer_id")
        batch.drop_column("consumer_auth")
        batch.drop_column("consumer_id")
    op.drop_table("pdl_checkpoint")
