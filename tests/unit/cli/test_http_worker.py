"""The serving worker's application threads: answers come back to the loop, failures become a 500, stop ends them.

The deadlines and slow clients are tested against a real ``serve`` in ``tests/security/test_slow_clients.py``.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Callable, Iterable
from typing import Any

from cli.http_worker import AppThreads


def _app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = environ["wsgi.input"].read()
    if body == b"fail":
        raise RuntimeError("the application's last resort failed")
    start_response("200 OK", [("Content-Length", str(len(body))), ("X-Thread", threading.current_thread().name)])
    return [body]


def _environ(body: bytes) -> dict[str, Any]:
    return {"wsgi.input": io.BytesIO(body)}


def test_each_request_gets_its_own_answer_from_an_application_thread() -> None:
    """Sixteen requests on four threads: every answer matches its request, none ran on the loop's thread."""
    threads = AppThreads(_app, 4)

    async def main() -> list[tuple[str, list[tuple[str, str]], list[bytes]]]:
        return await asyncio.gather(*(threads.call(_environ(f"request {n}".encode())) for n in range(16)))

    try:
        answers = asyncio.run(main())
    finally:
        threads.stop()
    assert [chunks for _, _, chunks in answers] == [[f"request {n}".encode()] for n in range(16)]
    assert {dict(headers)["X-Thread"] for _, headers, _ in answers} <= {f"wsgi_{n}" for n in range(4)}


def test_an_application_that_raises_answers_500_and_the_thread_lives_on() -> None:
    """The failure becomes a plain 500; the same single thread then answers the next request."""
    threads = AppThreads(_app, 1)

    async def main() -> tuple[Any, Any]:
        return await threads.call(_environ(b"fail")), await threads.call(_environ(b"after"))

    try:
        failed, after = asyncio.run(main())
    finally:
        threads.stop()
    assert failed[0].startswith("500")
    assert after[2] == [b"after"]


def test_an_answer_nobody_waits_for_any_more_is_dropped() -> None:
    """A connection cancelled while its request runs (the worker stopping): the late answer harms nothing."""
    release = threading.Event()

    def slow(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        release.wait(10)
        return _app(environ, start_response)

    threads = AppThreads(slow, 1)

    async def main() -> Any:
        waiting = threads.call(_environ(b"late"))
        waiting.cancel()
        release.set()
        return await threads.call(_environ(b"next"))

    try:
        answer = asyncio.run(main())
    finally:
        threads.stop()
    assert answer[2] == [b"next"]


def test_stop_ends_the_threads() -> None:
    """Each thread takes one stop from the queue and ends."""
    threads = AppThreads(_app, 3)
    threads.stop()
    for thread in threads._threads:
        thread.join(5)
        assert not thread.is_alive()
