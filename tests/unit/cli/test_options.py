"""Command-line flags are checked by the settings' rules, and a bad setting ends the command with exit 2."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from cli import main
from cli.options import settings_from
from cli.settings import ENV_PREFIX, Settings, SettingsError


@pytest.fixture(autouse=True)
def no_settings_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands read os.environ; a variable left in the test run's environment must not leak in."""
    for name in [name for name in os.environ if name.startswith(ENV_PREFIX)]:
        monkeypatch.delenv(name)


def test_a_bad_flag_value_names_the_flag() -> None:
    """replace() checks each flag by its setting's rule and reports it as `flag --<setting>`."""
    with pytest.raises(SettingsError) as refused:
        Settings().replace(port=0)
    assert (refused.value.setting, refused.value.source, refused.value.value) == ("port", "flag --port", 0)
    assert refused.value.accepted == "an integer from 1 to 65535"
    with pytest.raises(SettingsError) as refused:
        Settings().replace(threads=True)
    assert refused.value.source == "flag --threads"


def test_a_flag_spelt_otherwise_is_named_as_the_command_spells_it(tmp_path: Path) -> None:
    """--db gives database_url: an error names --db, not a --database-url that does not exist."""
    args = argparse.Namespace(config=None, db="intygsgateway.db")
    with pytest.raises(SettingsError) as refused:
        settings_from(args)
    assert (refused.value.setting, refused.value.source) == ("database_url", "flag --db")


def test_serve_with_port_zero_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`serve --port 0` stops before migrating or forking, with one line on stderr naming the flag."""
    assert main(["serve", "--port", "0", "--db", f"sqlite:///{tmp_path / 'gw.db'}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("intygsgateway: port from flag --port: 0 is not")
    assert not (tmp_path / "gw.db").exists()


def test_the_worker_threads_flag_is_named_as_typed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`worker --threads 0` sets resend_threads, and the error names --threads, the flag the operator typed."""
    assert main(["worker", "--threads", "0", "--db", f"sqlite:///{tmp_path / 'gw.db'}"]) == 2
    assert "resend_threads from flag --threads: 0 is not an integer of 1 or more" in capsys.readouterr().err


def test_a_bad_config_file_exits_2_naming_setting_and_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A wrong type in the file is a usage error: exit 2, one line with the setting and the file."""
    config = tmp_path / "gw.toml"
    config.write_text("threads = true\n", encoding="utf-8")
    assert main(["db", "upgrade", "--config", str(config), "--db", f"sqlite:///{tmp_path / 'gw.db'}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"threads from file {config}: true is not" in err


def test_a_bad_environment_value_exits_2_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A wrong INTYGSGATEWAY_* value stops the command the same way and names the variable."""
    monkeypatch.setenv("INTYGSGATEWAY_LOG_FORMAT", "jsno")
    assert main(["db", "upgrade", "--db", f"sqlite:///{tmp_path / 'gw.db'}"]) == 2
    assert "environment INTYGSGATEWAY_LOG_FORMAT" in capsys.readouterr().err
