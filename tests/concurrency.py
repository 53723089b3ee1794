"""Running calls at the same moment, for the tests of races and of group commit."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


def at_once(calls: Mapping[K, Callable[[], T]], timeout: float = 30.0) -> dict[K, T]:
    """Run each call on a thread of its own, all released together by a barrier; return each result.

    An exception raised by a call is raised here, so a failing thread cannot go unnoticed.
    """
    start = threading.Barrier(len(calls), timeout=timeout)

    def released(call: Callable[[], T]) -> T:
        start.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = {key: pool.submit(released, call) for key, call in calls.items()}
        return {key: future.result(timeout=timeout) for key, future in futures.items()}
