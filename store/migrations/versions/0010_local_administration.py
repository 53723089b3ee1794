"""What local administrators need: revocation reason codes, an issuer's signed list, the HSA unit
file's facts, and the record of a care giver's exports and purge.

* ``certificate.revoke_reason_code``: FEL_PATIENT or ANNAT_ALLVARLIGT_FEL. Revocations stored before
  this migration had a free-text reason only (``revoke_reason``); they keep that text as their
  description and get **no** code (NULL): nobody decided which of the two they were, and guessing
  ANNAT_ALLVARLIGT_FEL would put words in the revoker's mouth. Their status updates carry the text
  alone (``docs/lifecycle.md``).
* ``certificate.signed_by_key``: the signer's HSA-id case-folded, like ``unit_key``, with an index
  on (``signed_by_key``, ``signed_at``) for ``GET /certificates?issuer=...&signedSince=...``.
  Existing rows are filled from ``signed_by_hsa_id`` with ``lower()``, which equals Python's
  ``casefold()`` for HSA-ids (ASCII letters, digits and dashes).
* ``hsa_unit_fact``: what the HSA unit files said about each node (care-giver and care-unit flags,
  the named care giver, the care giver above it in the DN tree, the member units), and whether the
  latest file still lists it. Empty until the next HSA unit file is imported.
* ``caregiver_export``: each export of a care giver's certificates (the file's SHA-256, who, when,
  a fingerprint per certificate) and the purge it allowed.

The outbox gains the status ``PURGED``; the column is a plain VARCHAR, so it needs no change here.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIME = sa.DateTime(timezone=True)
CODE = sa.String(length=32)


def upgrade() -> None:
    with op.batch_alter_table("certificate") as batch:
        batch.add_column(sa.Column("revoke_reason_code", CODE, nullable=True))
        batch.add_column(sa.Column("signed_by_key", sa.String(), nullable=True))
        batch.create_index("ix_certificate_signed_by_key_signed_at", ["signed_by_key", "signed_at"])
    op.execute("UPDATE certificate SET signed_by_key = lower(signed_by_hsa_id) WHERE signed_by_hsa_id IS NOT NULL")
    op.create_table(
        "hsa_unit_fact",
        sa.Column("hsa_key", sa.String(), nullable=False),
        sa.Column("hsa_id", sa.String(), nullable=False),
        sa.Column("care_giver", sa.Boolean(), nullable=False),
        sa.Column("care_unit", sa.Boolean(), nullable=False),
        sa.Column("responsible_care_giver", sa.String(), nullable=True),
        sa.Column("dn_care_giver", sa.String(), nullable=True),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.Column("listed_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("hsa_key", name=op.f("pk_hsa_unit_fact")),
    )
    op.create_table(
        "caregiver_export",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("care_giver_key", sa.String(), nullable=False),
        sa.Column("care_giver_hsa_id", sa.String(), nullable=False),
        sa.Column("digest", sa.String(), nullable=False),
        sa.Column("file_name", sa.String(), nullable=False),
        sa.Column("exported_at", UTC_TIME, nullable=False),
        sa.Column("exported_by", sa.String(), nullable=False),
        sa.Column("certificates", sa.Integer(), nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=False),
        sa.Column("purged_at", UTC_TIME, nullable=True),
        sa.Column("purged_by", sa.String(), nullable=True),
        sa.Column("purge_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_caregiver_export")),
        sa.UniqueConstraint("digest", name=op.f("uq_caregiver_export_digest")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_caregiver_export_care_giver_key", "caregiver_export", ["care_giver_key"])


def downgrade() -> None:
    # Purged events keep their status word; an older release counts them as neither pending nor failed.
    op.drop_index("ix_caregiver_export_care_giver_key", table_name="caregiver_export")
    op.drop_table("caregiver_export")
    op.drop_table("hsa_unit_fact")
    with op.batch_alter_table("certificate") as batch:
        batch.drop_index("ix_certificate_signed_by_key_signed_at")
        batch.drop_column("signed_by_key")
        batch.drop_column("revoke_reason_code")
