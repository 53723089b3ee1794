"""Who may act on a certificate, decided from the directory alone (in memory): the first check of every operation."""

from __future__ import annotations

import pytest

from domain.lifecycle import Action, LifecycleRefused, RefusalReason
from domain.values import HsaId, Role
from tests.memory import MemoryDirectory
from usecases.acting_user import acting_user

PHYSICIAN = HsaId("SE2321000016-P001")  # assignment on SE2321000016-1000
SUB_UNIT = HsaId("SE2321000016-1003")  # below SE2321000016-1000
OTHER_UNIT = HsaId("SE2321000016-2000")


def test_a_user_unknown_to_hsa_is_refused_before_anything_else() -> None:
    """USER_UNKNOWN: the directory has no such person."""
    with pytest.raises(LifecycleRefused) as refused:
        acting_user(MemoryDirectory(), HsaId("SE2321000016-NOBODY"), SUB_UNIT, Action.SIGN, "c1")
    assert refused.value.reason is RefusalReason.USER_UNKNOWN


def test_an_assignment_on_a_unit_above_covers_the_unit_below() -> None:
    """The physician's assignment on the care unit covers its sub-unit; the role comes from the profession."""
    user = acting_user(MemoryDirectory(), PHYSICIAN, SUB_UNIT, Action.SIGN, "c1")
    assert (user.hsa_id, user.role) == (PHYSICIAN, Role.LAKARE)


def test_no_assignment_on_the_certificates_unit_is_refused_with_the_role() -> None:
    """NO_ASSIGNMENT for another unit of the same care giver, and the refusal names the user's role."""
    with pytest.raises(LifecycleRefused) as refused:
        acting_user(MemoryDirectory(), PHYSICIAN, OTHER_UNIT, Action.READ, "c1")
    assert (refused.value.reason, refused.value.role) == (RefusalReason.NO_ASSIGNMENT, Role.LAKARE)
