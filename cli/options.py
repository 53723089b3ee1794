"""Command-line options every data-touching command shares (``--config``, ``--db``), reading them with
the command's own flags into ``Settings``, and the argparse type for time arguments."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from datetime import datetime

from cli.logs import configure_logging
from cli.settings import Settings, load_settings
from domain.values import utc_instant


def add_settings_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--config`` and ``--db`` to a command."""
    parser.add_argument("--config", metavar="FILE", help="TOML settings file (environment variables override it)")
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL (overrides INTYGSGATEWAY_DATABASE_URL; default sqlite:///intygsgateway.db)",
    )


def settings_from(args: argparse.Namespace, flag_names: Mapping[str, str] | None = None, **flags: object) -> Settings:
    """Settings for this run: defaults, file, environment, then the command's flags; logging configured.

    ``flags`` maps settings to the values of the command's flags (None: not given). Each is checked
    like the file and the environment, and a refused one names its flag: ``--<setting with dashes>``
    unless ``flag_names`` spells it otherwise (``--db`` is added here for ``database_url``).
    """
    names = {"database_url": "--db", **(flag_names or {})}
    settings = load_settings(args.config).replace(names, database_url=args.db, **flags)
    configure_logging(settings.log_level, settings.log_format)
    return settings


def utc_time_argument(text: str) -> datetime:
    """An argparse ``type`` for an ISO 8601 time (UTC when no zone is given)."""
    try:
        return utc_instant(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
