"""The PDL table's append-only guard decides in the trigger's WHEN clause, not in a function per row.

0009's trigger called a PL/pgSQL function for every updated row, and the function compared the
whole old and new rows as JSON (``to_jsonb`` twice). Sealing updates every record once, so every
record paid for it: 26 µs of the database's CPU per record measured with ``EXPLAIN ANALYZE`` on a
seal of 200 (5.2 of its 9.5 ms), at 9,000 StoreLog entries/s about a tenth of the two-core
machine (issue 16). The same rule is now the trigger's ``WHEN`` condition, which PostgreSQL
evaluates in the executor without calling a function: the function runs only to refuse.

The rule has not changed: once ``seq`` is set nothing of the row may change, and before it only
the three link columns may. ``WHEN`` cannot leave columns out of a row comparison, so the content
columns are named (``CONTENT_COLUMNS``, every column of ``pdl_record`` at this revision but the
link); a test updates each column the table has and fails for one the guard does not name, so a
later migration that adds a column must recreate the trigger with it.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import context, op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

#: Every column of ``pdl_record`` but the link (``seq``, ``prev_hash``, ``hash``), as of this revision.
CONTENT_COLUMNS = (
    "id", "log_id", "system_id", "system_name", "activity", "activity_level", "activity_args", "start_date",
    "purpose", "user_id", "user_name", "user_assignment", "user_title", "user_care_giver_id",
    "user_care_giver_name", "user_care_unit_id", "user_care_unit_name", "patient_id_root", "patient_id",
    "patient_name", "resource_type", "resource_care_giver_id", "resource_care_giver_name",
    "resource_care_unit_id", "resource_care_unit_name", "user_person_id_root", "user_person_id",
    "resource_index", "consumer_id", "consumer_auth", "stored_at",
)  # fmt: skip

REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION pdl_record_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Called only when the trigger's WHEN condition found a forbidden change.
    IF OLD.seq IS NOT NULL THEN
        RAISE EXCEPTION 'pdl_record % is sealed and cannot be changed', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RAISE EXCEPTION 'pdl_record % content cannot be changed', OLD.id USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def _when() -> str:
    old = ", ".join(f"OLD.{column}" for column in CONTENT_COLUMNS)
    new = ", ".join(f"NEW.{column}" for column in CONTENT_COLUMNS)
    return f"OLD.seq IS NOT NULL OR ROW({old}) IS DISTINCT FROM ROW({new})"


def _guard(function: str, when: str | None) -> None:
    """Replace the trigger and its function; ``when`` (None: every row) decides when it runs."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS pdl_record_append_only ON pdl_record")
    op.execute(function)
    condition = "" if when is None else f"WHEN ({when}) "
    op.execute(
        "CREATE TRIGGER pdl_record_append_only BEFORE UPDATE ON pdl_record "
        f"FOR EACH ROW {condition}EXECUTE FUNCTION pdl_record_append_only()"
    )


def upgrade() -> None:
    _guard(REFUSE_FUNCTION, _when())


def downgrade() -> None:
    # Back to 0009's form, its own function text: the function decides, for every updated row.
    _guard(context.script.get_revision("0009").module.APPEND_ONLY_FUNCTION, None)
