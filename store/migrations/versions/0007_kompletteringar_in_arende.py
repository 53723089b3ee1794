"""Kompletteringar move into their ärende: a JSON list column ``arende.kompletteringar``.

They are only ever read and written with their message, like ``kontaktInfo``. As rows of their
own they cost every received message a second INSERT, and every check of a certificate's
conversation a join, which PostgreSQL planned as a scan of the whole ``komplettering`` table once
it grew (measured in docs/send-message-to-care.md). The rows are copied into the lists in their
stored order, then the table is dropped; the downgrade copies them back.

The copy runs in Python, a batch of ärenden at a time, so that it is the same on both databases and
never holds a large table in memory.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

from itertools import groupby
from operator import itemgetter

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
BATCH = 1000

ARENDE = sa.table("arende", sa.column("id", BIG_ID), sa.column("kompletteringar", sa.JSON()))
KOMPLETTERING = sa.table(
    "komplettering",
    sa.column("arende_id", BIG_ID),
    sa.column("position", sa.Integer()),
    sa.column("question_id", sa.String()),
    sa.column("instance", sa.Integer()),
    sa.column("text", sa.Text()),
)


def upgrade() -> None:
    with op.batch_alter_table("arende") as batch:
        batch.add_column(
            sa.Column("kompletteringar", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
    connection = op.get_bind()
    last = None
    while True:
        # A batch of arenden at a time (keyset on the id), so that a large table is never read whole.
        query = sa.select(KOMPLETTERING.c.arende_id).distinct().order_by(KOMPLETTERING.c.arende_id).limit(BATCH)
        if last is not None:
            query = query.where(KOMPLETTERING.c.arende_id > last)
        ids = connection.execute(query).scalars().all()
        if not ids:
            break
        rows = connection.execute(
            sa.select(KOMPLETTERING)
            .where(KOMPLETTERING.c.arende_id.in_(ids))
            .order_by(KOMPLETTERING.c.arende_id, KOMPLETTERING.c.position)
        ).mappings().all()
        connection.execute(
            ARENDE.update().where(ARENDE.c.id == sa.bindparam("key")).values(kompletteringar=sa.bindparam("value")),
            [
                {
                    "key": arende_id,
                    "value": [
                        {"question_id": k["question_id"], "instance": k["instance"], "text": k["text"]}
                        for k in items
                    ],
                }
                for arende_id, items in groupby(rows, key=itemgetter("arende_id"))
            ],
        )
        last = ids[-1]
    op.drop_table("komplettering")


def downgrade() -> None:
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
    connection = op.get_bind()
    rows = [
        {"arende_id": arende_id, "position": position, **item}
        for arende_id, items in connection.execute(sa.select(ARENDE.c.id, ARENDE.c.kompletteringar))
        for position, item in enumerate(items or [])
    ]
    if rows:
        connection.execute(sa.insert(KOMPLETTERING), rows)
    with op.batch_alter_table("arende") as batch:
        batch.drop_column("kompletteringar")
