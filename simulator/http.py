"""What the simulators' server and their applications exchange: a request read, a reply to carry out.

An application (``MockJournal``, ``MockRecipient``) turns one ``Request`` into a ``Reply`` without
waiting: the delay, the trickle and the dropped connection are the server's to carry out
(``simulator.server``), so that one event loop serves any number of slow answers. A reply that needs
blocking work first (the recipient simulator calling the gateway, as Försäkringskassan does) is a
``Deferred``: the server runs its ``call`` in a worker thread and sends what it returns.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request as the server read it; header names in lower case."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    scheme: str = "http"


@dataclass(frozen=True, slots=True)
class Reply:
    """What to answer, and how: after ``delay_s``, a byte every ``trickle_s``, or no answer (``drop``)."""

    status: int
    body: bytes
    content_type: str = "text/xml; charset=UTF-8"
    delay_s: float = 0.0
    trickle_s: float | None = None
    drop: bool = False

    @property
    def at_once(self) -> bool:
        """Whether the server writes this answer as soon as it is decided: no wait, no trickle, no drop."""
        return not self.delay_s and self.trickle_s is None and not self.drop


@dataclass(frozen=True, slots=True)
class Deferred:
    """A reply that needs blocking work first: ``call`` runs in a worker thread, never on the event loop."""

    call: Callable[[], Reply]


class RawBodies:
    """The request bodies of a simulator's latest ``keep`` records, by sequence number, as they came.

    A drain's simulator records thousands of requests a second: the bytes are kept as they are and
    decoded only when the control API or a test asks for them; older ones are forgotten.
    """

    def __init__(self, keep: int) -> None:
        self._keep = keep
        self._bodies: dict[int, bytes] = {}

    def add(self, seq: int, body: bytes) -> None:
        if self._keep:
            self._bodies[seq] = body
            self._bodies.pop(seq - self._keep, None)

    def text(self, seq: int) -> str | None:
        """The body of record ``seq`` as text, or None once it is older than the latest ``keep``."""
        body = self._bodies.get(seq)
        return None if body is None else body.decode("utf-8", "replace")

    def clear(self) -> None:
        self._bodies.clear()


class Application(Protocol):
    """A simulator the server can serve."""

    def handle(self, request: Request) -> Reply | Deferred:
        """The reply to one request; waits for nothing."""
        ...


def json_reply(value: object, status: int = 200) -> Reply:
    """A JSON reply (the control API's)."""
    return Reply(status, json.dumps(value, ensure_ascii=False).encode(), "application/json")
