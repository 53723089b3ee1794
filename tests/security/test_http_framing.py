"""The serving worker's reading and writing of HTTP/1.1, attacked on the wire: smuggling, injection, framing.

``cli.http_worker`` parses requests and writes answers itself, so the shapes an attacker (or an odd
client or proxy) sends are tested here byte for byte against the production ``LoopServer`` on
loopback: two framings of one body (the request-smuggling pair), headers folded or padded, a head
that never ends, a header name with ``_`` posing as one with ``-``, pipelined requests, a client
that waits for ``100 Continue``, HTTP/1.0, and an application header that would split the answer.
The slow clients' deadlines are in ``test_slow_clients.py``; oversized bodies in
``tests/integration/test_oversize.py``.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from cli.http_worker import MAX_HEAD_BYTES, ConnectionLimits
from gateway.identity import RAW_HEADERS_KEY
from tests.integration.tls_server import serving_loop

pytestmark = pytest.mark.integration

Seen = list[dict[str, Any]]


def _echo(seen: Seen) -> Callable[..., Iterable[bytes]]:
    """An application that answers with what it was given (and remembers it), or a header of its choosing."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = environ["wsgi.input"].read()
        facts = {
            "method": environ["REQUEST_METHOD"], "path": environ["PATH_INFO"], "query": environ["QUERY_STRING"],
            "body": body.decode("latin-1"), "length": environ.get("CONTENT_LENGTH"),
            "headers": {k: v for k, v in environ.items() if k.startswith("HTTP_")},
            "raw": environ[RAW_HEADERS_KEY], "protocol": environ["SERVER_PROTOCOL"],
        }  # fmt: skip
        seen.append(facts)
        answer = json.dumps(facts).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))]
        if environ.get("HTTP_X_ANSWER_HEADER"):
            headers.append(("X-Echo", environ["HTTP_X_ANSWER_HEADER"].replace("|", "\r\n")))
        start_response(environ.get("HTTP_X_STATUS", "200 OK"), headers)
        return [answer]

    return app


@pytest.fixture
def served() -> Iterator[tuple[int, Seen]]:
    seen: Seen = []
    limits = ConnectionLimits(header_seconds=3, body_seconds=3, keepalive_seconds=3)
    with serving_loop(_echo(seen), limits=limits) as url:
        yield int(url.rsplit(":", 1)[1]), seen


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def _answer(sock: socket.socket, buffer: bytearray, head_only: bool = False) -> tuple[int, dict[str, str], bytes]:
    """One answer off ``sock`` (``buffer`` keeps what arrived beyond it): status, headers (lower-case), body."""
    while b"\r\n\r\n" not in buffer:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed before an answer")
        buffer += data
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = 0 if head_only else int(headers.get("content-length", "0"))
    while len(rest) < length:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed inside an answer")
        rest += data
    buffer[:] = rest[length:]
    return int(lines[0].split()[1]), headers, rest[:length]


def _closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def _send(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes, bool]:
    """Send ``raw`` on a new connection: the answer, and whether the server closed the connection after it."""
    with _connect(port) as sock:
        sock.sendall(raw)
        status, headers, body = _answer(sock, bytearray())
        return status, headers, body, _closed(sock)


