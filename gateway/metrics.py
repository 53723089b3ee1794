"""Prometheus metrics: every instrument the gateway and worker processes keep, and ``GET /metrics``.

**Several processes, one answer.** gunicorn runs N worker processes, and the status-update worker
(``intygsgateway worker``) is a process of its own; a scrape reaches one of them. In multiprocess
mode (prometheus_client's, switched on by ``use_directory`` before any instrument exists and before
gunicorn forks) every process writes its counters and histograms into its own memory-mapped files in
one directory (``metrics_dir``; ``serve`` makes a private one when it is empty and removes it at
exit), and a scrape merges all of them: counts summed over the processes, the dead ones included,
so a recycled worker's requests still count. The worker writes into the same directory, so its
deliveries and its election reach the gateway's scrape; a worker in another container or on another
host serves its own ``/metrics`` on ``worker_metrics_port`` instead (docs/deployment.md).

**Figures from the database** (the outbox, the PDL seal, the directory's age) are never written to
those files: a scrape reads them through ``OperationsCollector``, from one bounded aggregate query
cached for a few seconds per process (``usecases.operations_metrics``). Figures a process holds
itself (the routing catalogue in use, our certificates' days left) are read from it at scrape time.

**Who may scrape.** On the main port ``/metrics`` is behind the operations API's credentials
(``gateway.internal_api.auth``, scope ``metrics``) and its loopback rule; with ``metrics_port`` set it
is served on that port only, without credentials (a network that only Prometheus reaches), and the
main port answers 404 for it.

The metric names are in ``docs/deployment.md``; a test reads them from there and from a scrape.
"""

from __future__ import annotations

import glob
import os
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import structlog
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client import values as prometheus_values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

from domain.delivery import Attempt
from gateway.request import FAULT, SoapRequest
from usecases.operations_metrics import OperationsFigures, StoreError

PREFIX = "intygsgateway"
#: Seconds; SOAP answers take milliseconds to a few seconds, status updates up to the read timeout.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: The platform's refusal codes, and StoreLog's own answer to VP007's case.
REFUSAL_CODES = frozenset({"VP002", "VP007", "VP011"})
ACCESS_DENIED = "ACCESSDENIED"

log = structlog.get_logger("gateway.metrics")
_directory: str | None = None


# -- multiprocess mode --------------------------------------------------------------------------------
def prepare_directory(path: str) -> None:
    """Create ``path`` if missing and remove the files of processes that no longer run (``serve``, at start).

    Files left by an earlier run would otherwise be summed into this run's counts. A living process's
    files stay: a worker started by its own unit a moment before the gateway keeps what it counted.
    """
    Path(path).mkdir(parents=True, exist_ok=True, mode=0o750)
    for stale in glob.glob(os.path.join(path, "*.db")):
        pid = Path(stale).stem.rsplit("_", 1)[-1]
        if not (pid.isdigit() and _alive(int(pid))):
            os.remove(stale)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def use_directory(path: str) -> None:
    """Switch this process (and the processes it forks) to multiprocess mode, writing into ``path``.

    Call before any instrument is created. prometheus_client reads the directory from the
    environment variable ``PROMETHEUS_MULTIPROC_DIR`` when a value is created, and chooses its value
    class when it is first imported; both are set here, so the choice is ours and not the import order's.
    """
    global _directory
    Path(path).mkdir(parents=True, exist_ok=True, mode=0o750)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    # prometheus_client's multiprocess helpers carry no annotations.
    prometheus_values.ValueClass = prometheus_values.MultiProcessValue()  # type: ignore[no-untyped-call]
    _directory = path


def process_exited(pid: int) -> None:
    """Forget the live gauges of a process that ended (its counters stay summed)."""
    if _directory is not None:
        mark_process_dead(pid, _directory)  # type: ignore[no-untyped-call]


