"""``ObservedSender``: one log line per outbound call, and the call handed to an observer (the metrics).

It wraps any ``Sender`` (the network's ``HttpSender`` in a worker) at the narrowest seam there is:
the one call that posts a message and returns its attempt, so nothing of claiming, preparing or
recording changes. The line (``outbound_call``) is the outbound twin of the gateway's
``soap_request`` line: the platform logs ``resp-in`` for it (``log_format = "ecs"``), with the
call's own correlation id as ``trace.id``, the URL, the HTTP status, the contract's result code
and error id, the outcome class and the duration. The envelope and the answer's text are not
logged: they may hold patient data.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from domain.delivery import Attempt, OutcomeClass
from outbound.sender import OutboundCall, Sender, Timeouts

log = structlog.get_logger("outbound.call")
#: The outcomes that deliver the message (the journal system answered OK or INFO).
DELIVERED = frozenset({OutcomeClass.OK, OutcomeClass.INFO})


def _ignore(_attempt: Attempt) -> None:
    return None


class ObservedSender:
    """A ``Sender`` that logs each call and tells ``on_call`` its attempt (module docstring)."""

    def __init__(self, sender: Sender, on_call: Callable[[Attempt], None] = _ignore) -> None:
        self._sender = sender
        self._on_call = on_call

    def send(self, call: OutboundCall, timeouts: Timeouts) -> Attempt:
        attempt = self._sender.send(call, timeouts)
        (log.info if attempt.outcome in DELIVERED else log.warning)(
            "outbound_call",
            contract=call.soap_action.rpartition(":")[2],  # the operation: status update or an onward hop
            correlation_id=call.correlation_id,
            url=call.url,
            http_status=attempt.http_status,
            result_code=attempt.result_code,
            error_id=attempt.error_id,
            outcome=attempt.outcome.value,
            duration_ms=round(attempt.duration_ms, 2),
        )
        self._on_call(attempt)
        return attempt

    def close(self) -> None:
        self._sender.close()
