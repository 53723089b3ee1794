"""Who is acting, and may they act on this unit? The directory questions every user action asks.

CreateDraftCertificate and the certificate operations (lifecycle, questions) share one rule: the
user must be in HSA and hold a care-and-treatment assignment on the unit, a unit above it or a unit
below it (``domain.draft_checks.has_care_assignment``). ``units_around`` fetches exactly the units
that rule needs; ``acting_user`` applies it for an operation on an existing certificate and raises
a ``LifecycleRefused`` with a reason a caller can map (USER_UNKNOWN, NO_ASSIGNMENT).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.directory import Directory, Personnel, Unit
from domain.draft_checks import has_care_assignment
from domain.lifecycle import Action, LifecycleRefused, RefusalReason
from domain.roles import role_of
from domain.values import HsaId, Role

MAX_TREE_DEPTH = 32  # far deeper than any HSA tree; stops a cycle in bad directory data


@dataclass(frozen=True, slots=True)
class ActingUser:
    """A user found in the directory with an assignment on the unit, and the role they act in."""

    personnel: Personnel
    role: Role

    @property
    def hsa_id(self) -> HsaId:
        return self.personnel.hsa_id


def units_around(directory: Directory, unit_hsa_id: str, user: Personnel | None) -> dict[HsaId, Unit]:
    """The unit, each of the user's assignment units, and all their ancestors, as far as HSA knows them."""
    found: dict[HsaId, Unit] = {}
    starts = [HsaId(unit_hsa_id)] if unit_hsa_id.strip() else []
    starts += [assignment.unit for assignment in (user.assignments if user else ())]
    for start in starts:
        current: HsaId | None = start
        for _ in range(MAX_TREE_DEPTH):
            if current is None or current in found:
                break
            unit = directory.unit(current)
            if unit is None:
                break
            found[current] = unit
            current = unit.parent
    return found


def acting_user(
    directory: Directory, user: HsaId, unit: HsaId, action: Action, certificate_id: str
) -> ActingUser:
    """The user acting on ``certificate_id`` at ``unit``, checked against the directory.

    Raises:
        LifecycleRefused: USER_UNKNOWN (not in HSA) or NO_ASSIGNMENT (no assignment covering the unit).
        domain.directory.DirectoryUnavailable: the directory does not answer.
    """
    personnel = directory.personnel(user)
    if personnel is None:
        raise LifecycleRefused(RefusalReason.USER_UNKNOWN, action, certificate_id)
    role = role_of(personnel)
    if not has_care_assignment(personnel, unit, units_around(directory, unit.value, personnel)):
        raise LifecycleRefused(RefusalReason.NO_ASSIGNMENT, action, certificate_id, role=role)
    return ActingUser(personnel, role)
