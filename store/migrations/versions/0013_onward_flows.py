"""Onward flows: outbox events that know their contract and destination, honest send states, message delivery.

* ``outbox_event.contract``: the contract the event is delivered with. Every row queued before is a
  status update, so the column's default fills them in: ``CertificateStatusUpdateForCare``.
* ``outbox_event.recipient`` and ``logical_address``: the recipient an onward event concerns (its
  part code, such as FKASSA) and the logical address it goes to; NULL for status updates.
* ``outbox_event.destination``: whom the event goes to, for ordering: ``journal`` for status updates
  (every existing row), the logical address for onward events. A certificate's events are delivered
  in order per destination, so the per-certificate index becomes (certificate_id, destination, id):
  the claim's "first pending event of the certificate at this destination" probes it, and queries by
  certificate alone still use its first column.
* ``certificate.send_requested_at``, ``send_failed_at``, ``send_failure_class``,
  ``send_failure_text``: when care asked for the send (a certificate is SENDING until the recipient
  accepts), and the last send's failure for good (the outcome class, the receiver's text, when).
  SENDING is a new value of the plain ``status`` column: no type change.
* ``arende.delivery_status`` and ``delivery_detail``: how far a message care wrote got towards the
  recipient (PENDING, DELIVERED, FAILED, CANCELLED) and why it failed; NULL for messages that arrived
  from the recipient and for care's messages stored before onward delivery existed.

The downgrade drops the columns; onward events queued meanwhile would be read as status updates by
the older release, so they are deleted first (with their attempts), as that release cannot send them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)
CODE = sa.String(length=32)
STATUS_UPDATE = "CertificateStatusUpdateForCare"


def upgrade() -> None:
    with op.batch_alter_table("outbox_event") as batch:
        batch.add_column(sa.Column("contract", sa.String(), server_default=sa.text(f"'{STATUS_UPDATE}'"),
                                   nullable=False))
        batch.add_column(sa.Column("recipient", sa.String(), nullable=True))
        batch.add_column(sa.Column("logical_address", sa.String(), nullable=True))
        batch.add_column(sa.Column("destination", sa.String(), server_default=sa.text("'journal'"), nullable=False))
        batch.drop_index("ix_outbox_event_certificate_id_id")
        batch.create_index("ix_outbox_event_certificate_id_destination_id", ["certificate_id", "destination", "id"])
    with op.batch_alter_table("certificate") as batch:
        batch.add_column(sa.Column("send_requested_at", UTC_TIME, nullable=True))
        batch.add_column(sa.Column("send_failed_at", UTC_TIME, nullable=True))
        batch.add_column(sa.Column("send_failure_class", sa.String(), nullable=True))
        batch.add_column(sa.Column("send_failure_text", sa.Text(), nullable=True))
    with op.batch_alter_table("arende") as batch:
        batch.add_column(sa.Column("delivery_status", CODE, nullable=True))
        batch.add_column(sa.Column("delivery_detail", sa.Text(), nullable=True))


def downgrade() -> None:
    onward = f"SELECT id FROM outbox_event WHERE contract <> '{STATUS_UPDATE}'"
    op.execute(f"DELETE FROM outbox_attempt WHERE event_id IN ({onward})")
    op.execute(f"DELETE FROM outbox_event WHERE contract <> '{STATUS_UPDATE}'")
    # A certificate left SENDING has no meaning to the older release: it was signed.
    op.execute("UPDATE certificate SET status = 'SIGNED' WHERE status = 'SENDING'")
    with op.batch_alter_table("arende") as batch:
        batch.drop_column("delivery_detail")
        batch.drop_column("delivery_status")
    with op.batch_alter_table("certificate") as batch:
        batch.drop_column("send_failure_text")
        batch.drop_column("send_failure_class")
        batch.drop_column("send_failed_at")
        batch.drop_column("send_requested_at")
    with op.batch_alter_table("outbox_event") as batch:
        batch.drop_index("ix_outbox_event_certificate_id_destination_id")
        batch.create_index("ix_outbox_event_certificate_id_id", ["certificate_id", "id"])
        batch.drop_column("destination")
        batch.drop_column("logical_address")
        batch.drop_column("recipient")
        batch.drop_column("contract")
