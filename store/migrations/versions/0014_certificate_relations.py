"""Certificate relations: each certificate keeps its relation to the certificate it was made from.

* ``certificate.relation_code``: KOMPLT, ERSATT, FRLANG or KOPIA (KV_RELATION), NULL for a certificate
  made from none; ``certificate.relation_parent_id``: the parent's intygs-id, indexed (the rules of
  renew, replace and complete read a parent's children).
* ``certificate.copied_from`` (a copy of a locked draft) becomes relation KOPIA and is dropped.

The downgrade writes KOPIA relations back to ``copied_from``; the other relations have no place in
the older release and are dropped (their certificates stay, as ordinary certificates).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

CODE = sa.String(length=32)
KOPIA = "KOPIA"


def upgrade() -> None:
    with op.batch_alter_table("certificate") as batch:
        batch.add_column(sa.Column("relation_code", CODE, nullable=True))
        batch.add_column(sa.Column("relation_parent_id", sa.String(), nullable=True))
        batch.create_index("ix_certificate_relation_parent_id", ["relation_parent_id"])
    op.execute(f"UPDATE certificate SET relation_code = '{KOPIA}', relation_parent_id = copied_from "
               "WHERE copied_from IS NOT NULL")
    with op.batch_alter_table("certificate") as batch:
        batch.drop_column("copied_from")


def downgrade() -> None:
    with op.batch_alter_table("certificate") as batch:
        batch.add_column(sa.Column("copied_from", sa.String(), nullable=True))
    op.execute(f"UPDATE certificate SET copied_from = relation_parent_id WHERE relation_code = '{KOPIA}'")
    with op.batch_alter_table("certificate") as batch:
        batch.drop_index("ix_certificate_relation_parent_id")
        batch.drop_column("relation_parent_id")
        batch.drop_column("relation_code")
