"""Server processes a test starts: waiting until one answers, and stopping it politely first, then for sure."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import requests

STOP_TIMEOUT_S = 20


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM and wait (gunicorn drains its workers), then SIGKILL if it is still there."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float = 60,
                  verify: str | bool = True) -> None:
    """Poll ``url`` (``/healthz``) until it answers; fail with the server's ``log`` when the process exits
    or ``seconds`` pass first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            requests.get(url, verify=verify, timeout=2)
            return
        except requests.exceptions.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError(f"serve did not come up: {log.read_text()}") from None
            time.sleep(0.2)
