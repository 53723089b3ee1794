"""Parse and check personnummer and samordningsnummer as they arrive in ``types:PersonId``.

The schema already demands twelve digits and one of the two roots; the checks here are the ones a
schema cannot express: that the digits form a real date (for a samordningsnummer the day is the
birth day plus 60), that the Luhn check digit is right, and that the root names the kind of number
the digits actually are. Webcert checks only the first two; we also refuse a root that contradicts
the digits, because the root travels on into PDL records and status updates.

Nothing here ever puts the digits into an exception text or a log: a failed check says *which* check
failed (``PersonIdProblem``) and nothing about the number.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from domain.values import PersonId, PersonIdKind

_SAMORDNINGSNUMMER_DAY_OFFSET = 60


class PersonIdProblem(StrEnum):
    """Which check a person id failed, in the order the checks run."""

    MISSING = "missing"  # blank extension
    UNKNOWN_ROOT = "unknown_root"  # root is neither the personnummer nor the samordningsnummer OID
    FORMAT = "format"  # not exactly twelve ASCII digits
    DATE = "date"  # the digits do not form a real date (day - 60 for a samordningsnummer)
    CHECKSUM = "checksum"  # the Luhn check digit is wrong
    ROOT_MISMATCH = "root_mismatch"  # e.g. a samordningsnummer sent with the personnummer root


class InvalidPersonId(Exception):
    """Raised by ``parse_person_id`` when a person id fails a check; ``reason`` says which one.

    ``declared`` and ``actual`` are set for ``ROOT_MISMATCH`` so the answer can say which root to
    use. The digits are deliberately not kept: the exception may end up in a log or a traceback.
    """

    def __init__(
        self,
        reason: PersonIdProblem,
        declared: PersonIdKind | None = None,
        actual: PersonIdKind | None = None,
    ) -> None:
        super().__init__(f"invalid person id: {reason.value}")
        self.reason = reason
        self.declared = declared
        self.actual = actual


def _is_twelve_digits(digits: str) -> bool:
    # str.isdigit() alone accepts other scripts' digits and superscripts; the wire format is ASCII
    # only, and among ASCII characters isdigit() accepts exactly 0-9.
    return len(digits) == 12 and digits.isascii() and digits.isdigit()


def is_samordningsnummer(digits: str) -> bool:
    """Whether twelve digits are a samordningsnummer, i.e. the day field is 61 or more.

    This looks at the shape only (the same rule logsender uses); it does not check the date or the
    check digit. Anything that is not twelve ASCII digits is not a samordningsnummer.
    """
    return _is_twelve_digits(digits) and _samordnings_day(digits)


def _samordnings_day(digits: str) -> bool:
    """Whether twelve digits' day field is a samordningsnummer's (the birth day plus 60)."""
    return int(digits[6:8]) > _SAMORDNINGSNUMMER_DAY_OFFSET


def _has_valid_date(digits: str, samordningsnummer: bool) -> bool:
    day = int(digits[6:8]) - (_SAMORDNINGSNUMMER_DAY_OFFSET if samordningsnummer else 0)
    try:
        date(int(digits[0:4]), int(digits[4:6]), day)
    except ValueError:
        return False
    return True


#: A digit's contribution at a weight of 2: the digit sum of its double (7 -> 14 -> 1 + 4 = 5).
_DOUBLED = {str(digit): sum(divmod(2 * digit, 10)) for digit in range(10)}


def luhn_check_digit(nine_digits: str) -> int:
    """The Luhn (mod 10) check digit for YYMMDDNNN: weights 2,1,2,... and digit sums of products.

    Taken every other digit at a time (a weight of 2 from the first, 1 from the second): a StoreLog
    call checks a hundred person ids, and a loop per digit was most of what a check cost.
    """
    total = sum(map(_DOUBLED.__getitem__, nine_digits[0::2])) + sum(map(int, nine_digits[1::2]))
    return (10 - total % 10) % 10


def _has_valid_checksum(digits: str) -> bool:
    # The check digit covers the ten-digit form YYMMDDNNNC: the century is not part of it.
    return luhn_check_digit(digits[2:11]) == int(digits[11])


def parse_person_id(root: str, extension: str) -> PersonId:
    """Check a ``types:PersonId`` (root and extension as sent) and return it as a ``PersonId``.

    The checks run in the order of ``PersonIdProblem`` and the first failure is raised, because
    later checks are meaningless once an earlier one fails (a wrong check digit usually means a
    typo, which also makes the kind of number uncertain, so the root is compared last). Surrounding
    whitespace is ignored; dashes are not accepted, as the contract's pattern is ``\\d{12}``.

    Raises:
        InvalidPersonId: with the failed check as ``reason``.
    """
    digits = extension.strip()
    if not digits:
        raise InvalidPersonId(PersonIdProblem.MISSING)
    try:
        declared = PersonIdKind(root.strip())
    except ValueError:
        raise InvalidPersonId(PersonIdProblem.UNKNOWN_ROOT) from None
    if not _is_twelve_digits(digits):
        raise InvalidPersonId(PersonIdProblem.FORMAT)
    samordningsnummer = _samordnings_day(digits)
    if not _has_valid_date(digits, samordningsnummer):
        raise InvalidPersonId(PersonIdProblem.DATE)
    if not _has_valid_checksum(digits):
        raise InvalidPersonId(PersonIdProblem.CHECKSUM)
    actual = PersonIdKind.SAMORDNINGSNUMMER if samordningsnummer else PersonIdKind.PERSONNUMMER
    if actual is not declared:
        raise InvalidPersonId(PersonIdProblem.ROOT_MISMATCH, declared=declared, actual=actual)
    return PersonId(actual, digits)
