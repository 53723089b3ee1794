"""A throw-away PostgreSQL cluster for tests and benchmarks, started from Debian's binaries.

``initdb`` and ``postgres`` refuse to run as root, and CI runs as root: the binaries then run as the
``postgres`` user through ``runuser``, in a temporary folder owned by that user. Durability is
switched off (fsync, synchronous_commit, full_page_writes) for the tests: the data is thrown away
anyway. The benchmarks switch it back on (``bench._load.DURABLE``): they measure what a database that
keeps its commits costs.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def _bindir() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise PostgresUnavailable("no PostgreSQL binaries under /usr/lib/postgresql (apt-get install postgresql)")
    return os.path.dirname(found[-1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def postgres_cluster(settings: tuple[str, ...] = ()) -> Iterator[str]:
    """Start a cluster on a free loopback port; yield its SQLAlchemy URL (database ``postgres``)."""
    bindir = _bindir()
    base = tempfile.mkdtemp(prefix="intygsgateway-pg-")
    run_as: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    data = os.path.join(base, "data")
    port = _free_port()
    options = [
        f"-p {port}",
        f"-k {base}",
        "-c listen_addresses=127.0.0.1",
        "-c fsync=off",
        "-c synchronous_commit=off",
        "-c full_page_writes=off",
        "-c max_connections=200",
        *(f"-c {setting}" for setting in settings),
    ]
    subprocess.run(
        [*run_as, f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync",
         "-E", "UTF8", "--locale=C.UTF-8"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [*run_as, f"{bindir}/pg_ctl", "-D", data, "-l", f"{base}/log", "-w", "-t", "60",
         "-o", " ".join(options), "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*run_as, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], check=False, capture_output=True
        )
        shutil.rmtree(base, ignore_errors=True)
