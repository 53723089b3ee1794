"""Writing to the database as its administrator would, past the application's own guards.

On PostgreSQL, revision 0009's trigger refuses changes to sealed PDL records, for every role. The
administrator the threat model is about (docs/pdl-log.md) owns the tables and can switch triggers off;
tests that play that administrator do the same, for their transaction only.
"""

from __future__ import annotations

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session


def past_the_triggers(connection: Connection | Session) -> None:
    """Switch triggers off for the rest of this transaction (PostgreSQL; SQLite has none to pass)."""
    if (
        connection.get_bind().dialect.name == "postgresql"
        if isinstance(connection, Session)
        else (connection.dialect.name == "postgresql")
    ):
        connection.execute(text("SET LOCAL session_replication_role = replica"))
