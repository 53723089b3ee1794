"""A manual resend request: which events to put back in the queue, and the guard on its size.

Plain values shared by the CLI, the operations API and the store (``store.resend`` turns a selection
into SQL). Every criterion given must match; a selection without any criterion is refused, and one
that matches more than the cap is refused unless the cap is raised explicitly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.values import HsaId

DEFAULT_CAP = 1000


class ResendRefusalReason(StrEnum):
    NO_CRITERIA = "no-criteria"  # a selection must name at least one criterion
    OVER_CAP = "over-cap"  # it matches more events than the cap allows


class ResendRefused(Exception):
    """A resend that was not carried out; ``reason`` says why, the other fields give the numbers."""

    def __init__(self, reason: ResendRefusalReason, selected: int = 0, cap: int = 0) -> None:
        self.reason = reason
        self.selected = selected
        self.cap = cap
        super().__init__(f"resend refused: {reason} (selected {selected}, cap {cap})")


@dataclass(frozen=True, slots=True)
class ResendSelection:
    """Which events to resend; every given criterion must match (an empty selection is refused)."""

    event_ids: tuple[int, ...] = ()
    certificate_id: str | None = None
    unit: HsaId | None = None
    care_giver: HsaId | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None  # exclusive
    include_delivered: bool = False

    def has_criteria(self) -> bool:
        return bool(self.event_ids) or any(
            value is not None
            for value in (self.certificate_id, self.unit, self.care_giver, self.occurred_from, self.occurred_to)
        )

    def as_json(self) -> dict[str, Any]:
        """The selection as stored in the resend log."""
        data = asdict(self)
        data["event_ids"] = list(self.event_ids)
        for name in ("unit", "care_giver"):
            value = getattr(self, name)
            data[name] = value.value if value is not None else None
        for name in ("occurred_from", "occurred_to"):
            value = getattr(self, name)
            data[name] = value.isoformat() if value is not None else None
        return data