# -- instruments ---------------------------------------------------------------------------------------
class SoapMetrics:
    """The front door's instruments: SOAP requests, their durations, access refusals. One per process."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.requests = Counter(
            f"{PREFIX}_soap_requests", "SOAP requests answered, by contract, endpoint path, result code and error id",
            ["contract", "endpoint", "result_code", "error_id"], registry=self.registry,
        )  # fmt: skip
        self.duration = Histogram(
            f"{PREFIX}_soap_request_duration_seconds", "Time from request to answer, by contract",
            ["contract"], buckets=DURATION_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.refusals = Counter(
            f"{PREFIX}_access_refusals", "Callers refused by the platform's rules, by code (VP002, VP007, VP011)",
            ["code"], registry=self.registry,
        )  # fmt: skip

    def observe(self, request: SoapRequest, seconds: float) -> None:
        """Count one answered SOAP request (what its log line says)."""
        outcome = request.outcome
        # The path as the endpoint table knows it: trailing slashes a client adds make no new series.
        endpoint = request.path.rstrip("/") or "/"
        self.requests.labels(request.endpoint, endpoint, outcome.result_code or "", outcome.error_id or "").inc()
        self.duration.labels(request.endpoint).observe(seconds)
        if outcome.result_code == FAULT and outcome.error_id in REFUSAL_CODES:
            self.refusals.labels(outcome.error_id).inc()
        elif outcome.result_code == ACCESS_DENIED:
            self.refusals.labels("VP007").inc()


class DeliveryMetrics:
    """The worker's instruments: status-update calls by outcome class, with durations. One per process."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.deliveries = Counter(
            f"{PREFIX}_deliveries", "Outbound status-update calls, by outcome class (ok, technical-error, timeout...)",
            ["outcome_class"], registry=self.registry,
        )  # fmt: skip
        self.duration = Histogram(
            f"{PREFIX}_delivery_duration_seconds", "Duration of outbound status-update calls, by outcome class",
            ["outcome_class"], buckets=DURATION_BUCKETS, registry=self.registry,
        )  # fmt: skip

    def observe(self, attempt: Attempt) -> None:
        """Count one outbound call."""
        outcome = attempt.outcome.value
        self.deliveries.labels(outcome).inc()
        self.duration.labels(outcome).observe(attempt.duration_ms / 1000)


