"""Certificate lifecycle: the ``draft`` table becomes ``certificate``, with content and lifecycle columns.

A draft is now one state of a certificate, which is signed, sent, locked or revoked in the same row.
New columns: ``content`` (the answers, a JSON list; ``[]`` for existing drafts), ``version`` (optimistic
locking, ``1`` for existing drafts), who and when for each transition (``ready_*``, ``signed_*``,
``sent_*``, ``locked_at``, ``revoked_*``), ``updated_at`` and ``copied_from`` (a copy of a locked
draft names its original). A new index on ``(status, created_at)`` serves the locking job.

Unusual on purpose: instead of renaming the table in place, the migration creates ``certificate``,
copies every row and drops ``draft``, on both databases. SQLite can neither rename an index nor a
primary-key constraint, and a rename would leave ``pk_draft``/``ix_draft_unit_key`` behind on one
database but not the other. Drafts are few (they live for days), so the copy is cheap.

The downgrade copies the rows back into ``draft`` and drops the lifecycle columns' data: content,
transition history and copies' origins are lost, and a signed or revoked certificate comes back as
a row whose status the older release does not know.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)
CODE = sa.String(length=32)  # a StrEnum stored by value

# Columns both tables share, in the order of 0001.
SNAPSHOT_COLUMNS = (
    "certificate_id", "type_code", "type_code_system", "status", "created_at", "test_certificate",
    "ref", "prefill_xml", "extensions", "patient_id_kind", "patient_id", "patient_given_name",
    "patient_middle_name", "patient_family_name", "patient_postal_address", "patient_postal_code",
    "patient_city", "patient_deceased", "patient_protected_identity", "patient_test_indicator",
    "unit_key", "unit_hsa_id", "unit_name", "unit_parent_hsa_id", "unit_arbetsplatskod",
    "unit_postal_address", "unit_postal_code", "unit_city", "unit_phone", "unit_email",
    "care_giver_hsa_id", "care_giver_name", "created_by_hsa_id", "created_by_name",
    "created_by_detail",
)


def _snapshot_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("certificate_id", sa.String(), nullable=False),
        sa.Column("type_code", sa.String(), nullable=False),
        sa.Column("type_code_system", sa.String(), nullable=False),
        sa.Column("status", CODE, nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("test_certificate", sa.Boolean(), nullable=False),
        sa.Column("ref", sa.String(), nullable=True),
        sa.Column("prefill_xml", sa.Text(), nullable=True),
        sa.Column("extensions", sa.JSON(), nullable=False),
        sa.Column("patient_id_kind", CODE, nullable=False),
        sa.Column("patient_id", sa.String(), nullable=False),
        sa.Column("patient_given_name", sa.String(), nullable=False),
        sa.Column("patient_middle_name", sa.String(), nullable=True),
        sa.Column("patient_family_name", sa.String(), nullable=False),
        sa.Column("patient_postal_address", sa.String(), nullable=True),
        sa.Column("patient_postal_code", sa.String(), nullable=True),
        sa.Column("patient_city", sa.String(), nullable=True),
        sa.Column("patient_deceased", sa.Boolean(), nullable=False),
        sa.Column("patient_protected_identity", sa.Boolean(), nullable=False),
        sa.Column("patient_test_indicator", sa.Boolean(), nullable=False),
        sa.Column("unit_key", sa.String(), nullable=False),
        sa.Column("unit_hsa_id", sa.String(), nullable=False),
        sa.Column("unit_name", sa.String(), nullable=False),
        sa.Column("unit_parent_hsa_id", sa.String(), nullable=True),
        sa.Column("unit_arbetsplatskod", sa.String(), nullable=True),
        sa.Column("unit_postal_address", sa.String(), nullable=True),
        sa.Column("unit_postal_code", sa.String(), nullable=True),
        sa.Column("unit_city", sa.String(), nullable=True),
        sa.Column("unit_phone", sa.String(), nullable=True),
        sa.Column("unit_email", sa.String(), nullable=True),
        sa.Column("care_giver_hsa_id", sa.String(), nullable=False),
        sa.Column("care_giver_name", sa.String(), nullable=False),
        sa.Column("created_by_hsa_id", sa.String(), nullable=False),
        sa.Column("created_by_name", sa.String(), nullable=False),
        sa.Column("created_by_detail", sa.JSON(), nullable=False),
    ]


def _copy(source: str, target: str, extra: dict[str, str]) -> None:
    """``INSERT INTO target SELECT ... FROM source`` for the shared columns plus literal ``extra`` ones."""
    names = ", ".join(SNAPSHOT_COLUMNS)
    extra_names = "".join(f", {name}" for name in extra)
    extra_values = "".join(f", {value}" for value in extra.values())
    op.execute(
        f"INSERT INTO {target} ({names}{extra_names}) SELECT {names}{extra_values} FROM {source}"
    )


def upgrade() -> None:
    op.create_table(
        "certificate",
        *_snapshot_columns(),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=True),
        sa.Column("ready_at", UTC_TIME, nullable=True),
        sa.Column("ready_by_hsa_id", sa.String(), nullable=True),
        sa.Column("signed_at", UTC_TIME, nullable=True),
        sa.Column("signed_by_hsa_id", sa.String(), nullable=True),
        sa.Column("signed_by_name", sa.String(), nullable=True),
        sa.Column("sent_at", UTC_TIME, nullable=True),
        sa.Column("sent_to", sa.String(), nullable=True),
        sa.Column("locked_at", UTC_TIME, nullable=True),
        sa.Column("revoked_at", UTC_TIME, nullable=True),
        sa.Column("revoked_by_hsa_id", sa.String(), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.Column("copied_from", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("certificate_id", name=op.f("pk_certificate")),
    )
    # PostgreSQL has no implicit cast from text to json; SQLite stores JSON as text.
    empty_list = "CAST('[]' AS JSON)" if op.get_bind().dialect.name == "postgresql" else "'[]'"
    _copy("draft", "certificate", {"content": empty_list, "version": "1"})
    op.drop_table("draft")  # drops ix_draft_unit_key with it
    op.create_index(op.f("ix_certificate_unit_key"), "certificate", ["unit_key"])
    op.create_index(
        "ix_certificate_status_created_at", "certificate", ["status", "created_at"]
    )


def downgrade() -> None:
    op.create_table(
        "draft",
        *_snapshot_columns(),
        sa.PrimaryKeyConstraint("certificate_id", name=op.f("pk_draft")),
    )
    _copy("certificate", "draft", {})
    op.drop_table("certificate")
    op.create_index(op.f("ix_draft_unit_key"), "draft", ["unit_key"])
