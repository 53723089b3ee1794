"""The request body: read within the size cap, and an oversize one answered first, then drained within bounds.

A body over ``max_request_bytes`` gets the contract's TOO_LARGE answer without being parsed. Refusing
it is not enough on its own: most SOAP clients (Java's and .NET's, CXF, Python's ``http.client``)
write the whole body before they read a byte of the answer, so a server that closes the connection
while they are still sending gives them a broken pipe or a reset, never the answer. So the answer is
written first, and the rest of the body is then read and thrown away (*drained*) in the response
iterable's ``close()``, which a WSGI server calls once the answer is out; the client finishes
sending and finds the answer waiting. The drain is bounded (``DrainLimits``): at most so many bytes,
for at most so many seconds, checked between reads of one block. Past a bound the rest is left
unread and the server ends the connection (gunicorn closes it gracefully: half-close, a short
linger, then close), so a client that sends gigabytes costs a bounded amount of work.

This lives in the WSGI application, not in the server, so it holds under any server that calls
``close()`` (gunicorn's sync and gthread workers, wsgiref). It assumes the server bounds each single
read from the socket (gunicorn's per-connection data timeout, a slow-client deadline): a client that
stops sending altogether holds a drain no longer than one such read. A chunked body (no
Content-Length) is read up to the cap and refused when it goes past it, the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

import structlog

BLOCK = 64 * 1024

log = structlog.get_logger("gateway.body")


@dataclass(frozen=True, slots=True)
class DrainLimits:
    """How much of an oversize body is read and thrown away after the answer: bytes and seconds."""

    max_bytes: int = 64 * 1024 * 1024
    max_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class RequestBody:
    """A request body read within the cap: ``data`` holds it, or is None when it is over the cap.

    ``read`` is how many bytes were taken from the stream; ``declared`` the Content-Length, or None
    for a chunked body.
    """

    data: bytes | None
    read: int
    declared: int | None


def content_length(environ: Mapping[str, Any]) -> int | None:
    """The declared Content-Length, or None when there is none (chunked) or it is not a number."""
    try:
        value = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    return value if value >= 0 else None


def read_body(environ: Mapping[str, Any], cap: int) -> RequestBody:
    """The body of the request, or a note that it is over ``cap`` bytes (nothing more is read then).

    A declared length over the cap is refused before a byte is read; a chunked body is read up to one
    byte past the cap to know. A body shorter than declared (the client gave up) is returned as read:
    the parser then says what is wrong with it.
    """
    stream: BinaryIO = environ["wsgi.input"]
    declared = content_length(environ)
    if declared is not None and declared > cap:
        return RequestBody(None, 0, declared)
    wanted = declared if declared is not None else cap + 1
    chunks, got = [], 0
    while got < wanted:
        chunk = stream.read(min(BLOCK, wanted - got))
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    if declared is None and got > cap:
        return RequestBody(None, got, None)
    return RequestBody(b"".join(chunks), got, declared)


class AnswerThenDrain:
    """A WSGI response body: the answer, and on ``close()`` the rest of the request body drained."""

    def __init__(self, answer: Iterable[bytes], stream: BinaryIO, body: RequestBody, limits: DrainLimits,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._answer = answer
        self._stream = stream
        self._left = None if body.declared is None else body.declared - body.read
        self._limits = limits
        self._clock = clock

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._answer)

    def close(self) -> None:
        """Read and discard what the client is still sending, within the limits; never raises."""
        started = self._clock()
        drained, complete = 0, False
        try:
            while True:
                if self._left == 0:
                    complete = True
                    break
                if drained >= self._limits.max_bytes or self._clock() - started >= self._limits.max_seconds:
                    break
                size = BLOCK if self._left is None else min(BLOCK, self._left)
                chunk = self._stream.read(min(size, self._limits.max_bytes - drained))
                if not chunk:
                    complete = True
                    break
                drained += len(chunk)
                if self._left is not None:
                    self._left -= len(chunk)
        except OSError as error:  # the client went away, or the server's read deadline passed
            log.info("request_body_drain_stopped", reason=type(error).__name__)
        log.info("request_body_drained", drained_bytes=drained, complete=complete,
                 seconds=round(self._clock() - started, 3))