class LeaderMetric:
    """Whether this worker process runs the scheduled jobs: 1 in exactly one process of a deployment."""

    def __init__(self, registry: CollectorRegistry | None = None, host: str | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._host = host or socket.gethostname()
        # liveall: one sample per living process (with its pid); a process's sample goes with it.
        self.gauge = Gauge(
            f"{PREFIX}_scheduler_leader", "1 in the worker process elected to run the scheduled jobs, else 0",
            ["host"], registry=self.registry, multiprocess_mode="liveall",
        )  # fmt: skip

    def set(self, leading: bool) -> None:
        self.gauge.labels(self._host).set(1 if leading else 0)


# -- figures read at scrape time ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RoutingFigures:
    """The routing catalogue this process routes by: its version and when it was published."""

    version: int | None
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class ScrapeSources:
    """Where a scrape reads what no counter holds; each is called once per scrape."""

    database: Callable[[], OperationsFigures]  # cached; raises when the database does not answer
    routing: Callable[[], RoutingFigures]
    certificates: Callable[[], Mapping[str, datetime]]  # role (server, client) -> not after
    clock: Callable[[], datetime]


def _gauge(name: str, documentation: str, labels: Iterable[str] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", documentation, labels=list(labels))


class OperationsCollector(Collector):
    """The gauges computed at scrape time (module docstring)."""

    def __init__(self, sources: ScrapeSources) -> None:
        self._sources = sources

    def collect(self) -> Iterator[Metric]:
        now = self._sources.clock()
        up = _gauge("database_up", "1 when the scrape's aggregate query answered, else 0")
        try:
            figures = self._sources.database()
        except StoreError as failure:  # a scrape must answer even with the database down, saying so
            log.warning("metrics_database_unavailable", error=type(failure).__name__)
            up.add_metric([], 0)
            yield up
        else:
            up.add_metric([], 1)
            yield up
            yield from self._database_figures(figures, now)
        routing = self._sources.routing()
        version = _gauge("routing_catalogue_version", "Version of the routing catalogue this process routes by")
        age = _gauge("routing_catalogue_age_seconds", "Seconds since that version was published")
        if routing.version is not None:
            version.add_metric([], routing.version)
        if routing.published_at is not None:
            age.add_metric([], (now - routing.published_at).total_seconds())
        yield version
        yield age
        days = _gauge("certificate_days_left", "Whole days left on our own certificates, by role", ["role"])
        for role, not_after in sorted(self._sources.certificates().items()):
            days.add_metric([role], (not_after - now).days)
        yield days

    @staticmethod
    def _database_figures(figures: OperationsFigures, now: datetime) -> Iterator[Metric]:
        events = _gauge("outbox_events", "Open status updates by status (pending, failed) and the last attempt's "
                        "outcome class ('-': not tried yet)", ["status", "outcome_class"])
        for line in figures.open_events:
            events.add_metric([line.status.lower(), line.outcome], line.count)
        yield events
        pending_times = [line.oldest for line in figures.open_events if line.status == "PENDING" and line.oldest]
        oldest = _gauge("outbox_oldest_pending_age_seconds", "Age of the oldest pending status update (0: none)")
        oldest.add_metric([], (now - min(pending_times)).total_seconds() if pending_times else 0)
        yield oldest
        unit_pending = _gauge("outbox_unit_pending", "Pending status updates of the units waiting longest",
                              ["unit"])
        unit_age = _gauge("outbox_unit_oldest_pending_age_seconds",
                          "Age of the oldest pending status update of the units waiting longest", ["unit"])
        for backlog in figures.worst_units:
            unit_pending.add_metric([backlog.unit], backlog.pending)
            unit_age.add_metric([backlog.unit], (now - backlog.oldest).total_seconds())
        yield unit_pending
        yield unit_age
        unsealed = _gauge("pdl_unsealed_records", "PDL records committed but not yet sealed into the hash chain")
        unsealed.add_metric([], figures.pdl_unsealed)
        yield unsealed
        lag = _gauge("pdl_seal_lag_seconds", "Age of the oldest PDL record waiting for its seal (0: none)")
        lag.add_metric([], (now - figures.pdl_oldest_unsealed).total_seconds() if figures.pdl_oldest_unsealed else 0)
        yield lag
        directory = _gauge("directory_age_seconds", "Seconds since the data of the latest directory import "
                           "was produced (absent before the first import)")
        if figures.directory_produced_at is not None:
            directory.add_metric([], (now - figures.directory_produced_at).total_seconds())
        yield directory


# -- the endpoint ------------------------------------------------------------------------------------------
class MetricsExposition:
    """The text a scrape gets: this process's instruments (or every process's, in multiprocess mode),
    and the figures read at scrape time."""

    def __init__(self, local: Iterable[CollectorRegistry], sources: ScrapeSources) -> None:
        self._local = tuple(local)
        self._operations = OperationsCollector(sources)

    def render(self) -> tuple[bytes, str]:
        """The exposition and its content type."""
        registry = CollectorRegistry()
        if _directory is not None:
            registry.register(_Directory(_directory))
        else:
            for local in self._local:
                registry.register(_Forward(local))
        registry.register(self._operations)
        return generate_latest(registry), CONTENT_TYPE_LATEST


def serve_registry(host: str, port: int, registry: CollectorRegistry) -> None:
    """Serve ``registry`` on ``host:port`` from a daemon thread (a standalone worker's ``/metrics``)."""
    start_http_server(port, host, registry=registry)


class _Directory(Collector):
    """Every process's instruments from the multiprocess directory, as ``MultiProcessCollector`` reads
    them, leaving out the files that are still empty.

    prometheus_client creates a process's file before it sizes it (prometheus/client_python#1199): a
    scrape in that moment failed on the empty file, and with it every metric (a 500, seen when the
    outbox worker started during a scrape); a process killed in that moment left the empty file for
    good, and every scrape after it failed. An empty file holds nothing yet, so leaving it out loses
    nothing.
    """

    def __init__(self, path: str) -> None:
        self._path = path

    def collect(self) -> Iterable[Metric]:
        files = [name for name in glob.glob(os.path.join(self._path, "*.db")) if _size(name) > 0]
        return MultiProcessCollector.merge(files, accumulate=True)  # type: ignore[no-any-return, no-untyped-call]


def _size(name: str) -> int:
    """The file's size; 0 for a file removed since it was listed (a process that ended, its gauges gone)."""
    try:
        return os.path.getsize(name)
    except FileNotFoundError:
        return 0


class _Forward(Collector):
    """Another registry's metrics, collected into the scrape's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        return iter(self._registry.collect())
