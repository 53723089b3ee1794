"""``intygsgateway worker``: the outbox dispatcher and the scheduled jobs, in one background process.

Why a process of its own and not threads inside the web workers: gunicorn forks N workers and
recycles them after ``max_requests``, and on SQLite only one process may send. A separate worker
process keeps sending independent of web traffic and restarts. ``serve`` starts one worker next to
gunicorn (``--no-worker`` to run it elsewhere), so the single-command demo sends status updates;
on PostgreSQL any number of gateway hosts each run one, and they share the outbox through leases
and elect one of them to run the scheduled jobs.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

import structlog

from cli.gc_tuning import tune_for_serving
from cli.options import add_settings_options, settings_from
from cli.settings import ENV_PREFIX, Settings, SettingsError
from cli.wiring import catalogue_provider, certificate_types, pdl_signing, routing_today, utc_now
from contracts.ns import STATUS_UPDATE_V3
from domain.certificate_types import CertificateTypes
from domain.resend_policy import Schedules
from domain.resend_schedule import ScheduleError, parse_duration, parse_schedule
from gateway.metrics import DeliveryMetrics, LeaderMetric, process_exited, serve_registry, use_directory
from outbound import Delivery, HttpSender, Timeouts, TlsConfig
from outbound.observed import ObservedSender
from routing.provider import CatalogueProvider
from scheduler.dispatcher import DispatchConfig, Dispatcher
from scheduler.locking import LOCK_EVERY_SECONDS, lock_stale_drafts
from scheduler.pdl_retention import retention_job
from scheduler.pdl_sealer import PdlSealer
from scheduler.runner import ScheduledJob, SchedulerRunner
from store.leader import LeaderLock
from store.migrate import require_schema
from store.session import UnitOfWork, make_engine, make_session_factory
from usecases.directory_check import directory_check_job
from usecases.routing_check import routing_check_job

log = structlog.get_logger("cli.worker")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="send status updates and run scheduled jobs",
        description="Run the outbox dispatcher (sends CertificateStatusUpdateForCare, resends on "
        "schedule) and, if elected, the scheduled jobs, until SIGTERM or Ctrl-C. `serve` starts one.",
    )
    add_settings_options(parser)
    parser.add_argument("--threads", type=int, metavar="N", help="sender threads (default: resend_threads)")
    parser.add_argument("--exit-with-parent", action="store_true", help=argparse.SUPPRESS)  # set by serve
    parser.set_defaults(run=run)


def dispatch_config(settings: Settings) -> DispatchConfig:
    """The dispatcher's configuration from the settings; wrong values are a ``SettingsError``."""
    try:
        max_age = parse_duration(settings.resend_max_age)
        schedules = Schedules(parse_schedule(settings.resend_schedule, max_age),
                              parse_schedule(settings.resend_address_schedule, max_age))
        config = DispatchConfig(
            schedules=schedules,
            timeouts=Timeouts(settings.resend_connect_timeout_seconds, settings.resend_read_timeout_seconds),
            lease=timedelta(seconds=settings.resend_lease_seconds),
            batch_size=settings.resend_batch_size,
            threads=settings.resend_threads,
            poll_seconds=settings.resend_poll_seconds,
            hold=timedelta(seconds=settings.resend_hold_seconds),
            journal_concurrency=settings.resend_journal_concurrency,
            max_claims=settings.resend_max_claims,
        )
        config.check()
    except (ScheduleError, ValueError) as wrong:
        raise SettingsError(None, reason=f"resend settings: {wrong}") from wrong
    return config


@dataclass
class Worker:
    """The parts of a running worker process, for starting and stopping them together."""

    dispatcher: Dispatcher
    runner: SchedulerRunner
    close: Any
    sealer: PdlSealer | None = None  # None: pdl_seal_seconds is 0
    leader: LeaderMetric | None = None

    def report(self) -> None:
        """Update what the metrics say about this process (called every second by ``run``)."""
        if self.leader is not None:
            self.leader.set(self.runner.leading)

    def start(self) -> None:
        self.dispatcher.start()
        self.runner.start()
        if self.sealer is not None:
            self.sealer.start()

    def stop(self) -> None:
        if self.sealer is not None:
            self.sealer.stop()
        self.runner.stop()
        self.dispatcher.stop()
        self.close()


