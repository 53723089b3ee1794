"""Stopping a server process a test started: politely first, then for sure."""

from __future__ import annotations

import signal
import subprocess

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
