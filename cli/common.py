"""Options every data-touching command shares (``--config``, ``--db``) and reading them into Settings."""

from __future__ import annotations

import argparse

from cli.logs import configure_logging
from cli.settings import Settings, load_settings


def add_settings_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--config`` and ``--db`` to a command."""
    parser.add_argument("--config", metavar="FILE", help="TOML settings file (environment variables override it)")
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL (overrides INTYGSGATEWAY_DATABASE_URL; default sqlite:///intygsgateway.db)",
    )


def settings_from(args: argparse.Namespace, **overrides: object) -> Settings:
    """Settings for this run: defaults, file, environment, then the command's flags; logging configured."""
    settings = load_settings(args.config).replace(database_url=args.db, **overrides)
    configure_logging(settings.log_level, settings.log_format)
    return settings
