"""Each certificate's own event history, and the patient's index: what ListCertificatesForCareWithQA reads.

* ``certificate_event``: one row per status-update event of a certificate (KV_HANDELSE code, time,
  who handled it, and a recipient question's ämne and answer deadline), written in the same
  transaction as the change, kept for as long as the certificate. The outbox holds the same events
  for delivery, but its rows are purged by retention and tombstoned by a care giver's purge.
* ``ix_certificate_patient_id``: a patient's certificates, the list's first step.

Existing data is carried over in two steps, so that a certificate is listed after the upgrade as it
would have been had the history always existed:

1. every status-update row still in the outbox whose certificate exists (RADERA left out: the
   certificate goes with it), with its ämne and deadline read from the payload;
2. for what retention already removed, the events the certificate's and its ärenden's own columns
   prove (created, ready, signed, sent, revoked; questions and answers received, questions sent,
   questions handled), each added only where the certificate has no event of that code yet. These
   carry the row's time and, where the row names one, the user; an edit (ANDRAT) leaves no trace
   in the columns and cannot be recovered.

The downgrade drops the table and the index; nothing else depends on them.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)
CODE = sa.String(length=32)
STATUS_UPDATE = "CertificateStatusUpdateForCare"
RECIPIENT_EVENTS = ("NYFRFM", "NYSVFM")
AMNE_CODES = frozenset({"KOMPLT", "KONTKT", "AVSTMN", "OVRIGT", "PAMINN"})
BATCH = 1000

_OUTBOX = sa.table(
    "outbox_event",
    sa.column("id", sa.BigInteger()),
    sa.column("certificate_id", sa.String()),
    sa.column("event_code", sa.String()),
    sa.column("occurred_at", UTC_TIME),
    sa.column("acting_user_hsa_id", sa.String()),
    sa.column("payload", sa.JSON()),
    sa.column("contract", sa.String()),
)
_CERTIFICATE = sa.table("certificate", sa.column("certificate_id", sa.String()))
_HISTORY = sa.table(
    "certificate_event",
    sa.column("certificate_id", sa.String()),
    sa.column("event_code", sa.String()),
    sa.column("occurred_at", UTC_TIME),
    sa.column("handled_by_hsa_id", sa.String()),
    sa.column("amne", sa.String()),
    sa.column("last_answer_date", sa.Date()),
)

# Step 2: (event code, the time column, the user column or NULL, which rows).
_CERTIFICATE_FACTS = (
    ("SKAPAT", "created_at", "c.created_by_hsa_id", "1 = 1"),
    ("KFSIGN", "ready_at", "c.ready_by_hsa_id", "c.ready_at IS NOT NULL"),
    ("SIGNAT", "signed_at", "c.signed_by_hsa_id", "c.signed_at IS NOT NULL"),
    ("SKICKA", "sent_at", "NULL", "c.sent_at IS NOT NULL"),
    ("MAKULE", "revoked_at", "c.revoked_by_hsa_id", "c.revoked_at IS NOT NULL"),
)
_QUESTION = "a.answer_to IS NULL AND a.amne <> 'PAMINN'"
_ARENDE_FACTS = (
    # A question or a reminder from the recipient, with its ämne and deadline.
    ("NYFRFM", "received_at", "NULL", "a.direction = 'FROM_RECIPIENT' AND a.answer_to IS NULL", True),
    ("NYSVFM", "received_at", "NULL", "a.direction = 'FROM_RECIPIENT' AND a.answer_to IS NOT NULL "
                                       "AND a.amne <> 'PAMINN'", False),
    ("NYFRFV", "received_at", "a.author", f"a.direction = 'FROM_CARE' AND {_QUESTION}", False),
    ("HANFRFM", "handled_at", "a.handled_by", f"a.direction = 'FROM_RECIPIENT' AND {_QUESTION} "
                                              "AND a.handled_at IS NOT NULL", False),
    ("HANFRFV", "handled_at", "a.handled_by", f"a.direction = 'FROM_CARE' AND {_QUESTION} "
                                              "AND a.handled_at IS NOT NULL", False),
)


def upgrade() -> None:
    op.create_table(
        "certificate_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("certificate_id", sa.String(), nullable=False),
        sa.Column("event_code", CODE, nullable=False),
        sa.Column("occurred_at", UTC_TIME, nullable=False),
        sa.Column("handled_by_hsa_id", sa.String(), nullable=True),
        sa.Column("amne", CODE, nullable=True),
        sa.Column("last_answer_date", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_certificate_event"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_certificate_event_certificate_id_occurred_at", "certificate_event",
                    ["certificate_id", "occurred_at"])
    op.create_index("ix_certificate_patient_id", "certificate", ["patient_id"])
    _copy_outbox()
    _derive_from_columns()


def _copy_outbox() -> None:
    """Step 1: the outbox's status updates of existing certificates, oldest first, in batches."""
    connection = op.get_bind()
    last = -1
    while True:
        rows = connection.execute(
            sa.select(_OUTBOX.c.id, _OUTBOX.c.certificate_id, _OUTBOX.c.event_code, _OUTBOX.c.occurred_at,
                      _OUTBOX.c.acting_user_hsa_id, _OUTBOX.c.payload)
            .where(_OUTBOX.c.id > last, _OUTBOX.c.contract == STATUS_UPDATE, _OUTBOX.c.event_code != "RADERA",
                   sa.exists().where(_CERTIFICATE.c.certificate_id == _OUTBOX.c.certificate_id))
            .order_by(_OUTBOX.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        connection.execute(sa.insert(_HISTORY), [_history_row(row) for row in rows])
        last = rows[-1].id


def _history_row(row: Any) -> dict[str, Any]:
    payload = row.payload if isinstance(row.payload, dict) else {}
    amne = payload.get("amne")
    return {
        "certificate_id": row.certificate_id,
        "event_code": row.event_code,
        "occurred_at": row.occurred_at,
        "handled_by_hsa_id": None if row.event_code in RECIPIENT_EVENTS else row.acting_user_hsa_id,
        "amne": amne if amne in AMNE_CODES else None,
        "last_answer_date": _date(payload.get("sistaDatumForSvar")),
    }


def _date(value: object) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _derive_from_columns() -> None:
    """Step 2: the events the rows prove, where the certificate has none of that code yet."""
    for code, at, user, condition in _CERTIFICATE_FACTS:
        op.execute(
            "INSERT INTO certificate_event (certificate_id, event_code, occurred_at, handled_by_hsa_id) "
            f"SELECT c.certificate_id, '{code}', c.{at}, {user} FROM certificate c WHERE {condition} "
            "AND NOT EXISTS (SELECT 1 FROM certificate_event e WHERE e.certificate_id = c.certificate_id "
            f"AND e.event_code = '{code}')"
        )
    for code, at, user, condition, topic in _ARENDE_FACTS:
        topic_columns = ", amne, last_answer_date" if topic else ""
        topic_values = ", a.amne, a.deadline" if topic else ""
        op.execute(
            "INSERT INTO certificate_event (certificate_id, event_code, occurred_at, handled_by_hsa_id"
            f"{topic_columns}) "
            f"SELECT a.certificate_id, '{code}', a.{at}, {user}{topic_values} "
            f"FROM arende a WHERE {condition} "
            "AND EXISTS (SELECT 1 FROM certificate c WHERE c.certificate_id = a.certificate_id) "
            "AND NOT EXISTS (SELECT 1 FROM certificate_event e WHERE e.certificate_id = a.certificate_id "
            f"AND e.event_code = '{code}') ORDER BY a.id"
        )


def downgrade() -> None:
    op.drop_index("ix_certificate_patient_id", table_name="certificate")
    op.drop_index("ix_certificate_event_certificate_id_occurred_at", table_name="certificate_event")
    op.drop_table("certificate_event")
