"""Tests for domain.roles: the role a user acts in, from HSA data."""

from __future__ import annotations

from domain.directory import Personnel
from domain.roles import role_of
from domain.values import HsaId, Role


def _personnel(
    professions: tuple[str, ...] = (),
    positions: tuple[str, ...] = (),
    group_codes: tuple[str, ...] = (),
) -> Personnel:
    return Personnel(
        hsa_id=HsaId("SE2321000016-U001"),
        name="Ada Testsson",
        licensed_professions=professions,
        position_codes=positions,
        group_prescriber_codes=group_codes,
    )


def test_licensed_physician_is_lakare() -> None:
    """The licensed profession Läkare makes the user läkare."""
    assert role_of(_personnel(professions=("Läkare",))) is Role.LAKARE


def test_profession_names_compare_case_insensitively() -> None:
    """HSA exports differ in case: "LÄKARE" and " läkare " are the same profession."""
    assert role_of(_personnel(professions=("LÄKARE",))) is Role.LAKARE
    assert role_of(_personnel(professions=(" läkare ",))) is Role.LAKARE


def test_dentist_is_tandlakare() -> None:
    """The licensed profession Tandläkare makes the user tandläkare."""
    assert role_of(_personnel(professions=("Tandläkare",))) is Role.TANDLAKARE


def test_nurse_is_sjukskoterska() -> None:
    """The licensed profession Sjuksköterska makes the user sjuksköterska."""
    assert role_of(_personnel(professions=("Sjuksköterska",))) is Role.SJUKSKOTERSKA


def test_midwife_is_barnmorska() -> None:
    """The licensed profession Barnmorska makes the user barnmorska."""
    assert role_of(_personnel(professions=("Barnmorska",))) is Role.BARNMORSKA


def test_no_qualifying_data_is_vardadministrator() -> None:
    """Without a qualifying profession or position the user is a vårdadministratör."""
    assert role_of(_personnel()) is Role.VARDADMINISTRATOR


def test_other_profession_is_vardadministrator() -> None:
    """A licensed profession that may not sign (here Psykolog) still means vårdadministratör."""
    assert role_of(_personnel(professions=("Psykolog",))) is Role.VARDADMINISTRATOR


def test_intern_position_is_lakare() -> None:
    """Position code 204010 (physician in internship) counts as läkare without a licence."""
    assert role_of(_personnel(positions=("204010",))) is Role.LAKARE


def test_position_203090_with_group_code_9300005_is_lakare() -> None:
    """Position 203090 with group prescriber code 9300005 counts as läkare."""
    assert role_of(_personnel(positions=("203090",), group_codes=("9300005",))) is Role.LAKARE


def test_position_203090_with_group_code_9400003_is_lakare() -> None:
    """Position 203090 with group prescriber code 9400003 counts as läkare."""
    assert role_of(_personnel(positions=("203090",), group_codes=("9400003",))) is Role.LAKARE


def test_position_204090_with_group_code_9100009_is_lakare() -> None:
    """Position 204090 with group prescriber code 9100009 counts as läkare."""
    assert role_of(_personnel(positions=("204090",), group_codes=("9100009",))) is Role.LAKARE


def test_position_204090_with_group_code_9200007_is_lakare() -> None:
    """Position 204090 with group prescriber code 9200007 counts as läkare."""
    assert role_of(_personnel(positions=("204090",), group_codes=("9200007",))) is Role.LAKARE


def test_position_203090_without_group_code_is_vardadministrator() -> None:
    """Position 203090 alone does not make a physician."""
    assert role_of(_personnel(positions=("203090",))) is Role.VARDADMINISTRATOR


def test_group_code_of_the_other_position_does_not_count() -> None:
    """Group codes pair with their own position: 203090 with 9100009 (a 204090 code) is not."""
    assert role_of(_personnel(positions=("203090",), group_codes=("9100009",))) is (
        Role.VARDADMINISTRATOR
    )


def test_physician_wins_over_nurse() -> None:
    """A user who is both läkare and sjuksköterska acts as läkare."""
    assert role_of(_personnel(professions=("Sjuksköterska", "Läkare"))) is Role.LAKARE


def test_dentist_wins_over_nurse_and_midwife() -> None:
    """Tandläkare outranks sjuksköterska and barnmorska."""
    professions = ("Barnmorska", "Sjuksköterska", "Tandläkare")
    assert role_of(_personnel(professions=professions)) is Role.TANDLAKARE


def test_nurse_wins_over_midwife() -> None:
    """Sjuksköterska outranks barnmorska."""
    assert role_of(_personnel(professions=("Barnmorska", "Sjuksköterska"))) is Role.SJUKSKOTERSKA


def test_intern_nurse_acts_as_lakare() -> None:
    """A licensed nurse in physician internship acts as läkare: the position rule ranks first."""
    personnel = _personnel(professions=("Sjuksköterska",), positions=("204010",))
    assert role_of(personnel) is Role.LAKARE