def scheduled_jobs(settings: Settings, uow: UnitOfWork, catalogue: CatalogueProvider | None = None,
                   types: CertificateTypes | None = None,
                   purge_uow: UnitOfWork | None = None) -> list[ScheduledJob]:
    """The jobs the elected worker runs, in UTC; each only enqueues or triggers work.

    ``catalogue``: the process's routing snapshot provider (the dispatcher's), or a new one;
    ``types``: the process's certificate type registry, or a new one;
    ``purge_uow``: the retention job's connection (``pdl_purge_database_url``), else ``uow``.
    """
    catalogue = catalogue or catalogue_provider(settings, uow)
    types = types if types is not None else certificate_types(settings)
    return [
        ScheduledJob(
            "lock_stale_drafts",
            partial(lock_stale_drafts, uow, utc_now, types, settings.draft_lock_days),
            seconds=LOCK_EVERY_SECONDS,
        ),
        ScheduledJob(
            "pdl_retention",
            partial(retention_job, purge_uow or uow, utc_now, settings.pdl_retention_years,
                    Path(settings.pdl_export_dir), pdl_signing(settings)),
            cron={"hour": 3, "minute": 15},  # daily, at night (UTC)
        ),
        ScheduledJob(
            "routing_check",
            routing_check_job(uow, catalogue, STATUS_UPDATE_V3, routing_today),
            cron={"hour": 5, "minute": 20},  # daily, before office hours: routes that broke or expire soon
        ),
        ScheduledJob(
            "directory_check",
            directory_check_job(uow),
            cron={"day": 1, "hour": 4, "minute": 40},  # monthly: the unit check administrators are asked for
        ),
    ]


def build_worker(settings: Settings) -> Worker:
    """Everything a worker process runs, wired from ``settings`` (call after any fork)."""
    config = dispatch_config(settings)
    engine = make_engine(settings.database_url)
    uow = UnitOfWork(make_session_factory(engine))
    tls = None
    if settings.client_cert or settings.client_ca:
        tls = TlsConfig(settings.client_cert or None, settings.client_key or None, settings.client_ca or None)
    delivery_metrics = DeliveryMetrics()
    sender = ObservedSender(HttpSender(tls, utc_now, pool_size=max(16, config.threads)), delivery_metrics.observe)
    catalogue = catalogue_provider(settings, uow)
    types = certificate_types(settings)
    delivery = Delivery(sender, catalogue, types, config.timeouts, utc_now,
                        settings.allow_plain_http_routes)
    dispatcher = Dispatcher(uow, delivery, config, utc_now)
    purge_engine = make_engine(settings.pdl_purge_database_url) if settings.pdl_purge_database_url else None
    purge_uow = UnitOfWork(make_session_factory(purge_engine)) if purge_engine is not None else None
    runner = SchedulerRunner(LeaderLock(engine), scheduled_jobs(settings, uow, catalogue, types, purge_uow))

    signing = pdl_signing(settings)
    sealer = PdlSealer(uow, settings.pdl_seal_seconds, signing) if settings.pdl_seal_seconds > 0 else None

    def close() -> None:
        sender.close()
        engine.dispose()
        if purge_engine is not None:
            purge_engine.dispose()

    return Worker(dispatcher, runner, close, sealer, LeaderMetric(delivery_metrics.registry))


def serve_metrics(settings: Settings, worker: Worker) -> None:
    """This worker's own ``/metrics`` on ``worker_metrics_port`` (a worker in a container of its own).

    Without a shared ``metrics_dir`` the gateway's scrape cannot see this process; Prometheus then
    scrapes it here (open, like ``metrics_port``: a network only Prometheus reaches).
    """
    assert worker.leader is not None
    serve_registry(settings.host, settings.worker_metrics_port, worker.leader.registry)
    log.info("worker_metrics_serving", host=settings.host, port=settings.worker_metrics_port)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args, {"resend_threads": "--threads"}, resend_threads=args.threads)
    require_schema(settings.database_url)  # `serve` (or `db upgrade`) migrates; a worker never does
    if settings.metrics_dir:  # beside the gateway on this host: its scrape reads our counts
        use_directory(settings.metrics_dir)
    worker = build_worker(settings)
    if settings.worker_metrics_port and not settings.metrics_dir:
        serve_metrics(settings, worker)
    stopping = threading.Event()

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("worker_stopping", signal=signum)
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    parent = os.getppid()
    tune_for_serving()
    worker.start()
    worker.report()
    log.info("worker_started", threads=settings.resend_threads)
    while not stopping.wait(1.0):
        worker.report()
        if args.exit_with_parent and os.getppid() != parent:  # serve was killed: do not linger
            log.warning("worker_parent_gone")
            break
    worker.stop()
    worker.report()
    process_exited(os.getpid())  # our election gauge goes with us
    return 0


def spawn(args: argparse.Namespace, metrics_dir: str) -> subprocess.Popen[bytes]:
    """Start ``intygsgateway worker`` as a child process with the same settings options (for ``serve``),
    writing its metrics into ``serve``'s directory."""
    command = [sys.executable, "-m", "cli", "worker", "--exit-with-parent"]
    if args.config:
        command += ["--config", args.config]
    if args.db:
        command += ["--db", args.db]
    return subprocess.Popen(command, env={**os.environ, ENV_PREFIX + "METRICS_DIR": metrics_dir})
