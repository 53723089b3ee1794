"""The HTTP/1.1 answer reader against answers in the shapes servers really send, and broken ones.

Each test plays the server on the far end of a socket pair: it writes the answer's bytes (at once,
in pieces, or a byte at a time from a thread) and the ``Wire`` reads them as it would from a journal
system, a recipient or a proxy in front of either.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from outbound.http11 import MAX_HEAD_BYTES, AnswerTooLarge, BrokenAnswer, DeadlinePassed, HttpAnswer, Wire, request_head

REQUEST = b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"
ENVELOPE = b"<soap:Envelope>ok</soap:Envelope>"


@pytest.fixture()
def pair() -> Iterator[tuple[Wire, socket.socket]]:
    ours, theirs = socket.socketpair()
    wire = Wire(ours)
    wire.deadline = time.monotonic() + 5
    wire.read_s = 5
    try:
        yield wire, theirs
    finally:
        ours.close()
        theirs.close()


def _answer(
    pair: tuple[Wire, socket.socket], answer: bytes, *, close: bool = False, max_bytes: int = 4096
) -> HttpAnswer:
    wire, server = pair
    server.sendall(answer)
    if close:
        server.shutdown(socket.SHUT_WR)
    result = wire.exchange(REQUEST, max_bytes)
    assert server.recv(1024) == REQUEST  # the request went out whole, in one piece
    return result


def test_a_plain_answer_with_content_length_keeps_the_connection(pair: tuple[Wire, socket.socket]) -> None:
    answer = _answer(pair, b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n%s"
                     % (len(ENVELOPE), ENVELOPE))
    assert (answer.status, answer.body, answer.reusable) == (200, ENVELOPE, True)


@pytest.mark.parametrize("head", [
    b"HTTP/1.1 500 Internal Server Error\r\nCONTENT-LENGTH: %d\r\n\r\n",  # names in any case
    b"HTTP/1.1 500\r\ncontent-length: %d\r\n\r\n",  # no reason phrase
    b"HTTP/1.1 500 Server Error\ncontent-length:%d\n\n",  # bare LF line ends, no space after the colon
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
    b"HTTP/1.1 500 Oops\r\nContent-Length: %d\r\n\r\n",  # interim answers before the real one
    b"HTTP/1.1 500 Oops\r\nX-Note: first part\r\n  folded second part\r\nContent-Length: %d\r\n\r\n",
    b"HTTP/1.1 500 Oops\r\nContent-Length: %d\r\nVia: 1.1 proxy\r\nVia: 1.1 other\r\nContent-Length: 33\r\n\r\n",
], ids=["upper-case", "no-reason", "bare-lf", "interim", "folded", "proxy-repeats"])
def test_answers_as_servers_and_proxies_write_them(pair: tuple[Wire, socket.socket], head: bytes) -> None:
    answer = _answer(pair, head % len(ENVELOPE) + ENVELOPE)
    assert (answer.status, answer.body, answer.reusable) == (500, ENVELOPE, True)


def test_a_chunked_answer_with_extensions_and_trailers(pair: tuple[Wire, socket.socket]) -> None:
    """Chunked wins over a Content-Length a proxy left beside it; extensions and trailers are read past."""
    answer = _answer(pair, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\nContent-Length: 3\r\n\r\n"
                     b"a;name=value\r\n<soap:Enve\r\n17\r\nlope>ok</soap:Envelope>\r\n0\r\nX-Checksum: 1\r\n\r\n")
    assert (answer.status, answer.body, answer.reusable) == (200, ENVELOPE, True)


def test_an_answer_a_byte_at_a_time_is_read_whole(pair: tuple[Wire, socket.socket]) -> None:
    wire, server = pair
    raw = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"%x\r\n%s\r\n0\r\n\r\n" % (len(ENVELOPE), ENVELOPE))

    def trickle() -> None:
        for index in range(len(raw)):
            server.sendall(raw[index:index + 1])
            time.sleep(0.0005)

    writer = threading.Thread(target=trickle)
    writer.start()
    try:
        answer = wire.exchange(REQUEST, 4096)
    finally:
        writer.join(10)
    assert (answer.status, answer.body, answer.reusable) == (200, ENVELOPE, True)


@pytest.mark.parametrize(("raw", "close"), [
    (b"HTTP/1.0 200 OK\r\n\r\n%s" % ENVELOPE, True),  # no length: the body ends at the close
    (b"HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: %d\r\n\r\n%s" % (len(ENVELOPE), ENVELOPE), False),
    (b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(ENVELOPE), ENVELOPE), False),
    (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%sHTTP/1.1 200 OK\r\n" % (len(ENVELOPE), ENVELOPE), False),
], ids=["http-1.0-to-close", "connection-close", "http-1.0-length", "more-than-announced"])
def test_a_connection_is_not_reused_unless_the_answer_allows_it(
    pair: tuple[Wire, socket.socket], raw: bytes, close: bool
) -> None:
    answer = _answer(pair, raw, close=close)
    assert (answer.status, answer.body, answer.reusable) == (200, ENVELOPE, False)


def test_an_answer_without_a_body(pair: tuple[Wire, socket.socket]) -> None:
    answer = _answer(pair, b"HTTP/1.1 204 No Content\r\n\r\n")
    assert (answer.status, answer.body, answer.reusable) == (204, b"", True)


@pytest.mark.parametrize(("raw", "problem"), [
    (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "status line"),
    (b"HTTP/2 200\r\n\r\n", "status line"),
    (b"HTTP/1.1 2000 OK\r\n\r\n", "status line"),
    (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "without a name"),
    (b"HTTP/1.1 200 OK\r\n : value\r\n\r\n", "without a name"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef", "two different"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "not a number"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "other than chunked"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", "other than chunked"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "not hex"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", "longer than its size"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part", "closed before"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", "closed before"),
    (b"", "closed before"),
], ids=["not-http", "http-2", "long-status", "no-colon", "empty-name", "lengths-differ", "negative-length",
        "chunked-not-last", "gzip-coded", "chunk-size-not-hex", "chunk-too-long", "short-body", "short-chunk",
        "nothing"])
def test_a_broken_answer_is_refused_with_what_was_wrong(
    pair: tuple[Wire, socket.socket], raw: bytes, problem: str
) -> None:
    with pytest.raises(BrokenAnswer) as refused:
        _answer(pair, raw, close=True)
    assert problem in refused.value.problem


def test_an_endless_head_is_refused(pair: tuple[Wire, socket.socket]) -> None:
    wire, server = pair
    line = b"X-Filler: " + b"y" * 1000 + b"\r\n"

    def flood() -> None:
        try:
            server.sendall(b"HTTP/1.1 200 OK\r\n" + line * (MAX_HEAD_BYTES // len(line) + 8))
        except OSError:
            pass  # the reader stopped and its end was closed

    writer = threading.Thread(target=flood)
    writer.start()
    try:
        with pytest.raises(BrokenAnswer, match="longer than"):
            wire.exchange(REQUEST, 4096)
    finally:
        wire.close()
        writer.join(10)


@pytest.mark.parametrize("raw", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n",  # refused on the header, nothing more is read
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1001\r\n" + b"x" * 4097 + b"\r\n0\r\n\r\n",
    b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * 5000,
], ids=["declared", "chunked", "to-close"])
def test_an_answer_beyond_the_cap_is_too_large(pair: tuple[Wire, socket.socket], raw: bytes) -> None:
    with pytest.raises(AnswerTooLarge) as large:
        _answer(pair, raw, close=True, max_bytes=4096)
    assert large.value.status == 200


def test_the_deadline_ends_a_call_whose_answer_never_completes(pair: tuple[Wire, socket.socket]) -> None:
    wire, server = pair
    server.sendall(b"HTTP/1.1 200 OK\r\nContent-Len")
    wire.deadline = time.monotonic() + 0.3
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        wire.exchange(REQUEST, 4096)
    assert time.monotonic() - started < 2
    wire.deadline = time.monotonic() - 1
    with pytest.raises(DeadlinePassed):
        wire.exchange(REQUEST, 4096)


def test_an_idle_connection_the_server_closed_is_not_used(pair: tuple[Wire, socket.socket]) -> None:
    wire, server = pair
    assert wire.idle_and_open()
    server.close()
    assert not wire.idle_and_open()


def test_the_request_head_is_written_once_and_refuses_injected_lines() -> None:
    head = request_head("POST", "/a?b=c", {"Host": "h:8080", "SOAPAction": '"urn:x"'}, 42)
    assert head == b'POST /a?b=c HTTP/1.1\r\nHost: h:8080\r\nSOAPAction: "urn:x"\r\nContent-Length: 42\r\n\r\n'
    for target, headers in [("/a b", {}), ("/a\r\nX: y", {}), ("/a", {"Host": "h\r\nX-Injected: 1"}),
                            ("/a", {"Bad\nName": "v"}), ("/a", {"Colon:Name": "v"})]:
        with pytest.raises(ValueError):
            request_head("POST", target, headers, 0)
