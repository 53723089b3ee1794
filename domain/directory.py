"""The directory (HSA) and the population register (PU) as the domain sees them.

A deployment may later answer these questions from the national HSA and PU services; the domain only
depends on the small ``Directory`` protocol below. The embedded implementation is
``store.directory.SqlDirectory``, fed by ``intygsgateway directory import``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from domain.values import HsaId, PersonId


class DirectoryUnavailable(Exception):
    """Raised by a ``Directory`` when its backend does not answer; callers answer TECHNICAL_ERROR."""


@dataclass(frozen=True, slots=True)
class CareGiver:
    """A vårdgivare: the top of an HSA tree."""

    hsa_id: HsaId
    name: str


@dataclass(frozen=True, slots=True)
class Unit:
    """A vårdenhet or a sub-unit of one (``parent`` set)."""

    hsa_id: HsaId
    name: str
    care_giver: HsaId
    parent: HsaId | None = None
    arbetsplatskod: str | None = None
    postal_address: str | None = None
    postal_code: str | None = None
    city: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Assignment:
    """A medarbetaruppdrag: the right to work at a unit for a purpose."""

    unit: HsaId
    purpose: str


CARE_AND_TREATMENT = "Vård och behandling"


@dataclass(frozen=True, slots=True)
class Personnel:
    """A person in HSA with what decides their role and where they may act."""

    hsa_id: HsaId
    name: str
    licensed_professions: tuple[str, ...] = ()
    position_codes: tuple[str, ...] = ()
    group_prescriber_codes: tuple[str, ...] = ()
    prescriber_code: str | None = None
    assignments: tuple[Assignment, ...] = ()


@dataclass(frozen=True, slots=True)
class Person:
    """A patient as the population register (PU) knows them."""

    person_id: PersonId
    given_name: str
    family_name: str
    middle_name: str | None = None
    postal_address: str | None = None
    postal_code: str | None = None
    city: str | None = None
    deceased: bool = False
    protected_identity: bool = False
    test_indicator: bool = False


@dataclass(frozen=True, slots=True)
class HsaNode:
    """What HSA says about one node, as the unit check (``domain.directory_check``) reads it.

    From the platform's HSA unit file the flags and links are stated (``stated``): the
    isHsaHealthCareProvider and isHsaHealthCareUnit flags, hsaResponsibleHealthCareProvider and
    hsaHealthCareUnitMembers, and the care giver above the node in the DN tree. A node known only
    from a JSON directory document has them derived from its place in the tree (a care giver; a unit
    without parent is a vårdenhet of its care giver, with its sub-units as members).
    """

    hsa_id: HsaId
    care_giver: bool = False
    care_unit: bool = False
    responsible_care_giver: HsaId | None = None
    dn_care_giver: HsaId | None = None
    members: tuple[HsaId, ...] = ()
    stated: bool = False


class Directory(Protocol):
    """Read access to HSA and PU. Every method may raise ``DirectoryUnavailable``."""

    def personnel(self, hsa_id: HsaId) -> Personnel | None:
        """The person with this HSA-id and their assignments, or None."""
        ...

    def unit(self, hsa_id: HsaId) -> Unit | None:
        """The unit with this HSA-id, or None."""
        ...

    def care_giver(self, hsa_id: HsaId) -> CareGiver | None:
        """The care giver with this HSA-id, or None."""
        ...

    def person(self, person_id: PersonId) -> Person | None:
        """The patient registered under this id in PU, or None when PU does not know them."""
        ...
