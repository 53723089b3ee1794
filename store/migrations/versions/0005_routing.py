"""Routing catalogue: TAK's model (contracts, components, logical addresses, endpoints, routes, access
rights) and the catalogue version log.

The live tables hold only active rows; every change replaces them and writes one ``routing_version``
row (who, when, what, counts, and a gzipped snapshot kept for the newest versions), so natural keys
are plain unique constraints on the normalised (trimmed, case-folded) HSA-id or namespace, and URLs
are compared byte-exact. ``routing_version`` uses ``sqlite_autoincrement`` so a version number is
never reused after a rollback deletes nothing; its primary key is what every process polls.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIME = sa.DateTime(timezone=True)


def _keyed(table: str, spelling: str, key: str) -> None:
    op.create_table(
        table,
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column(spelling, sa.String(), nullable=False),
        sa.Column(key, sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint(key, name=op.f(f"uq_{table}_{key}")),
    )


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    _keyed("routing_contract", "namespace", "namespace_key")
    _keyed("routing_component", "hsa_id", "hsa_key")
    _keyed("routing_logical_address", "hsa_id", "hsa_key")
    op.create_table(
        "routing_endpoint",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("producer_id", BIG_ID, nullable=True),
        sa.Column("profile", sa.String(), nullable=False),
        sa.Column("url", sa.String(), nullable=False),
        _fk("routing_endpoint", "producer_id", "routing_component"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_endpoint")),
        sa.UniqueConstraint("producer_id", "profile", "url", name=op.f("uq_routing_endpoint_producer_id")),
    )
    op.create_table(
        "routing_route",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("contract_id", BIG_ID, nullable=False),
        sa.Column("logical_address_id", BIG_ID, nullable=False),
        sa.Column("endpoint_id", BIG_ID, nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("connect_timeout_s", sa.Float(), nullable=True),
        sa.Column("read_timeout_s", sa.Float(), nullable=True),
        _fk("routing_route", "contract_id", "routing_contract"),
        _fk("routing_route", "endpoint_id", "routing_endpoint"),
        _fk("routing_route", "logical_address_id", "routing_logical_address"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_route")),
        sa.UniqueConstraint("contract_id", "logical_address_id", "endpoint_id", "valid_from", "valid_to",
                            name=op.f("uq_routing_route_contract_id")),
    )
    op.create_table(
        "routing_access_right",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("consumer_id", BIG_ID, nullable=False),
        sa.Column("contract_id", BIG_ID, nullable=False),
        sa.Column("logical_address_id", BIG_ID, nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        _fk("routing_access_right", "consumer_id", "routing_component"),
        _fk("routing_access_right", "contract_id", "routing_contract"),
        _fk("routing_access_right", "logical_address_id", "routing_logical_address"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_access_right")),
        sa.UniqueConstraint("consumer_id", "contract_id", "logical_address_id", "valid_from", "valid_to",
                            name=op.f("uq_routing_access_right_consumer_id")),
    )
    op.create_table(
        "routing_version",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("comment", sa.String(), nullable=True),
        sa.Column("routes", sa.Integer(), nullable=False),
        sa.Column("rights", sa.Integer(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("snapshot", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_version")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    for table in ("routing_version", "routing_access_right", "routing_route", "routing_endpoint",
                  "routing_logical_address", "routing_component", "routing_contract"):
        op.drop_table(table)
