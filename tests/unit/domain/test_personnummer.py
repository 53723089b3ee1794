"""Tests for domain.personnummer: date, samordningsnummer, Luhn and root checks."""

from __future__ import annotations

import pytest

from domain.personnummer import (
    InvalidPersonId,
    PersonIdProblem,
    is_samordningsnummer,
    luhn_check_digit,
    parse_person_id,
)
from domain.values import PERSONNUMMER_ROOT, SAMORDNINGSNUMMER_ROOT, PersonIdKind

# Hand-checked: Luhn over YYMMDDNNN with weights 2,1,2,...; digit sums of the products.
#   1212121212 -> 1,2,1,2,1,2,1,2,1 x 2,1,2,... -> 2*9 = 18 -> check (10 - 8) = 2
VALID_PERSONNUMMER = "191212121212"
#   7001011233 -> 14(5),0,0,1,0,1,2,2,6 = 17 -> check 3 (so ...1234 is wrong)
VALID_PERSONNUMMER_1970 = "197001011233"
#   7010632391 (day 63 = 3 Oct) -> 14(5),0,2,0,12(3),3,4,3,18(9) = 29 -> check 1
VALID_SAMORDNINGSNUMMER = "197010632391"
#   0002292381 (29 Feb 2000, a leap year) -> check 1
VALID_LEAP_DAY = "200002292381"


def _reason(root: str, extension: str) -> PersonIdProblem:
    with pytest.raises(InvalidPersonId) as caught:
        parse_person_id(root, extension)
    return caught.value.reason


def test_valid_personnummer_is_accepted() -> None:
    """A personnummer with a real date and the right check digit parses as a personnummer."""
    person_id = parse_person_id(PERSONNUMMER_ROOT, VALID_PERSONNUMMER)
    assert person_id.kind is PersonIdKind.PERSONNUMMER
    assert person_id.digits == VALID_PERSONNUMMER


def test_second_valid_personnummer_is_accepted() -> None:
    """197001011233 is valid: its check digit is 3, computed by hand above."""
    person_id = parse_person_id(PERSONNUMMER_ROOT, VALID_PERSONNUMMER_1970)
    assert person_id.digits == VALID_PERSONNUMMER_1970


def test_leap_day_in_leap_year_is_accepted() -> None:
    """29 February exists in 2000."""
    assert parse_person_id(PERSONNUMMER_ROOT, VALID_LEAP_DAY).digits == VALID_LEAP_DAY


def test_valid_samordningsnummer_is_accepted() -> None:
    """A samordningsnummer (day + 60) with its own root parses as a samordningsnummer."""
    person_id = parse_person_id(SAMORDNINGSNUMMER_ROOT, VALID_SAMORDNINGSNUMMER)
    assert person_id.kind is PersonIdKind.SAMORDNINGSNUMMER


def test_surrounding_whitespace_is_ignored() -> None:
    """Pretty-printed XML may wrap the value in whitespace; the digits are what count."""
    assert parse_person_id(f" {PERSONNUMMER_ROOT} ", f"\n {VALID_PERSONNUMMER} \n").digits == (
        VALID_PERSONNUMMER
    )


def test_wrong_check_digit_is_a_checksum_problem() -> None:
    """197001011234 has check digit 4 where 3 is right."""
    assert _reason(PERSONNUMMER_ROOT, "197001011234") is PersonIdProblem.CHECKSUM


def test_wrong_check_digit_in_samordningsnummer_is_a_checksum_problem() -> None:
    """The Luhn check applies to samordningsnummer too, over the digits as sent (day + 60)."""
    assert _reason(SAMORDNINGSNUMMER_ROOT, "197010632392") is PersonIdProblem.CHECKSUM


def test_february_30_is_a_date_problem() -> None:
    """There is no 30 February, whatever the check digit."""
    assert _reason(PERSONNUMMER_ROOT, "199002301234") is PersonIdProblem.DATE


def test_leap_day_in_common_year_is_a_date_problem() -> None:
    """1900 was not a leap year, so 19000229 is not a date."""
    assert _reason(PERSONNUMMER_ROOT, "190002291234") is PersonIdProblem.DATE


def test_month_13_is_a_date_problem() -> None:
    """Month 13 does not exist."""
    assert _reason(PERSONNUMMER_ROOT, "199013011234") is PersonIdProblem.DATE


def test_day_00_is_a_date_problem() -> None:
    """Day 00 is neither a personnummer day nor a samordningsnummer day."""
    assert _reason(PERSONNUMMER_ROOT, "199001001234") is PersonIdProblem.DATE


