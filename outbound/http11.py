"""One HTTP/1.1 request and its whole answer over a socket, every wait bounded by the call's deadline.

Why not ``http.client`` (what ``HttpSender`` used until issue 14's last steps): a delivery call is a
POST of a SOAP envelope and one answer of a few hundred bytes, thousands of times a second when a
backlog drains. Measured single-threaded against the journal simulator on loopback, ``http.client``
spent about 140 µs of CPU per call (the request built in pieces, a buffered file per answer, the
headers through the ``email`` package's parser) where writing the request in one piece and reading
the answer from one buffer spends about 45; h11, the sans-IO parser the gateway's server then used,
spent about 150. On two cores shared with the database and the journal, CPU per call is the drain
rate.

What is read is what servers really send (RFC 9112): a status line with or without a reason, any
number of interim ``1xx`` answers before the real one, header names in any case, lines ended by
CRLF or a bare LF, obsolete folded header lines, a body framed by ``Transfer-Encoding: chunked``
(chunk extensions and trailers included, and winning over a ``Content-Length``), by
``Content-Length``, or by the server closing the connection. Anything else is ``BrokenAnswer``:
a status line that is not HTTP, conflicting lengths, a bad chunk, a transfer coding other than
chunked alone (a gzip-coded body would be handed on undecoded), a head beyond 64 KiB, a connection
closed before the answer was complete. An answer is read up to ``max_bytes`` and no
further (``AnswerTooLarge``). A connection is reused only when the answer said it may be and ended
exactly where its framing said: a server that sent more than it announced is not trusted with the
next call.
"""

from __future__ import annotations

import re
import select
import socket
import time
from dataclasses import dataclass

#: The longest status line and headers read before the answer is called broken.
MAX_HEAD_BYTES = 64 * 1024
_READ_SIZE = 64 * 1024
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_LINE_END = re.compile(rb"\r?\n")
_HEAD_LINE_END = re.compile(r"\r?\n")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r?\n")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NO_BODY = frozenset({204, 304})


class DeadlinePassed(TimeoutError):
    """The call's deadline passed before the answer was complete."""


