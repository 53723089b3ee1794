"""A corpus of messages labelled valid or invalid, each built by a small function in code.

A case is a function that returns a SOAP envelope; its name names the case and its docstring says
what the contract allows or forbids there. Registering it with ``@corpus.valid`` or
``@corpus.invalid`` states the expected verdict. The conformance tests check the label against our
``xsd/`` and, where the official files are available, that both give the same verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Builder = Callable[[], bytes]


@dataclass(frozen=True)
class Case:
    """One labelled message of a corpus."""

    name: str
    valid: bool
    message: bytes
    why: str


class Corpus:
    """An ordered collection of labelled message builders."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._entries: list[tuple[Builder, bool]] = []

    def valid(self, build: Builder) -> Builder:
        """Register a builder whose message every equivalent schema must accept."""
        return self._register(build, valid=True)

    def invalid(self, build: Builder) -> Builder:
        """Register a builder whose message every equivalent schema must reject."""
        return self._register(build, valid=False)

    def cases(self) -> list[Case]:
        """Build every message (cheap: small trees), in registration order."""
        return [
            Case(build.__name__, valid, build(), " ".join((build.__doc__ or "").split()))
            for build, valid in self._entries
        ]

    def _register(self, build: Builder, *, valid: bool) -> Builder:
        if any(existing.__name__ == build.__name__ for existing, _ in self._entries):
            raise ValueError(f"{self.name}: case {build.__name__} is registered twice")
        if not build.__doc__:
            raise ValueError(f"{self.name}: case {build.__name__} needs a docstring saying why")
        self._entries.append((build, valid))
        return build