def test_samordningsnummer_day_beyond_month_end_is_a_date_problem() -> None:
    """Day 92 would be the 32nd: the +60 offset does not make an impossible day valid."""
    assert _reason(SAMORDNINGSNUMMER_ROOT, "199001921234") is PersonIdProblem.DATE


def test_samordningsnummer_february_31_is_a_date_problem() -> None:
    """Day 91 in February is the 31st of February."""
    assert _reason(SAMORDNINGSNUMMER_ROOT, "199002911234") is PersonIdProblem.DATE


def test_day_61_with_personnummer_root_is_a_root_mismatch() -> None:
    """Day 61 is a valid samordningsnummer day, so with the personnummer root the root is wrong."""
    with pytest.raises(InvalidPersonId) as error:
        parse_person_id(PERSONNUMMER_ROOT, VALID_SAMORDNINGSNUMMER)
    assert error.value.reason is PersonIdProblem.ROOT_MISMATCH
    assert error.value.declared is PersonIdKind.PERSONNUMMER
    assert error.value.actual is PersonIdKind.SAMORDNINGSNUMMER


def test_personnummer_with_samordningsnummer_root_is_a_root_mismatch() -> None:
    """A personnummer sent with the samordningsnummer root is reported too."""
    assert _reason(SAMORDNINGSNUMMER_ROOT, VALID_PERSONNUMMER) is PersonIdProblem.ROOT_MISMATCH


@pytest.mark.parametrize(
    "extension",
    [
        "19121212-1212",
        "1212121212",
        "1912121212123",
        "19121212121X",
        "\uff11\uff19\uff11\uff12" * 3,  # full-width digits pass str.isdigit()
        "19121212121\u00b2",  # a superscript two passes str.isdigit()
        "\u0661\u0669\u0661\u0662" * 3,  # Arabic-Indic digits pass str.isdigit()
    ],
)
def test_anything_but_twelve_ascii_digits_is_a_format_problem(extension: str) -> None:
    """Dashes, ten digits, thirteen digits, letters and full-width digits are all refused."""
    assert _reason(PERSONNUMMER_ROOT, extension) is PersonIdProblem.FORMAT


def test_blank_extension_is_missing() -> None:
    """A blank extension is reported as missing, not as a bad format."""
    assert _reason(PERSONNUMMER_ROOT, "   ") is PersonIdProblem.MISSING


def test_unknown_root_is_reported() -> None:
    """A root other than the two PersonId OIDs (here the HSA-id root) is refused."""
    assert _reason("1.2.752.129.2.1.4.1", VALID_PERSONNUMMER) is PersonIdProblem.UNKNOWN_ROOT


def test_exception_text_never_contains_the_digits() -> None:
    """The exception may be logged, so its str() names the check, not the number."""
    with pytest.raises(InvalidPersonId) as caught:
        parse_person_id(PERSONNUMMER_ROOT, "197001011234")
    assert "197001011234" not in str(caught.value)
    assert "7001011234" not in str(caught.value)
    assert str(caught.value) == "invalid person id: checksum"


def test_is_samordningsnummer_looks_at_the_day_field() -> None:
    """Day 61 and above means samordningsnummer, day 60 and below does not."""
    assert is_samordningsnummer("197010612380")
    assert not is_samordningsnummer("197010302380")
    assert not is_samordningsnummer("197010602380")


def test_is_samordningsnummer_is_false_for_malformed_input() -> None:
    """Something that is not twelve digits is not a samordningsnummer."""
    assert not is_samordningsnummer("19701063-2391")


def test_luhn_check_digit_of_known_number() -> None:
    """The check digit of 811218987 is 6 (198112189876 is a commonly used valid test number)."""
    assert luhn_check_digit("811218987") == 6


def _luhn_by_the_book(nine_digits: str) -> int:
    """The check digit as the rule is written: each digit times 2, 1, 2, ..., the products' digits summed."""
    total = sum(sum(map(int, str(int(char) * (2 - position % 2)))) for position, char in enumerate(nine_digits))
    return (10 - total % 10) % 10


def test_luhn_check_digit_agrees_with_the_rule_as_written() -> None:
    """Every digit in every position (a digit alone among zeros), and a spread of whole numbers."""
    numbers = ["0" * position + str(digit) + "0" * (8 - position) for position in range(9) for digit in range(10)]
    numbers += [f"{n * 7919 % 10**9:09d}" for n in range(2000)]
    for number in numbers:
        assert luhn_check_digit(number) == _luhn_by_the_book(number), number