class BrokenAnswer(Exception):
    """What came back is not a complete HTTP/1.1 answer; ``problem`` says what was wrong."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class AnswerTooLarge(Exception):
    """The answer's body is longer than the caller reads; ``status`` is the answer's HTTP status."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """An answer read whole: its status, its body, and whether the connection may carry another call."""

    status: int
    body: bytes
    reusable: bool


def request_head(method: str, target: str, headers: dict[str, str], length: int) -> bytes:
    """The request line and headers, ending in the blank line, for a body of ``length`` bytes.

    Raises:
        ValueError: the target or a header holds a control character or (the target) a space,
            which would let a route's URL or a header value write headers of its own.
    """
    if _unsafe(target) or " " in target:
        raise ValueError("the request target holds a space or a control character")
    lines = [f"{method} {target} HTTP/1.1"]
    for name, value in headers.items():
        if _unsafe(name) or _unsafe(value) or ":" in name:
            raise ValueError(f"the header {name!r} holds a control character")
        lines.append(f"{name}: {value}")
    lines.append(f"Content-Length: {length}\r\n\r\n")
    return "\r\n".join(lines).encode("latin-1")


def _unsafe(text: str) -> bool:
    return _CONTROL.search(text) is not None


class Wire:
    """A connected socket and the bytes read from it but not yet used.

    Every blocking operation waits at most until ``deadline`` (``time.monotonic``) and at most
    ``read_s`` for one read: a server that trickles its answer a byte at a time still ends at the
    deadline.
    """

    __slots__ = ("sock", "deadline", "read_s", "_buffer")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.deadline = float("inf")
        self.read_s = 60.0
        self._buffer = bytearray()

    def exchange(self, request: bytes, max_bytes: int) -> HttpAnswer:
        """Send ``request`` (head and body in one piece) and read its whole answer.

        Raises:
            DeadlinePassed, TimeoutError: the deadline or one read's timeout passed.
            BrokenAnswer: the answer is not HTTP/1.1 as RFC 9112 frames it (module docstring).
            AnswerTooLarge: the body is longer than ``max_bytes``.
            OSError: the network failed (reset, refused, TLS).
        """
        self._arm()
        self.sock.sendall(request)
        return self._answer(max_bytes)

    def idle_and_open(self) -> bool:
        """False when the server closed the idle connection or sent something unasked: it is not used."""
        if self._buffer:
            return False
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    def close(self) -> None:
        self.sock.close()

    def _answer(self, max_bytes: int) -> HttpAnswer:
        while True:
            status, headers, version = self._head()
            if status >= 200 or status == 101:
                break  # 100 Continue, 102, 103: interim answers before the real one
        connection = headers.get("connection", "").lower()  # tokens and codings are case-insensitive
        close = "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection)
        if status in _NO_BODY:
            return HttpAnswer(status, b"", not close and not self._buffer)
        encodings = headers.get("transfer-encoding")
        if encodings is not None:
            if encodings.strip().lower() != "chunked":  # gzip and the like would be handed on undecoded
                raise BrokenAnswer(f"a transfer coding other than chunked alone: {encodings[:40]!r}")
            body = self._chunked(status, max_bytes)
        elif "content-length" in headers:
            length = _length(headers["content-length"])
            if length > max_bytes:
                raise AnswerTooLarge(status)
            body = self._take(length)
        else:
            return HttpAnswer(status, self._until_closed(status, max_bytes), False)
        return HttpAnswer(status, body, not close and not self._buffer)

    def _head(self) -> tuple[int, dict[str, str], str]:
        """The next status line and headers: (status, headers by lower-case name, version)."""
        end = self._fill_until(_HEAD_END, MAX_HEAD_BYTES, "the status line and headers")
        head = bytes(self._buffer[:end.start()]).decode("latin-1")
        del self._buffer[:end.end()]
        lines = _HEAD_LINE_END.split(head)
        version, _, rest = lines[0].partition(" ")
        code = rest[:3]
        well_formed = code.isdigit() and len(code) == 3 and rest[3:4] in ("", " ")
        if version not in ("HTTP/1.1", "HTTP/1.0") or not well_formed:
            raise BrokenAnswer(f"not an HTTP/1.1 status line: {lines[0][:80]!r}")
        headers: dict[str, str] = {}
        name = ""
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and name:  # an obsolete folded line continues the header above
                headers[name] = f"{headers[name]} {line.strip()}"
                continue
            name, colon, value = line.partition(":")
            name = name.lower()
            if not colon or not name or name != name.strip():
                raise BrokenAnswer(f"a header line without a name: {line[:80]!r}")
            value = value.strip()
            if name == "content-length":  # repeated (proxies do) only with the same value
                if headers.setdefault(name, value) != value:
                    raise BrokenAnswer("two different Content-Length headers")
            else:  # a repeated header is one list of values
                headers[name] = f"{headers[name]}, {value}" if name in headers else value
        return int(code), headers, version

    def _chunked(self, status: int, max_bytes: int) -> bytes:
        body = bytearray()
        while True:
            size_line = self._fill_until(_LINE_END, 1024, "a chunk's size line")
            found = _CHUNK_SIZE.match(self._buffer, 0, size_line.end())
            if found is None:
                raise BrokenAnswer(f"a chunk size that is not hex: {bytes(self._buffer[:40])!r}")
            size = int(found.group(1), 16)
            del self._buffer[:size_line.end()]
            if size == 0:
                break
            if len(body) + size > max_bytes:
                raise AnswerTooLarge(status)
            body += self._take(size)
            end = self._fill_until(_LINE_END, 2, "the line end after a chunk")
            if end.start() != 0:
                raise BrokenAnswer("a chunk longer than its size")
            del self._buffer[:end.end()]
        while True:  # trailer fields, up to the blank line
            line = self._fill_until(_LINE_END, MAX_HEAD_BYTES, "the chunked answer's trailer")
            empty = line.start() == 0
            del self._buffer[:line.end()]
            if empty:
                return bytes(body)

    def _until_closed(self, status: int, max_bytes: int) -> bytes:
        while len(self._buffer) <= max_bytes:
            if not self._read(None):
                break
        if len(self._buffer) > max_bytes:
            raise AnswerTooLarge(status)
        body = bytes(self._buffer)
        self._buffer.clear()
        return body

    def _take(self, length: int) -> bytes:
        while len(self._buffer) < length:
            self._read("the answer's body")
        taken = bytes(self._buffer[:length])
        del self._buffer[:length]
        return taken

    def _fill_until(self, pattern: re.Pattern[bytes], limit: int, what: str) -> re.Match[bytes]:
        start = 0
        while True:
            found = pattern.search(self._buffer, start)
            if found is not None:
                return found
            if len(self._buffer) > limit:
                raise BrokenAnswer(f"{what} longer than {limit} bytes")
            start = max(0, len(self._buffer) - 3)  # a line end may straddle two reads
            self._read(what)

    def _read(self, what: str | None) -> bool:
        """Read what has arrived into the buffer; False at the server's close when ``what`` is None.

        Raises:
            BrokenAnswer: the server closed the connection while ``what`` was still expected.
        """
        self._arm()
        data = self.sock.recv(_READ_SIZE)
        if data:
            self._buffer += data
            return True
        if what is None:
            return False
        raise BrokenAnswer(f"the connection closed before {what} was complete")

    def _arm(self) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise DeadlinePassed("the call's deadline passed")
        self.sock.settimeout(min(left, self.read_s))


def _length(value: str) -> int:
    if not value.isdigit() or not value.isascii():
        raise BrokenAnswer(f"a Content-Length that is not a number: {value[:40]!r}")
    return int(value)
