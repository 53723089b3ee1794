"""The worker process's wiring: its scheduled jobs run against a real database, bad settings are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from cli.settings import Settings, SettingsError
from cli.wiring import catalogue_provider
from cli.worker import dispatch_config, scheduled_jobs
from store.session import UnitOfWork, make_session_factory


def test_every_scheduled_job_runs_once_against_the_database(db_url: str, tmp_path: Path,
                                                            engine: object) -> None:
    uow = UnitOfWork(make_session_factory(engine))  # type: ignore[arg-type]
    settings = Settings(database_url=db_url, pdl_export_dir=str(tmp_path / "pdl"))
    jobs = scheduled_jobs(settings, uow, catalogue_provider(settings, uow))
    assert [job.name for job in jobs] == ["lock_stale_drafts", "pdl_retention", "routing_check", "directory_check"]
    for job in jobs:
        trigger = job.trigger()
        assert isinstance(trigger, IntervalTrigger | CronTrigger) and str(trigger.timezone) == "UTC"
        job.run()  # on an empty database: nothing to lock, purge or report, and no error


@pytest.mark.parametrize("changes", [
    {"resend_schedule": "1m,5x"},
    {"resend_max_age": "forever"},
    {"resend_read_timeout_seconds": 60.0},  # does not fit in the 60 s lease
    {"resend_threads": 0},
])
def test_bad_resend_settings_are_refused_at_start(changes: dict[str, object]) -> None:
    with pytest.raises(SettingsError):
        dispatch_config(Settings().replace(**changes))
