"""The request body: read within the cap, and an oversize one drained after the answer, within bounds."""

from __future__ import annotations

import io
from typing import Any

from gateway.body import BLOCK, AnswerThenDrain, DrainLimits, RequestBody, read_body


class Stream(io.BytesIO):
    """A body stream that counts reads and can fail after some bytes, as a socket whose peer left."""

    def __init__(self, data: bytes, fail_after: int | None = None) -> None:
        super().__init__(data)
        self.reads = 0
        self._fail_after = fail_after

    def read(self, size: int | None = -1) -> bytes:
        self.reads += 1
        if self._fail_after is not None and self.tell() >= self._fail_after:
            raise ConnectionResetError("peer reset")
        return super().read(size)


def _environ(stream: io.BytesIO, length: int | None) -> dict[str, Any]:
    return {"wsgi.input": stream, **({} if length is None else {"CONTENT_LENGTH": str(length)})}


def test_a_body_within_the_cap_is_read_whole_declared_or_chunked() -> None:
    """Exactly the declared bytes (nothing of the next request), or everything up to the end of a chunked body."""
    assert read_body(_environ(io.BytesIO(b"<a/>NEXT"), 4), 10) == RequestBody(b"<a/>", 4, 4)
    assert read_body(_environ(io.BytesIO(b"<a/>"), None), 10) == RequestBody(b"<a/>", 4, None)


def test_a_declared_oversize_body_is_refused_unread() -> None:
    """Content-Length over the cap: not a byte is read before answering."""
    stream = Stream(b"x" * 100)
    assert read_body(_environ(stream, 100), 10) == RequestBody(None, 0, 100)
    assert stream.reads == 0


def test_a_chunked_body_is_read_one_byte_past_the_cap_and_no_further() -> None:
    """Without a Content-Length the cap is found by reading: cap + 1 bytes, then the refusal."""
    stream = io.BytesIO(b"x" * 100)
    assert read_body(_environ(stream, None), 10) == RequestBody(None, 11, None)
    assert stream.tell() == 11


class Clock:
    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_the_rest_of_a_declared_body_is_drained_after_the_answer_and_no_further() -> None:
    """Answer first (iteration reads nothing); close() reads exactly what was declared and left."""
    stream = Stream(b"x" * (3 * BLOCK) + b"NEXT REQUEST")
    response = AnswerThenDrain([b"answer"], stream, RequestBody(None, 0, 3 * BLOCK), DrainLimits(10 * BLOCK, 60))
    assert list(response) == [b"answer"] and stream.reads == 0
    response.close()
    assert stream.tell() == 3 * BLOCK


def test_the_drain_stops_at_its_byte_bound() -> None:
    """A body larger than the bound: at most the bound is read, then the connection is the server's to close."""
    stream = Stream(b"x" * (10 * BLOCK))
    AnswerThenDrain([], stream, RequestBody(None, 0, 10 * BLOCK), DrainLimits(2 * BLOCK + 5, 60)).close()
    assert stream.tell() == 2 * BLOCK + 5


def test_the_drain_stops_at_its_time_bound() -> None:
    """A client sending slowly is read only until the seconds are up (checked between reads): a read a second
    fits twice in 2.5 seconds."""
    stream = Stream(b"x" * (10 * BLOCK))
    AnswerThenDrain([], stream, RequestBody(None, 11, None), DrainLimits(100 * BLOCK, 2.5), Clock(1.0)).close()
    assert stream.reads == 2


def test_a_zero_bound_drains_nothing_and_a_reset_is_not_an_error() -> None:
    """0 bytes: close at once; a client that resets mid-drain ends the drain quietly."""
    stream = Stream(b"x" * BLOCK)
    AnswerThenDrain([], stream, RequestBody(None, 0, BLOCK), DrainLimits(0, 60)).close()
    assert stream.reads == 0
    failing = Stream(b"x" * (4 * BLOCK), fail_after=BLOCK)
    AnswerThenDrain([], failing, RequestBody(None, 0, 4 * BLOCK), DrainLimits(100 * BLOCK, 60)).close()
    assert failing.tell() == BLOCK
