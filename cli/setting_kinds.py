"""What a setting accepts: integers and numbers in a range, booleans, choices, strings, lists of strings.

Each ``Kind`` reads a value two ways. ``from_value`` takes a typed value, from the TOML file, a
command-line flag (already typed by argparse) or code; it is strict about types, because TOML has
them: ``8080.9`` and ``true`` are not integers and ``"8080"`` is not a number. ``from_text`` takes
the text of an environment variable, where everything is a string: ``"8080"`` is an integer there,
booleans may also be written ``yes``/``no``/``1``/``0`` in any case, and lists are comma-separated.
Both raise ``Refused``; ``cli.settings`` adds the setting and the source and raises ``SettingsError``.
``accepted`` is the text the README's settings table shows and an error message ends with.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from domain.resend_schedule import parse_duration, parse_schedule

T = TypeVar("T")

_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_TRUE = ("true", "yes", "1")
_FALSE = ("false", "no", "0")


class Refused(ValueError):
    """Raised by a ``Kind`` for a value it does not accept; carries nothing, the caller knows the rest."""


class Kind(Generic[T]):
    """What one setting accepts, as a typed value (TOML, flag, code) and as environment text."""

    @property
    def accepted(self) -> str:
        """What is accepted, as a phrase that completes "... is not": ``an integer from 1 to 65535``."""
        raise NotImplementedError

    @property
    def accepted_as_text(self) -> str:
        """What is accepted in the environment, where some kinds allow more spellings."""
        return self.accepted

    def from_value(self, value: object) -> T:
        """``value`` when it has the right type and lies in the accepted set; else ``Refused``."""
        raise NotImplementedError

    def from_text(self, text: str) -> T:
        """The value an environment variable's text stands for; else ``Refused``."""
        return self.from_value(text)


@dataclass(frozen=True, slots=True)
class Integer(Kind[int]):
    """A whole number from ``low`` up to ``high`` (no upper bound when None); never a bool or float."""

    low: int
    high: int | None = None

    @property
    def accepted(self) -> str:
        if self.high is None:
            return f"an integer of {self.low} or more"
        return f"an integer from {self.low} to {self.high}"

    def from_value(self, value: object) -> int:
        # bool is a subclass of int in Python: without this check `threads = true` would be 1.
        if isinstance(value, bool) or not isinstance(value, int):
            raise Refused
        if value < self.low or (self.high is not None and value > self.high):
            raise Refused
        return value

    def from_text(self, text: str) -> int:
        if not _INTEGER.fullmatch(text.strip()):  # ASCII digits only; int() would take "1_0" and "٣"
            raise Refused
        return self.from_value(int(text))


@dataclass(frozen=True, slots=True)
class Number(Kind[float]):
    """A finite number from ``low`` (or above it, when ``above``) up to ``high``; integers are welcome."""

    low: float
    high: float | None = None
    above: bool = False

    @property
    def accepted(self) -> str:
        if self.above:
            return f"a number above {self.low:g}"
        if self.high is None:
            return f"a number of {self.low:g} or more"
        return f"a number from {self.low:g} to {self.high:g}"

    def from_value(self, value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Refused
        number = float(value)
        if not math.isfinite(number) or number < self.low or (self.above and number == self.low):
            raise Refused
        if self.high is not None and number > self.high:
            raise Refused
        return number

    def from_text(self, text: str) -> float:
        if not _NUMBER.fullmatch(text.strip()):  # float() would also take "inf", "nan" and "1_0"
            raise Refused
        return self.from_value(float(text))


@dataclass(frozen=True, slots=True)
class Boolean(Kind[bool]):
    """A TOML boolean; in the environment also yes/no and 1/0, in any case."""

    @property
    def accepted(self) -> str:
        return "true or false"

    @property
    def accepted_as_text(self) -> str:
        return f"one of: {', '.join(_TRUE + _FALSE)} (any case)"

    def from_value(self, value: object) -> bool:
        if not isinstance(value, bool):
            raise Refused
        return value

    def from_text(self, text: str) -> bool:
        spelled = text.strip().lower()
        if spelled not in _TRUE + _FALSE:
            raise Refused
        return spelled in _TRUE


@dataclass(frozen=True, slots=True)
class Choice(Kind[str]):
    """One of a few words, in any case; the value kept is the lower-case word."""

    options: tuple[str, ...]

    @property
    def accepted(self) -> str:
        return f"one of: {', '.join(self.options)}"

    def from_value(self, value: object) -> str:
        if not isinstance(value, str) or value.lower() not in self.options:
            raise Refused
        return value.lower()


@dataclass(frozen=True, slots=True)
class Text(Kind[str]):
    """A string, non-blank when ``required``, and passing ``check`` (which raises ValueError) if given."""

    required: bool = False
    check: Callable[[str], object] | None = None
    description: str | None = None

    @property
    def accepted(self) -> str:
        if self.description is not None:
            return self.description
        return "a non-empty string" if self.required else "a string"

    def from_value(self, value: object) -> str:
        if not isinstance(value, str) or (self.required and not value.strip()):
            raise Refused
        if self.check is not None:
            try:
                self.check(value)
            except ValueError:
                raise Refused from None
        return value


@dataclass(frozen=True, slots=True)
class TextList(Kind[tuple[str, ...]]):
    """A list of non-blank strings (a TOML array), each passing ``check``; comma-separated in the environment."""

    items: str = "strings"
    check: Callable[[str], object] | None = None

    @property
    def accepted(self) -> str:
        return f"a list of {self.items}"

    @property
    def accepted_as_text(self) -> str:
        return f"{self.items} separated by commas"

    def from_value(self, value: object) -> tuple[str, ...]:
        if not isinstance(value, list | tuple):
            raise Refused
        if not all(isinstance(item, str) and item.strip() for item in value):
            raise Refused
        if self.check is not None:
            try:
                for item in value:
                    self.check(item)
            except ValueError:
                raise Refused from None
        return tuple(value)

    def from_text(self, text: str) -> tuple[str, ...]:
        return self.from_value([item.strip() for item in text.split(",") if item.strip()])


def _url_scheme(text: str) -> None:
    if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", text):
        raise ValueError(text)


def _network(text: str) -> None:
    ipaddress.ip_network(text.strip(), strict=False)  # as gateway.identity.parse_networks reads it


def _header_name(text: str) -> None:
    if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", text):  # RFC 9110 token
        raise ValueError(text)


FILE_OR_EMPTY = Text(description="a file path, or empty")
NETWORKS = TextList("IP addresses or networks", check=_network)
DATABASE_URL = Text(required=True, check=_url_scheme, description="a database URL such as sqlite:///FILE")
HEADER_NAME = Text(required=True, check=_header_name, description="an HTTP header name")
# The resend texts are parsed once more by the worker, together with the lease and the timeouts;
# here each is checked on its own so that a typo names the file or variable it came from.
SCHEDULE = Text(required=True, check=parse_schedule,
                description="delays such as 1m,5m,1h,1d* (units s, m, h, d; * repeats the last)")
DURATION = Text(required=True, check=parse_duration, description="a duration such as 30d (units s, m, h, d)")