@pytest.mark.parametrize(
    "raw",
    [
        # Two framings of one body: a front proxy and the gateway could disagree on where it ends.
        b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n",
        b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nabcd",
        b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
        b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: -4\r\n\r\nabcd",
        # A folded header line, a space before the colon, a NUL in a value, a control character in the target.
        b"GET /x HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost : a\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: a\r\nX-Nul: a\x00b\r\n\r\n",
        b"GET /x\x01y HTTP/1.1\r\nHost: a\r\n\r\n",
        b"NOT A REQUEST\r\n\r\n",
        # Lines ended by a bare LF: proxies disagree on them, so they are not taken for line ends.
        b"GET /x HTTP/1.1\nHost: a\n\n",
        # HTTP/1.1 names exactly one Host (RFC 9112, 3.2): none, or two that a proxy and we could pick apart.
        b"GET /x HTTP/1.1\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    ],
    ids=["content-length-and-chunked", "two-lengths", "chunked-not-last", "negative-length", "folded", "space-colon",
         "nul", "control-in-target", "garbage", "bare-lf", "no-host", "two-hosts"],
)
def test_an_ambiguous_or_malformed_request_is_refused_before_the_application(
    served: tuple[int, Seen], raw: bytes
) -> None:
    """400 and the connection closed; the application never sees the request (nor a smuggled second one)."""
    port, seen = served
    status, _headers, _body, closed = _send(port, raw)
    assert (status, closed, seen) == (400, True, [])


def test_a_head_over_the_limit_is_refused_and_nothing_reaches_the_application(served: tuple[int, Seen]) -> None:
    port, seen = served
    with _connect(port) as sock:
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: a\r\n")
        padding = b"X-Pad: " + b"a" * 1000 + b"\r\n"
        with contextlib.suppress(OSError):  # the server may answer and close while the client still sends
            for _ in range(2 * MAX_HEAD_BYTES // len(padding)):
                sock.sendall(padding)
        status, _headers, _body = _answer(sock, bytearray())
    assert status == 400 and seen == []


def test_a_header_name_with_underscores_cannot_pass_for_one_with_dashes(served: tuple[int, Seen]) -> None:
    """``X_Acting_User`` would become the same WSGI key as ``X-Acting-User``: it is dropped from the
    environ, and stays visible among the raw headers (so that the gateway can count what arrived)."""
    port, seen = served
    status, _headers, _body, _closed_after = _send(
        port, b"GET /x HTTP/1.1\r\nHost: a\r\nX_Acting_User: forged\r\nX-Acting-User: real\r\nConnection: close\r\n\r\n"
    )
    assert status == 200
    assert seen[0]["headers"]["HTTP_X_ACTING_USER"] == "real"
    assert ("x_acting_user", "forged") in seen[0]["raw"] and ("x-acting-user", "real") in seen[0]["raw"]


def test_pipelined_requests_are_answered_in_order_each_with_its_own_body(served: tuple[int, Seen]) -> None:
    """Three requests in one write, one with a chunked body: three answers in order, on one connection."""
    port, seen = served
    with _connect(port) as sock:
        sock.sendall(
            b"POST /one?a=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nfirst"
            b"POST /two HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nsec\r\n3\r\nond\r\n0\r\n\r\n"
            b"GET /three HTTP/1.1\r\nHost: a\r\n\r\n"
        )
        buffer = bytearray()
        answers = [_answer(sock, buffer) for _ in range(3)]
    assert [status for status, _, _ in answers] == [200, 200, 200]
    assert [(s["path"], s["query"], s["body"], s["length"]) for s in seen] == [
        ("/one", "a=1", "first", "5"), ("/two", "", "second", "6"), ("/three", "", "", "0")
    ]
    assert [json.loads(body)["path"] for _, _, body in answers] == ["/one", "/two", "/three"]


def test_a_client_waiting_for_100_continue_gets_it_and_then_its_answer(served: tuple[int, Seen]) -> None:
    port, seen = served
    with _connect(port) as sock:
        sock.sendall(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        buffer = bytearray()
        interim, _headers, _body = _answer(sock, buffer)
        sock.sendall(b"body")
        status, _headers, body = _answer(sock, buffer)
    assert (interim, status, json.loads(body)["body"]) == (100, 200, "body")


def test_a_head_request_gets_the_headers_without_the_body(served: tuple[int, Seen]) -> None:
    port, _seen = served
    with _connect(port) as sock:
        sock.sendall(b"HEAD /x HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n")
        buffer = bytearray()
        status, headers, _ = _answer(sock, buffer, head_only=True)
        after_status, _headers, after = _answer(sock, buffer)
    assert status == 200 and int(headers["content-length"]) > 0
    assert after_status == 200 and json.loads(after)["path"] == "/after"  # no stray body bytes in between


@pytest.mark.parametrize(
    "raw",
    [b"GET /x HTTP/1.0\r\n\r\n", b"GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
     b"GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"],
    ids=["http-1.0", "http-1.0-keep-alive", "close"],
)
def test_a_connection_the_client_does_not_keep_is_closed_after_its_answer(
    served: tuple[int, Seen], raw: bytes
) -> None:
    port, _seen = served
    status, headers, _body, closed = _send(port, raw)
    assert (status, headers.get("connection"), closed) == (200, "close", True)


def test_a_kept_alive_connection_serves_one_request_after_another(served: tuple[int, Seen]) -> None:
    port, seen = served
    with _connect(port) as sock:
        buffer = bytearray()
        for n in range(3):
            sock.sendall(f"POST /n{n} HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n{n}".encode())
            status, headers, _body = _answer(sock, buffer)
            assert status == 200 and "connection" not in headers
    assert [(s["path"], s["body"]) for s in seen] == [("/n0", "0"), ("/n1", "1"), ("/n2", "2")]


def test_percent_encoded_path_reaches_the_application_decoded(served: tuple[int, Seen]) -> None:
    port, seen = served
    _send(port, b"GET /a%20b/%C3%A5?q=%20 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    assert (seen[0]["path"], seen[0]["query"]) == ("/a b/\u00c3\u00a5", "q=%20")  # WSGI: bytes as latin-1


def test_an_application_header_cannot_split_the_answer(served: tuple[int, Seen]) -> None:
    """A header value with a line break (an echoed request value, say) would let a client write its own
    answer headers: the worker answers 500 instead, and nothing of the value goes out."""
    port, _seen = served
    status, headers, body, _closed_after = _send(
        port, b"GET /x HTTP/1.1\r\nHost: a\r\nX-Answer-Header: a|Set-Cookie: stolen=1\r\nConnection: close\r\n\r\n"
    )
    assert status == 500 and "set-cookie" not in headers and b"stolen" not in body


def test_an_answer_without_content_goes_without_body_or_length(served: tuple[int, Seen]) -> None:
    """A 204 carries neither (RFC 9110), whatever the application wrote: the next answer starts right after."""
    port, _seen = served
    with _connect(port) as sock:
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: a\r\nX-Status: 204 No Content\r\n\r\n"
                     b"GET /y HTTP/1.1\r\nHost: a\r\n\r\n")
        buffer = bytearray()
        status, headers, _ = _answer(sock, buffer, head_only=True)
        after_status, _headers, after = _answer(sock, buffer)
    assert status == 204 and "content-length" not in headers
    assert after_status == 200 and json.loads(after)["path"] == "/y"
