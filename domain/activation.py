"""When and where a certificate type may be created: activation rules as data, and the one check.

New certificate types go into production switched off and are then activated, from a date, for a
pilot's care givers or units before the national roll-out (FK7210 and FK7472 went live in June 2024
and were opened to a pilot region's selected units on 16 September); an old type is phased out on a
date. So each type in the registry may carry an ``[activation]`` table, parsed here by
``activation_from_mapping`` (its own function, so the rest of the type's table can change without
touching it)::

    [certificate_types.ITFP.activation]
    from = 2024-09-16                            # first Swedish calendar day it may be created
    to = 2026-12-31                              # optional: last day (a phase-out)
    care_givers = ["SE2321000016-0001"]          # optional: a pilot, by care giver ...
    units = ["SE2321000016-1000"]                # ... and/or by unit (its sub-units included)

How it relates to the type's ``active`` flag: ``active = false`` withdraws the type for everyone,
whatever its activation says (CDC-TYPE-INACTIVE); ``active = true`` without an ``[activation]``
table means active everywhere, every day, as before activation rules existed. With both lists
empty or left out the type is active for every unit within its dates; with a list, only for the
units listed (or below a listed unit) and the units of the listed care givers.

Days are Swedish calendar days (``domain.values.swedish_date``), as the recipients' go-live dates
are. ``activation_state`` is the pure check CreateDraftCertificate asks (``domain.draft_checks``)
and ``intygsgateway types show`` prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain.values import HsaId

_KEYS = frozenset({"from", "to", "care_givers", "units"})


class ActivationConfigError(ValueError):
    """Raised when an ``[activation]`` table is malformed; the text names the key at fault."""


@dataclass(frozen=True, slots=True)
class Activation:
    """From which day, until which day and for whom a type may be created.

    The default (no ``[activation]`` table) is active for everyone on every day.
    """

    starts: dt.date | None = None  # first day it may be created; None: no start date
    ends: dt.date | None = None  # last day it may be created; None: no end date
    care_givers: frozenset[HsaId] = frozenset()
    units: frozenset[HsaId] = frozenset()

    @property
    def is_pilot(self) -> bool:
        """Whether only some care givers or units may create the type."""
        return bool(self.care_givers or self.units)


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a draft is being created: the unit, then each unit above it, and the unit's care giver."""

    units: tuple[HsaId, ...]
    care_giver: HsaId


class ActivationState(StrEnum):
    """The answer of ``activation_state``; every value but ACTIVE is a refusal with its own text."""

    ACTIVE = "ACTIVE"
    WITHDRAWN = "WITHDRAWN"  # the type's ``active`` flag is false
    NOT_YET = "NOT_YET"  # before the ``from`` day
    ENDED = "ENDED"  # after the ``to`` day
    NOT_IN_PILOT = "NOT_IN_PILOT"  # within the dates, but the unit is not among those listed


def activation_state(active: bool, activation: Activation, placement: Placement, day: dt.date) -> ActivationState:
    """Whether a type with this ``active`` flag and ``activation`` may be created at ``placement`` on ``day``.

    The order is the order of the remedies: a withdrawn type never comes back by itself, a date
    passes, and a unit can be added to a pilot. A unit counts as listed when it or any unit above it
    is in ``units`` (a pilot on a vårdenhet includes its mottagningar), or its care giver is in
    ``care_givers``.
    """
    if not active:
        return ActivationState.WITHDRAWN
    if activation.starts is not None and day < activation.starts:
        return ActivationState.NOT_YET
    if activation.ends is not None and day > activation.ends:
        return ActivationState.ENDED
    if activation.is_pilot and not (
        placement.care_giver in activation.care_givers
        or any(unit in activation.units for unit in placement.units)
    ):
        return ActivationState.NOT_IN_PILOT
    return ActivationState.ACTIVE


