"""Derive the role a user acts in from what the directory (HSA) says about them.

The rules follow Webcert's role resolution: a licensed profession decides the role, and two kinds
of non-licensed physicians (interns, and physicians with a group prescriber code) count as läkare.
When several rules match, the most privileged role wins (läkare, tandläkare, sjuksköterska,
barnmorska), because a physician who is also a registered nurse must be able to sign as a
physician. Everyone else with an assignment is a vårdadministratör, who may create drafts but not
sign.
"""

from __future__ import annotations

from domain.directory import Personnel
from domain.values import Role

# Licensed professions (legitimerad yrkesgrupp) as HSA spells them, in order of priority.
_PROFESSION_ROLES: tuple[tuple[str, Role], ...] = (
    ("läkare", Role.LAKARE),
    ("tandläkare", Role.TANDLAKARE),
    ("sjuksköterska", Role.SJUKSKOTERSKA),
    ("barnmorska", Role.BARNMORSKA),
)

# Befattningskod for a physician in internship (AT-läkare): acts as läkare without a licence.
_INTERN_POSITION = "204010"

# Other non-licensed physician positions count as läkare only together with one of these
# gruppförskrivarkoder (position 203090: 9300005/9400003; position 204090: 9100009/9200007).
_POSITION_PRESCRIBER_CODES: dict[str, frozenset[str]] = {
    "203090": frozenset({"9300005", "9400003"}),
    "204090": frozenset({"9100009", "9200007"}),
}


def _normalise(text: str) -> str:
    return text.strip().casefold()


def _is_unlicensed_physician(personnel: Personnel) -> bool:
    positions = {code.strip() for code in personnel.position_codes}
    if _INTERN_POSITION in positions:
        return True
    group_codes = {code.strip() for code in personnel.group_prescriber_codes}
    return any(
        position in positions and not codes.isdisjoint(group_codes)
        for position, codes in _POSITION_PRESCRIBER_CODES.items()
    )


def role_of(personnel: Personnel) -> Role:
    """The role ``personnel`` acts in: the highest-priority role any rule grants.

    Without any, the user is a vårdadministratör.

    Profession names are compared case-insensitively (HSA exports differ in case). Assignments are
    not looked at here: whether the user may act on a unit is ``domain.draft_checks.check_issuer``'s
    question.
    """
    professions = {_normalise(name) for name in personnel.licensed_professions}
    granted = {role for name, role in _PROFESSION_ROLES if name in professions}
    if _is_unlicensed_physician(personnel):
        granted.add(Role.LAKARE)
    for _, role in _PROFESSION_ROLES:
        if role in granted:
            return role
    return Role.VARDADMINISTRATOR
