"""A bounded HTTP load loop for the hand-run benchmarks: loopback only, fixed duration, percentiles.

Load comes from several processes with a few threads each (one Python process cannot saturate a
server on its own). Every request is checked for HTTP 200 and an expected marker in the body, so a
fast stream of errors never passes for throughput.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import ipaddress
import itertools
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from sqlalchemy import text

from store.session import make_engine
from tests.pgcluster import postgres_cluster


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


#: In a body, each occurrence of this token is replaced by a value unique to the run (``run_load(unique=True)``).
UNIQUE = b"{{UNIQUE}}"
#: In a body, this token takes the values of ``run_load(choices=...)`` in turn, one per request.
CHOICE = b"{{CHOICE}}"


def _bodies(body: bytes, unique: bool, prefix: str, choices: tuple[bytes, ...] = (), start: int = 0) -> Iterator[bytes]:
    """The same body forever, or with every ``UNIQUE`` token a different value (at most 36 characters).

    With ``choices``, each ``CHOICE`` token takes the next choice (from ``start``, cycling): spreading
    requests over existing records (certificates) that the unique values cannot name.
    """
    for number in itertools.count():
        current = body if not choices else body.replace(CHOICE, choices[(start + number) % len(choices)])
        if not unique:
            yield current
            continue
        pieces = current.split(UNIQUE)
        values = [f"{prefix}-{number}-{k}".encode() for k in range(len(pieces) - 1)]
        yield b"".join(piece + value for piece, value in zip(pieces, [*values, b""], strict=True))


def _worker(url: str, body: bytes, headers: dict[str, str], marker: bytes, deadline: float, threads: int,
            unique: bool, out: multiprocessing.Queue[tuple[list[float], int]], choices: tuple[bytes, ...] = (),
            slot: int = 0) -> None:
    parts = urlsplit(url)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def loop(index: int) -> None:
        mine: list[float] = []
        failed = 0
        conn: http.client.HTTPConnection | None = None
        prefix = f"{os.getpid()}-{index}-{time.monotonic_ns() % 10**6}"
        bodies = _bodies(body, unique, prefix, choices, 7919 * (slot * threads + index))
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                if conn is None:
                    assert parts.hostname is not None  # run_load checked the URL (_check_loopback)
                    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
                conn.request("POST", parts.path, body=next(bodies), headers=headers)
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

    pool = [threading.Thread(target=loop, args=(index,)) for index in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    out.put((latencies, errors[0]))


def run_load(url: str, body: bytes, marker: bytes, seconds: float, processes: int = 2, threads: int = 4,
             headers: dict[str, str] | None = None, unique: bool = False,
             choices: tuple[bytes, ...] = ()) -> LoadResult:
    """POST ``body`` to ``url`` from ``processes`` × ``threads`` clients for ``seconds``.

    With ``unique``, every ``UNIQUE`` token in ``body`` gets a fresh value per request (ids that a
    service must not see twice, such as StoreLog's logId); with ``choices``, the ``CHOICE`` token
    takes them in turn, each client starting at a different one.
    """
    _check_loopback(url)
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""', **(headers or {})}
    queue: multiprocessing.Queue[tuple[list[float], int]] = multiprocessing.Queue()
    started = time.monotonic()
    deadline = started + seconds
    procs = [
        multiprocessing.Process(
            target=_worker, args=(url, body, headers, marker, deadline, threads, unique, queue, choices, slot)
        )
        for slot in range(processes)
    ]
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



ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Served:
    """A server started for a benchmark: its base URL and the process that runs it (its workers are children)."""

    url: str
    pid: int


@contextlib.contextmanager
def served_gateway(db: str, workers: int, threads: int) -> Iterator[Served]:
    """``intygsgateway serve --demo`` on a free loopback port, once it is ready."""
    port = free_port()
    bin_dir = Path(sys.executable).parent
    process = subprocess.Popen(
        [str(bin_dir / "intygsgateway"), "serve", "--demo", "--db", db, "--port", str(port),
         "--workers", str(workers), "--threads", str(threads), "--no-worker"],
        stdout=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/readyz", timeout=90)
        yield Served(f"http://127.0.0.1:{port}", process.pid)
    finally:
        stop(process)


@contextlib.contextmanager
def gateway_server(db: str, workers: int, threads: int) -> Iterator[str]:
    """``served_gateway``'s base URL."""
    with served_gateway(db, workers, threads) as served:
        yield served.url


def postgres_pid(url: str) -> int | None:
    """The postmaster serving ``url`` on this machine (its backends are its children), or None.

    Found by its command line (``-p PORT``, as ``tests.pgcluster`` starts it), so only a cluster
    started for the benchmark is found, not a server that happens to listen elsewhere.
    """
    port = urlsplit(url.replace("+psycopg", "")).port
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            words = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if words and words[0].endswith(b"postgres") and f"-p {port}".encode() in b" ".join(words):
            return int(proc.name)
    return None


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user and system) used so far by ``pid`` and its living descendants; None off Linux.

    A figure that a loaded machine distorts much less than throughput: the gateway's CPU per request.
    """
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total, pending, seen = 0, [pid], set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            if current == pid:
                return None
            continue
        total += int(fields[11]) + int(fields[12])
        pending += [int(child) for child in children]
    return total / tick


@contextlib.contextmanager
def baseline_server(wsdl: Path, response: str, workers: int, threads: int, probe: bytes) -> Iterator[str]:
    """``baseline_app`` under gunicorn with the same workers and threads; yields its URL."""
    port = free_port()
    bin_dir = Path(sys.executable).parent
    process = subprocess.Popen(
        [str(bin_dir / "gunicorn"), "-w", str(workers),
         *(["-k", "gthread", "--threads", str(threads)] if threads > 1 else []),
         "-b", f"127.0.0.1:{port}", "--chdir", str(ROOT), "bench.baseline_app:app"],
        env={**os.environ, "BASELINE_WSDL": str(wsdl), "BASELINE_RESPONSE": response},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", timeout=90, body=probe)
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop(process)


#: The throw-away cluster's autovacuum looks every second instead of every minute. A long-running
#: database has statistics on its tables; a benchmark's tables start empty, and without fresh
#: statistics the server keeps the plans its connections prepared on the empty tables (sequential
#: scans) for the whole run, because the default 60 s naptime is longer than the run.
STEADY_STATISTICS = ("autovacuum_naptime=1",)


#: PostgreSQL's own defaults for durability, put back over the shortcuts of the tests' clusters
#: (``tests.pgcluster`` turns them off for speed): every commit is on disk before the gateway answers,
#: as on a region's database and as in the embedded store (SQLite in WAL mode syncs each commit). A
#: journal system or Försäkringskassan that got OK does not send again, so the figures that count
#: are those of a database that keeps what it acknowledged. On this machine the shortcuts were worth
#: about 13 % of CreateDraftCertificate's requests a second and 13-26 % of SendMessageToCare's
#: (docs/serving.md); ``--unsafe-postgres`` measures without them, as the stops before 33 did.
DURABLE = ("fsync=on", "synchronous_commit=on", "full_page_writes=on")


@contextlib.contextmanager
def bench_database(url: str | None, durable: bool = True) -> Iterator[str]:
    """``url`` as given, or a throw-away PostgreSQL cluster with ``STEADY_STATISTICS`` and, unless
    ``durable`` is off, ``DURABLE``."""
    if url:
        yield url
        return
    with postgres_cluster(STEADY_STATISTICS + (DURABLE if durable else ())) as db:
        yield db


def describe_database(url: str | None, durable: bool) -> str:
    """What the PostgreSQL figures were measured on, for a benchmark's heading."""
    if url:
        return "PostgreSQL at --db (its own settings)"
    if durable:
        return "a throw-away PostgreSQL cluster, durable (fsync, synchronous_commit, full_page_writes on)"
    return "a throw-away PostgreSQL cluster WITHOUT durability (--unsafe-postgres: fsync, synchronous_commit off)"


