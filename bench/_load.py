"""A bounded HTTP load loop for the hand-run benchmarks: loopback only, fixed duration, percentiles.

Load comes from several processes with a few threads each (one Python process cannot saturate a
server on its own). Every request is checked for HTTP 200 and an expected marker in the body, so a
fast stream of errors never passes for throughput.
"""

from __future__ import annotations

import http.client
import ipaddress
import multiprocessing
import socket
import statistics
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _check_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    address = socket.gethostbyname(host)
    if not ipaddress.ip_address(address).is_loopback:
        raise SystemExit(f"refusing to load {host}: benchmarks only target loopback")


def _worker(url: str, body: bytes, headers: dict[str, str], marker: bytes, deadline: float, threads: int, out: "multiprocessing.Queue[tuple[list[float], int]]") -> None:
    parts = urlsplit(url)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def loop() -> None:
        mine: list[float] = []
        failed = 0
        conn: http.client.HTTPConnection | None = None
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
                conn.request("POST", parts.path, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                if response.status != 200 or marker not in payload:
                    failed += 1
                if response.getheader("Connection", "").lower() == "close" or response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                failed += 1
                if conn is not None:
                    conn.close()
                conn = None
                continue
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    pool = [threading.Thread(target=loop) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    out.put((latencies, errors[0]))


def run_load(url: str, body: bytes, marker: bytes, seconds: float, processes: int = 2, threads: int = 4, headers: dict[str, str] | None = None) -> LoadResult:
    """POST ``body`` to ``url`` from ``processes`` × ``threads`` clients for ``seconds``."""
    _check_loopback(url)
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""', **(headers or {})}
    queue: multiprocessing.Queue[tuple[list[float], int]] = multiprocessing.Queue()
    started = time.monotonic()
    deadline = started + seconds
    procs = [multiprocessing.Process(target=_worker, args=(url, body, headers, marker, deadline, threads, queue)) for _ in range(processes)]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=seconds + 60) for _ in procs]
    for proc in procs:
        proc.join(30)
    elapsed = time.monotonic() - started
    latencies = sorted(value for lat, _ in results for value in lat)
    errors = sum(err for _, err in results)
    if not latencies:
        return LoadResult(0, errors, elapsed, 0.0, 0.0)
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [latencies[0]] * 99
    return LoadResult(len(latencies) - errors, errors, elapsed, quantiles[49], quantiles[98])


def wait_until_up(url: str, timeout: float = 30.0, body: bytes | None = None) -> None:
    """Poll ``url`` (GET, or POST ``body``) until it answers 200 or ``timeout`` runs out."""
    _check_loopback(url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(url, data=body, method="POST" if body else "GET")
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up within {timeout} s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def report(name: str, result: LoadResult, baseline: LoadResult) -> str:
    ratio = result.per_second / baseline.per_second if baseline.per_second else float("nan")
    lines = [
        f"{'':24}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}",
        f"{name:24}{result.per_second:12.0f}{result.p50_ms:10.2f}{result.p99_ms:10.2f}{result.errors:8d}",
        f"{'baseline':24}{baseline.per_second:12.0f}{baseline.p50_ms:10.2f}{baseline.p99_ms:10.2f}{baseline.errors:8d}",
        f"ratio {name} / baseline: {ratio:.2f}",
    ]
    return "\n".join(lines)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)

