"""Column types shared by the mapped classes.

``UtcDateTime`` exists because the two databases disagree about time zones: PostgreSQL's
``timestamp with time zone`` keeps the instant and hands back an aware value, while SQLite has no
date type at all and SQLAlchemy stores a zone-less string. Without this decorator the same query
returns aware datetimes on one database and naive ones on the other, and a naive value compared with
an aware ``now`` raises ``TypeError`` far away from the cause. So: every value is written as UTC, a
naive value is refused on the way in (we cannot know what zone it meant), and every value read back
is an aware UTC datetime on both databases.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class NaiveDatetimeError(ValueError):
    """Raised when a datetime without a time zone is written to a ``UtcDateTime`` column."""


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always stored as UTC and always read back as an aware UTC datetime.

    The database type is ``DateTime(timezone=True)``: ``timestamptz`` on PostgreSQL and the usual
    ISO text on SQLite (without an offset, since SQLite would not compare offsets anyway; the value
    is UTC by construction).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetimeError("refusing a naive datetime: pass an aware (UTC) datetime")
        utc = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # SQLite's DATETIME text format has no offset field; dropping the zone keeps the text
            # sortable and comparable because every stored value is UTC.
            return utc.replace(tzinfo=None)
        return utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is UTC:  # PostgreSQL sessions are in UTC (store.session)
            return value
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
