"""Initial schema: the embedded directory, drafts, integrated units, the outbox and the PDL log.

Why these tables, in short (the models' docstrings say more):

* ``care_giver``, ``unit``, ``personnel``, ``personnel_code``, ``personnel_assignment``, ``patient``
  and ``directory_import``: HSA and PU data loaded by ``intygsgateway directory import``. HSA tables
  are keyed by the case-folded HSA-id (``hsa_key``) and keep the spelling in ``hsa_id``.
* ``draft``: one row per draft with snapshots of patient, unit, care giver and issuer (no foreign
  keys to the directory on purpose: the snapshot must outlive directory changes).
* ``integrated_unit``: units that created a draft and so receive status updates.
* ``outbox_event``: status-update events written with the change they report; the resend engine
  adds its lease and attempt columns in a later migration.
* ``pdl_record``: the append-only access log; hash chaining comes in a later migration.

Unusual on purpose: wire-code enums are plain ``VARCHAR(32)`` (no database enum, no CHECK), so new
codes need no migration; ``sqlite_autoincrement`` on the two log-like tables so SQLite never reuses
an id (their ids define order); 64-bit ids are ``INTEGER`` on SQLite, where only that spelling is an
alias of the rowid.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIME = sa.DateTime(timezone=True)
CODE = sa.String(length=32)  # a StrEnum stored by value


def upgrade() -> None:
    _directory()
    _drafts_and_units()
    _outbox_and_pdl()


def _directory() -> None:
    op.create_table(
        "care_giver",
        sa.Column("hsa_key", sa.String(), nullable=False),
        sa.Column("hsa_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("hsa_key", name=op.f("pk_care_giver")),
    )
    op.create_table(
        "unit",
        sa.Column("hsa_key", sa.String(), nullable=False),
        sa.Column("hsa_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("care_giver_key", sa.String(), nullable=False),
        sa.Column("parent_key", sa.String(), nullable=True),
        sa.Column("arbetsplatskod", sa.String(), nullable=True),
        sa.Column("postal_address", sa.String(), nullable=True),
        sa.Column("postal_code", sa.String(), nullable=True),
        sa.Column("city", sa.String(), nullable=True),
        sa.Column("phone", sa.String(), nullable=True),
        sa.Column("email", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["care_giver_key"], ["care_giver.hsa_key"],
            name=op.f("fk_unit_care_giver_key_care_giver"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_key"], ["unit.hsa_key"], name=op.f("fk_unit_parent_key_unit")
        ),
        sa.PrimaryKeyConstraint("hsa_key", name=op.f("pk_unit")),
    )
    op.create_table(
        "personnel",
        sa.Column("hsa_key", sa.String(), nullable=False),
        sa.Column("hsa_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("prescriber_code", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("hsa_key", name=op.f("pk_personnel")),
    )
    op.create_table(
        "personnel_code",
        sa.Column("personnel_key", sa.String(), nullable=False),
        sa.Column("kind", CODE, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["personnel_key"], ["personnel.hsa_key"],
            name=op.f("fk_personnel_code_personnel_key_personnel"),
        ),
        sa.PrimaryKeyConstraint("personnel_key", "kind", "position", name=op.f("pk_personnel_code")),
    )
    op.create_table(
        "personnel_assignment",
        sa.Column("personnel_key", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("unit_key", sa.String(), nullable=False),
        sa.Column("purpose", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["personnel_key"], ["personnel.hsa_key"],
            name=op.f("fk_personnel_assignment_personnel_key_personnel"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_key"], ["unit.hsa_key"], name=op.f("fk_personnel_assignment_unit_key_unit")
        ),
        sa.PrimaryKeyConstraint("personnel_key", "position", name=op.f("pk_personnel_assignment")),
    )
    op.create_table(
        "patient",
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("kind", CODE, nullable=False),
        sa.Column("given_name", sa.String(), nullable=False),
        sa.Column("middle_name", sa.String(), nullable=True),
        sa.Column("family_name", sa.String(), nullable=False),
        sa.Column("postal_address", sa.String(), nullable=True),
        sa.Column("postal_code", sa.String(), nullable=True),
        sa.Column("city", sa.String(), nullable=True),
        sa.Column("deceased", sa.Boolean(), nullable=False),
        sa.Column("protected_identity", sa.Boolean(), nullable=False),
        sa.Column("test_indicator", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_patient")),
    )
    op.create_table(
        "directory_import",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("produced_at", UTC_TIME, nullable=False),
        sa.Column("imported_at", UTC_TIME, nullable=False),
        sa.Column("care_givers", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("personnel", sa.Integer(), nullable=False),
        sa.Column("patients", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_import")),
    )


def _drafts_and_units() -> None:
    op.create_table(
        "draft",
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
        sa.PrimaryKeyConstraint("certificate_id", name=op.f("pk_draft")),
    )
    op.create_index(op.f("ix_draft_unit_key"), "draft", ["unit_key"])
    op.create_table(
        "integrated_unit",
        sa.Column("unit_key", sa.String(), nullable=False),
        sa.Column("unit_hsa_id", sa.String(), nullable=False),
        sa.Column("care_giver_hsa_id", sa.String(), nullable=False),
        sa.Column("first_seen", UTC_TIME, nullable=False),
        sa.Column("last_seen", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("unit_key", name=op.f("pk_integrated_unit")),
    )


def _outbox_and_pdl() -> None:
    op.create_table(
        "outbox_event",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("certificate_id", sa.String(), nullable=False),
        sa.Column("event_code", CODE, nullable=False),
        sa.Column("occurred_at", UTC_TIME, nullable=False),
        sa.Column("unit_hsa_id", sa.String(), nullable=False),
        sa.Column("care_giver_hsa_id", sa.String(), nullable=False),
        sa.Column("correlation_id", sa.String(), nullable=False),
        sa.Column("acting_user_hsa_id", sa.String(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("payload_version", sa.Integer(), nullable=False),
        sa.Column("status", CODE, nullable=False),
        sa.Column("next_attempt_at", UTC_TIME, nullable=False),
        # CURRENT_TIMESTAMP is UTC on SQLite and the transaction's start on PostgreSQL.
        sa.Column(
            "created_at", UTC_TIME, server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_event")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_outbox_event_certificate_id_id", "outbox_event", ["certificate_id", "id"]
    )
    op.create_index(
        "ix_outbox_event_status_next_attempt_at", "outbox_event", ["status", "next_attempt_at"]
    )
    op.create_table(
        "pdl_record",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("log_id", sa.String(), nullable=False),
        sa.Column("system_id", sa.String(), nullable=False),
        sa.Column("system_name", sa.String(), nullable=True),
        sa.Column("activity", sa.String(), nullable=False),
        sa.Column("activity_level", sa.String(), nullable=True),
        sa.Column("activity_args", sa.String(), nullable=True),
        sa.Column("start_date", UTC_TIME, nullable=False),
        sa.Column("purpose", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("user_name", sa.String(), nullable=True),
        sa.Column("user_assignment", sa.String(), nullable=True),
        sa.Column("user_title", sa.String(), nullable=True),
        sa.Column("user_care_giver_id", sa.String(), nullable=False),
        sa.Column("user_care_giver_name", sa.String(), nullable=True),
        sa.Column("user_care_unit_id", sa.String(), nullable=False),
        sa.Column("user_care_unit_name", sa.String(), nullable=True),
        sa.Column("patient_id_root", sa.String(), nullable=True),
        sa.Column("patient_id", sa.String(), nullable=True),
        sa.Column("patient_name", sa.String(), nullable=True),
        sa.Column("resource_type", sa.String(), nullable=False),
        sa.Column("resource_care_giver_id", sa.String(), nullable=False),
        sa.Column("resource_care_giver_name", sa.String(), nullable=True),
        sa.Column("resource_care_unit_id", sa.String(), nullable=True),
        sa.Column("resource_care_unit_name", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pdl_record")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_pdl_record_activity_level"), "pdl_record", ["activity_level"])


def downgrade() -> None:
    for table in (
        "pdl_record", "outbox_event", "integrated_unit", "draft", "directory_import", "patient",
        "personnel_assignment", "personnel_code", "personnel", "unit", "care_giver",
    ):
        # Dropping a table drops its indexes on both databases.
        op.drop_table(table)