def _date(value: object, key: str) -> dt.date:
    # TOML has a date type (``from = 2024-09-16``); tomllib gives a datetime.date. A datetime (with a
    # time of day) or a quoted string is refused, so that a go-live cannot silently shift by a zone.
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ActivationConfigError(f"activation.{key} must be a TOML date such as 2024-09-16, got {value!r}")
    return value


def _hsa_ids(value: object, key: str) -> frozenset[HsaId]:
    if not isinstance(value, list) or not value or not all(isinstance(item, str) and item.strip() for item in value):
        raise ActivationConfigError(f"activation.{key} must be a non-empty list of HSA-ids, got {value!r}")
    ids = [HsaId(item) for item in value]
    if len(set(ids)) != len(ids):
        raise ActivationConfigError(f"activation.{key} lists an HSA-id twice")
    return frozenset(ids)


def activation_from_mapping(table: Mapping[str, Any] | None) -> Activation:
    """The ``[activation]`` table of a type, checked; None (no table) is active everywhere always.

    A table must give ``from`` (an activation without a start day is no activation: leave the table
    out instead), and an empty list is refused rather than read as "everyone", since it is more
    likely a pilot whose units were forgotten than a roll-out.

    Raises:
        ActivationConfigError: an unknown or missing key, a value of the wrong type, ``to`` before ``from``.
    """
    if table is None:
        return Activation()
    if not isinstance(table, Mapping):
        raise ActivationConfigError("activation must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ActivationConfigError(f"unknown activation keys {unknown} (known: {sorted(_KEYS)})")
    if "from" not in table:
        raise ActivationConfigError("activation.from is required (leave the table out to activate everywhere)")
    starts = _date(table["from"], "from")
    ends = _date(table["to"], "to") if "to" in table else None
    if ends is not None and ends < starts:
        raise ActivationConfigError(f"activation.to ({ends}) is before activation.from ({starts})")
    care_givers = _hsa_ids(table["care_givers"], "care_givers") if "care_givers" in table else frozenset()
    units = _hsa_ids(table["units"], "units") if "units" in table else frozenset()
    return Activation(starts, ends, care_givers, units)


def scope_text(activation: Activation, limit: int = 5) -> str:
    """For whom the type is active, in Swedish for answers: "för alla enheter" or the listed HSA-ids.

    At most ``limit`` ids of each list are named (the rest counted), so a large pilot cannot blow
    up an answer. HSA-ids of units and care givers are safe to echo.
    """
    if not activation.is_pilot:
        return "för alla enheter"

    def listed(ids: frozenset[HsaId]) -> str:
        names = sorted(hsa_id.value for hsa_id in ids)
        shown = ", ".join(names[:limit])
        return shown if len(names) <= limit else f"{shown} och {len(names) - limit} till"

    parts = []
    if activation.care_givers:
        parts.append(f"vårdgivare {listed(activation.care_givers)}")
    if activation.units:
        parts.append(f"enheterna {listed(activation.units)} med underenheter")
    return "bara för " + " och för ".join(parts)


def placement_of(unit: HsaId, parents: Mapping[HsaId, HsaId | None], care_giver: HsaId) -> Placement:
    """The placement of ``unit``, climbing ``parents`` (unit -> parent) as far as they are known.

    Each unit is visited once, so a cycle in directory data cannot loop forever.
    """
    chain: list[HsaId] = []
    current: HsaId | None = unit
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return Placement(tuple(chain), care_giver)


def describe(active: bool, activation: Activation) -> str:
    """One line for people: whether, from when, until when and for whom (``types show``)."""
    if not active:
        return "withdrawn (active = false)"
    parts = [f"from {activation.starts.isoformat()}" if activation.starts else "always"]
    if activation.ends:
        parts.append(f"to {activation.ends.isoformat()}")
    if activation.is_pilot:
        pilot = [
            *(f"care giver {c.value}" for c in sorted(activation.care_givers, key=lambda h: h.key)),
            *(f"unit {u.value}" for u in sorted(activation.units, key=lambda h: h.key)),
        ]
        parts.append("pilot: " + ", ".join(pilot))
    else:
        parts.append("for every unit")
    return " ".join(parts)
