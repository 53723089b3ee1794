"""The ``Sender`` protocol: one HTTP call of a ready contract message, its outcome classified.

A ``Sender`` works like httpx's transports: the delivery code (``outbound.deliver``) builds the
message and finds the endpoint, the sender only posts and classifies what came back into a
``domain.delivery.Attempt``. Two implementations: ``outbound.http_sender.HttpSender`` on the network,
and the scripted sender of the tests, which answers from a script so that the dispatcher and the
delivery code run without a network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from contracts.answers import ContractAnswer, ProducerAnswer
from domain.delivery import Attempt, OutcomeClass


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds to wait for a connection, for each read of the answer, and for the whole call.

    ``total_s`` is the call's deadline: connecting, sending and reading the whole answer end within
    it, however the peer paces its bytes. None means ``connect_s + read_s``.
    """

    connect_s: float
    read_s: float
    total_s: float | None = None

    def __post_init__(self) -> None:
        if self.connect_s <= 0 or self.read_s <= 0 or (self.total_s is not None and self.total_s <= 0):
            raise ValueError(f"timeouts must be positive, got connect {self.connect_s} s, read {self.read_s} s, "
                             f"total {self.total_s} s")

    @property
    def deadline_s(self) -> float:
        """Seconds the whole call may take."""
        return self.total_s if self.total_s is not None else self.connect_s + self.read_s

    def within(self, seconds: float) -> Timeouts:
        """These timeouts, cut so that the whole call ends within ``seconds``."""
        total = min(self.deadline_s, seconds)
        return Timeouts(min(self.connect_s, total), min(self.read_s, total), total)


@dataclass(frozen=True, slots=True)
class TlsConfig:
    """Mutual TLS: our client certificate (and its key, unless in the same PEM) and the CA to trust.

    ``ca_bundle`` None trusts the default CAs (certifi's), never the environment's.
    """

    client_cert: str | None = None
    client_key: str | None = None
    ca_bundle: str | None = None


@dataclass(frozen=True, slots=True)
class OutboundCall:
    """One request ready to be posted: the endpoint, the envelope's bytes and how to read the contract's answer.

    The sender posts the bytes as they are: it knows no contract. ``classify`` is the contract's own
    reading of its answer (an onward hop tells an idempotent repeat apart, ``outbound.onward``);
    None classifies by the ResultType's codes alone.
    """

    url: str
    envelope: bytes
    soap_action: str
    correlation_id: str
    read_answer: Callable[[bytes], ProducerAnswer]
    classify: Callable[[ContractAnswer], OutcomeClass] | None = None


class Sender(Protocol):
    """Posts a call and classifies whatever happens; never raises for what the network or the peer does."""

    def send(self, call: OutboundCall, timeouts: Timeouts) -> Attempt:
        """The attempt as the event's history keeps it."""
        ...

    def close(self) -> None:
        """Release pooled connections; the sender is not used afterwards."""
        ...
