"""Settings come from defaults, then the TOML file, then the environment, then flags."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from cli.settings import SETTINGS_HELP, Settings, SettingsError, load_settings

README = Path(__file__).resolve().parents[3] / "README.md"


def test_defaults_use_the_embedded_store_on_loopback() -> None:
    """With nothing configured the gateway uses ./intygsgateway.db and 127.0.0.1:8080."""
    settings = load_settings(None, environ={})
    assert (settings.database_url, settings.host, settings.port) == ("sqlite:///intygsgateway.db", "127.0.0.1", 8080)


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    """INTYGSGATEWAY_* variables win over the TOML file; lists are comma-separated."""
    config = tmp_path / "gw.toml"
    config.write_text('database_url = "sqlite:///from-file.db"\nport = 9000\nvalidation_persons = ["191212121212"]\n')
    settings = load_settings(str(config), environ={"INTYGSGATEWAY_PORT": "9100", "INTYGSGATEWAY_VALIDATION_PERSONS": "1,2"})
    assert settings.database_url == "sqlite:///from-file.db"
    assert settings.port == 9100
    assert settings.validation_persons == ("1", "2")


def test_flags_override_everything_but_absent_flags_do_not() -> None:
    """replace() applies given flags and ignores None (flag not given)."""
    settings = load_settings(None, environ={"INTYGSGATEWAY_DATABASE_URL": "sqlite:///env.db"})
    assert settings.replace(database_url=None, port=1234).database_url == "sqlite:///env.db"
    assert settings.replace(database_url="sqlite:///flag.db").database_url == "sqlite:///flag.db"


def test_unknown_setting_in_file_is_an_error(tmp_path: Path) -> None:
    """A typo in the file is reported, not silently ignored."""
    config = tmp_path / "gw.toml"
    config.write_text("databse_url = 'x'\n")
    with pytest.raises(SettingsError, match="databse_url"):
        load_settings(str(config), environ={})


def test_badly_typed_value_names_its_source() -> None:
    """A non-number port from the environment names the variable."""
    with pytest.raises(SettingsError, match="INTYGSGATEWAY_PORT"):
        load_settings(None, environ={"INTYGSGATEWAY_PORT": "eighty"})


def test_every_setting_is_documented_in_the_readme() -> None:
    """Each setting has help text and a row in the README's settings table."""
    readme = README.read_text(encoding="utf-8")
    for field in fields(Settings):
        assert field.name in SETTINGS_HELP
        assert f"`INTYGSGATEWAY_{field.name.upper()}`" in readme, field.name
