"""In-memory stand-ins for what a use case reaches outside itself, for decision-order tests without a database.

``MemoryDirectory`` answers from a directory document (the demo directory by default) and counts what
it was asked; ``ClosedUnitOfWork`` is a unit of work that fails the test if it is ever opened, which
is how a test proves that a refusal wrote nothing; ``UnitOfWorkOf`` opens a test's own stand-in
transactions (one that fails, loses a race or counts) where a ``store.UnitOfWork`` is expected.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from importlib import resources

import pytest

from domain.directory import CareGiver, DirectoryUnavailable, Person, Personnel, Unit
from domain.directory_import import DirectoryDocument, parse_directory_document
from domain.values import HsaId, PersonId
from store import Tx, UnitOfWork


def demo_document() -> DirectoryDocument:
    """The demo directory that ``serve --demo`` loads."""
    text = resources.files("cli").joinpath("demo_directory.json").read_text(encoding="utf-8")
    return parse_directory_document(json.loads(text))


class MemoryDirectory:
    """``domain.directory.Directory`` over a document; ``down`` makes every question raise ``DirectoryUnavailable``."""

    def __init__(self, document: DirectoryDocument | None = None, *, down: bool = False) -> None:
        document = document or demo_document()
        self._personnel = {p.hsa_id.key: p for p in document.personnel}
        self._units = {u.hsa_id.key: u for u in document.units}
        self._care_givers = {c.hsa_id.key: c for c in document.care_givers}
        self._patients = {p.person_id.digits: p for p in document.patients}
        self.down = down
        self.asked: Counter[str] = Counter()

    def _ask(self, what: str) -> None:
        self.asked[what] += 1
        if self.down:
            raise DirectoryUnavailable("HSA/PU does not answer")

    def personnel(self, hsa_id: HsaId) -> Personnel | None:
        self._ask("personnel")
        return self._personnel.get(hsa_id.key)

    def unit(self, hsa_id: HsaId) -> Unit | None:
        self._ask("unit")
        return self._units.get(hsa_id.key)

    def care_giver(self, hsa_id: HsaId) -> CareGiver | None:
        self._ask("care_giver")
        return self._care_givers.get(hsa_id.key)

    def person(self, person_id: PersonId) -> Person | None:
        self._ask("person")
        return self._patients.get(person_id.digits)


class ClosedUnitOfWork(UnitOfWork):
    """A unit of work that must not be opened: the decision was a refusal, so nothing may be written.

    Opening it fails the test with ``pytest.fail``, which no ``except Exception`` on the way up can
    swallow and turn into an ordinary answer. It has no database, so no session factory either.
    """

    __slots__ = ()

    def __init__(self) -> None:
        pass

    def __call__(self) -> AbstractContextManager[Tx]:
        pytest.fail("a transaction was opened, but this decision must write nothing")


class UnitOfWorkOf(UnitOfWork):
    """A unit of work whose transactions ``opener`` gives: a test's failing, racing or counting stand-in."""

    __slots__ = ("_opener",)

    def __init__(self, opener: Callable[[], AbstractContextManager[Tx]]) -> None:
        self._opener = opener

    def __call__(self) -> AbstractContextManager[Tx]:
        return self._opener()

    @property
    def dialect(self) -> str:
        """No database's: a store function takes the way of a transaction, which ``opener`` gives."""
        return "stand-in"
