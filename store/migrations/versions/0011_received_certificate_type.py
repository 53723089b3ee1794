"""A certificate keeps ``typAvIntyg`` as received beside its canonical type.

Journal systems name a certificate type by more than one (code, code system) pair: the legacy
KV_UTLATANDE_TYP, codes in lower case. The certificate's ``type_code``/``type_code_system`` hold
the type's canonical pair (what status updates carry); the new ``received_type_code`` and
``received_type_code_system`` hold what the journal system sent. Until now a draft kept the code
system as received and the registry's code, which for every type then accepted was the pair as
received, so existing rows are given their own type as the pair received.

Queued RADERA events carry deleted certificates as snapshots of older versions; they are not
rewritten here: ``domain.certificates.from_snapshot`` fills the pair in the same way when it reads
one (snapshot version 4 carries it).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

CERTIFICATE = sa.table(
    "certificate",
    sa.column("type_code", sa.String()),
    sa.column("type_code_system", sa.String()),
    sa.column("received_type_code", sa.String()),
    sa.column("received_type_code_system", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("certificate") as batch:
        batch.add_column(sa.Column("received_type_code", sa.String(), nullable=True))
        batch.add_column(sa.Column("received_type_code_system", sa.String(), nullable=True))
    op.get_bind().execute(
        CERTIFICATE.update().values(
            received_type_code=CERTIFICATE.c.type_code, received_type_code_system=CERTIFICATE.c.type_code_system
        )
    )
    # Filled for every row above, so the columns can be required from now on (batch mode: SQLite
    # cannot alter a column's nullability in place and rebuilds the table).
    with op.batch_alter_table("certificate") as batch:
        batch.alter_column("received_type_code", existing_type=sa.String(), nullable=False)
        batch.alter_column("received_type_code_system", existing_type=sa.String(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("certificate") as batch:
        batch.drop_column("received_type_code_system")
        batch.drop_column("received_type_code")