def through_unix_socket(url: str) -> str:
    """The URL of the cluster at ``url`` (a throw-away one) through its Unix socket instead of TCP.

    What docs/deployment.md recommends for a database on the gateway's host; the cluster's socket
    directory and port are asked of the cluster itself.
    """
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as connection:
        row = connection.execute(
            "SELECT current_setting('unix_socket_directories'), current_setting('port')"
        ).fetchone()
    assert row is not None
    directories, port = row
    parts = urlsplit(url)
    return f"postgresql+psycopg://{parts.username}@/{parts.path.lstrip('/')}?host={directories.split(',')[0]}&port={port}"


def load_arguments(description: str | None) -> argparse.ArgumentParser:
    """The command-line options every benchmark shares: duration, server size, load size, database."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--threads", type=int, default=4, help="threads per worker, for both servers")
    parser.add_argument("--processes", type=int, default=2, help="load-generating processes")
    parser.add_argument("--clients", type=int, default=4, help="client threads per load process")
    parser.add_argument("--db", help="PostgreSQL URL (default: a throw-away cluster)")
    parser.add_argument("--unsafe-postgres", dest="durable", action="store_false",
                        help="the throw-away cluster without flushing commits to disk (fsync, synchronous_commit "
                             "and full_page_writes off), as the tests run it: figures comparable with the stops "
                             "before 33, not with a production database")
    return parser


@dataclass(frozen=True)
class Sealing:
    """A run's PDL records: stored and sealed into the chain during it, and waiting for a seal at its end.

    Sealing runs in the gateway's processes a moment after the records commit; when it falls behind,
    the backlog is sealed after the run and its cost is not in the run's figures.
    """

    stored: int
    sealed: int
    waiting: int
    seconds: float


def pdl_counts(db: str) -> tuple[int, int]:
    """Records in the PDL log of ``db``, and how many of them are sealed into the chain."""
    engine = make_engine(db)
    try:
        with engine.connect() as connection:
            stored, sealed = connection.execute(text("SELECT count(*), count(seq) FROM pdl_record")).one()
    finally:
        engine.dispose()
    return int(stored), int(sealed)


def sealing_report(runs: Sequence[tuple[str, Sealing]]) -> str:
    """Each named run's ``Sealing``, one line each below a heading."""
    lines = ["PDL records during each run: stored, sealed into the chain (a second), waiting for a seal at its end"]
    lines += [f"  {name:36}{s.stored:10,} stored{s.sealed:10,} sealed ({s.sealed / s.seconds:,.0f}/s){s.waiting:10,}"
              " waiting" for name, s in runs]
    return "\n".join(lines)


def sealing_since(db: str, before: tuple[int, int], seconds: float) -> Sealing:
    """What ``pdl_counts`` moved by since ``before``, over a run of ``seconds``."""
    stored, sealed = pdl_counts(db)
    return Sealing(stored - before[0], sealed - before[1], stored - sealed, seconds)
