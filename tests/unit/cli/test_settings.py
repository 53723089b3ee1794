"""Settings come from defaults, the TOML file and the environment, and every value is checked where it enters."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.settings import SPECS, Settings, SettingsError, load_settings

README = Path(__file__).resolve().parents[3] / "README.md"


def _file(tmp_path: Path, text: str) -> str:
    config = tmp_path / "gw.toml"
    config.write_text(text, encoding="utf-8")
    return str(config)


def _refused(config: str | None = None, environ: dict[str, str] | None = None) -> SettingsError:
    with pytest.raises(SettingsError) as refused:
        load_settings(config, environ=environ or {})
    return refused.value


def test_defaults_use_the_embedded_store_on_loopback() -> None:
    """With nothing configured the gateway uses ./intygsgateway.db and 127.0.0.1:8080."""
    settings = load_settings(None, environ={})
    assert (settings.database_url, settings.host, settings.port) == ("sqlite:///intygsgateway.db", "127.0.0.1", 8080)


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    """INTYGSGATEWAY_* variables win over the TOML file; lists are comma-separated."""
    config = _file(
        tmp_path, 'database_url = "sqlite:///from-file.db"\nport = 9000\nvalidation_persons = ["191212121212"]\n'
    )
    settings = load_settings(config, environ={"INTYGSGATEWAY_PORT": "9100", "INTYGSGATEWAY_VALIDATION_PERSONS": "1,2"})
    assert settings.database_url == "sqlite:///from-file.db"
    assert settings.port == 9100
    assert settings.validation_persons == ("1", "2")


def test_flags_override_everything_but_absent_flags_do_not() -> None:
    """replace() applies given flags and ignores None (flag not given)."""
    settings = load_settings(None, environ={"INTYGSGATEWAY_DATABASE_URL": "sqlite:///env.db"})
    assert settings.replace(database_url=None, port=1234).database_url == "sqlite:///env.db"
    assert settings.replace(database_url="sqlite:///flag.db").database_url == "sqlite:///flag.db"


def test_a_fractional_port_in_the_file_is_refused_instead_of_truncated(tmp_path: Path) -> None:
    """`port = 8080.9` used to become 8080; now it names the setting, the file and what is accepted."""
    config = _file(tmp_path, "port = 8080.9\n")
    error = _refused(config)
    assert (error.setting, error.source, error.value) == ("port", f"file {config}", 8080.9)
    assert error.accepted == "an integer from 1 to 65535"
    assert str(error) == f"port from file {config}: 8080.9 is not an integer from 1 to 65535"


@pytest.mark.parametrize("line", ["threads = true", "port = true", "workers = false"])
def test_a_toml_boolean_is_never_an_integer(tmp_path: Path, line: str) -> None:
    """`threads = true` used to become 1 and switch the server to sync workers; now it is refused."""
    error = _refused(_file(tmp_path, line + "\n"))
    assert error.setting == line.split(" ")[0] and isinstance(error.value, bool)
    assert "integer" in str(error)


def test_a_toml_string_is_not_a_number(tmp_path: Path) -> None:
    """The file has types: a quoted port is a string, even though the same text is fine in the environment."""
    assert _refused(_file(tmp_path, 'port = "8080"\n')).value == "8080"
    assert load_settings(None, environ={"INTYGSGATEWAY_PORT": "8080"}).port == 8080


def test_a_misspelt_log_format_is_refused_with_the_formats_there_are(tmp_path: Path) -> None:
    """`log_format = "jsno"` used to give console output; now the error lists json, console and ecs."""
    error = _refused(_file(tmp_path, 'log_format = "jsno"\n'))
    assert (error.setting, error.value, error.accepted) == ("log_format", "jsno", "one of: json, console, ecs")
    assert str(error).endswith('"jsno" is not one of: json, console, ecs')


def test_an_unknown_log_level_is_refused_from_the_file_and_the_environment(tmp_path: Path) -> None:
    """A level the logger does not have used to fall back to info silently."""
    assert _refused(_file(tmp_path, 'log_level = "verbose"\n')).accepted == "one of: debug, info, warning, error"
    error = _refused(environ={"INTYGSGATEWAY_LOG_LEVEL": "trace"})
    assert (error.setting, error.source, error.value) == ("log_level", "environment INTYGSGATEWAY_LOG_LEVEL", "trace")


def test_an_unknown_key_in_the_file_suggests_the_closest_setting(tmp_path: Path) -> None:
    """A typo in the file is reported with the setting that was probably meant."""
    config = _file(tmp_path, "databse_url = 'x'\n")
    error = _refused(config)
    assert (error.setting, error.source, error.suggestion) == ("databse_url", f"file {config}", "database_url")
    assert str(error) == f"databse_url from file {config}: unknown setting; did you mean database_url?"


def test_an_unknown_key_far_from_every_setting_gets_no_suggestion(tmp_path: Path) -> None:
    """Nothing is suggested when no setting is close; a table is an unknown key like any other."""
    assert _refused(_file(tmp_path, "colour = 'red'\n")).suggestion is None
    assert _refused(_file(tmp_path, "[server]\nport = 80\n")).setting == "server"


def test_a_file_that_is_not_toml_names_the_file_and_the_line(tmp_path: Path) -> None:
    """A syntax error says where it is, and no setting is named because none could be read."""
    config = _file(tmp_path, "port = 8080\nhost = \n")
    error = _refused(config)
    assert (error.setting, error.source) == (None, f"file {config}")
    assert str(error).startswith(f"file {config}: not valid TOML") and "line 2" in str(error)


def test_a_missing_file_is_refused_naming_it(tmp_path: Path) -> None:
    """A --config that points nowhere is an error, not an empty file."""
    missing = tmp_path / "missing.toml"
    error = _refused(str(missing))
    assert error.source == f"file {missing}" and "cannot be read" in str(error)


@pytest.mark.parametrize(("line", "accepted"), [
    ("workers = -1", "an integer of 0 or more"),
    ("threads = 0", "an integer of 1 or more"),
    ("port = 65536", "an integer from 1 to 65535"),
    ("max_request_bytes = 0", "an integer of 1 or more"),
    ("directory_cache_seconds = 1.5", "an integer of 0 or more"),
    ("routing_max_shrink = 1.5", "a number from 0 to 1"),
    ("routing_max_shrink = -0.1", "a number from 0 to 1"),
    ("resend_poll_seconds = 0", "a number above 0"),
    ("resend_read_timeout_seconds = inf", "a number above 0"),
    ("pdl_seal_seconds = -1", "a number of 0 or more"),
    ("pdl_seal_seconds = nan", "a number of 0 or more"),
    ('tls_require_client_cert = "yes"', "true or false"),
    ("internal_api_remote = 1", "true or false"),
    ('tls_client_ca = "ca.pem"', "a list of file paths"),
    ('tls_client_ca = ["ca.pem", 1]', "a list of file paths"),
    ('producer_addresses = [""]', "a list of HSA-ids"),
    ('trusted_proxies = ["10.0.0.300"]', "a list of IP addresses or networks"),
    ('access_control = "sometimes"', "one of: auto, on, off"),
    ('resend_schedule = "1m,5x"', "delays such as 1m,5m,1h,1d* (units s, m, h, d; * repeats the last)"),
    ('resend_max_age = "forever"', "a duration such as 30d (units s, m, h, d)"),
    ('database_url = "intygsgateway.db"', "a database URL such as sqlite:///FILE"),
    ('host = ""', "a non-empty string"),
    ("system_hsa_id = 42", "a non-empty string"),
    ('proxy_cert_header = "x vp cert"', "an HTTP header name"),
    ("tls_cert = false", "a file path, or empty"),
])
def test_a_value_outside_its_rule_in_the_file_is_refused(tmp_path: Path, line: str, accepted: str) -> None:
    """Each kind of setting refuses a wrong type or a value out of range, naming setting, file and rule."""
    config = _file(tmp_path, line + "\n")
    error = _refused(config)
    assert (error.setting, error.source, error.accepted) == (line.split(" ")[0], f"file {config}", accepted)
    assert str(error).startswith(f"{error.setting} from file {config}: ")


@pytest.mark.parametrize(("setting", "text", "accepted"), [
    ("port", "8080.9", "an integer from 1 to 65535"),
    ("port", "0", "an integer from 1 to 65535"),
    ("port", "1_000", "an integer from 1 to 65535"),
    ("threads", "true", "an integer of 1 or more"),
    ("workers", "-1", "an integer of 0 or more"),
    ("internal_api_remote", "maybe", "one of: true, yes, 1, false, no, 0 (any case)"),
    ("routing_max_shrink", "nan", "a number from 0 to 1"),
    ("resend_poll_seconds", "soon", "a number above 0"),
    ("log_format", "jsno", "one of: json, console, ecs"),
    ("database_url", "", "a database URL such as sqlite:///FILE"),
    ("trusted_proxies", "10.0.0.1,10.0.0.0/33", "IP addresses or networks separated by commas"),
])
def test_a_wrong_environment_value_names_the_variable(setting: str, text: str, accepted: str) -> None:
    """The error names the variable and shows the text exactly as it was received."""
    variable = "INTYGSGATEWAY_" + setting.upper()
    error = _refused(environ={variable: text})
    assert (error.setting, error.source, error.value, error.accepted) == (
        setting, f"environment {variable}", text, accepted
    )
    assert f"{setting} from environment {variable}: " in str(error)


def test_valid_files_and_environments_load_as_before(tmp_path: Path) -> None:
    """Integers for numbers, TOML booleans and lists, and the usual environment spellings all still load."""
    config = _file(tmp_path, """
port = 9000
workers = 0
threads = 1
pdl_seal_seconds = 0
routing_max_shrink = 1
resend_poll_seconds = 0.25
tls_require_client_cert = true
tls_client_ca = ["a.pem", "b.pem"]
access_control = "OFF"
log_level = "warning"
resend_schedule = "30s, 2m, 1D*"
trusted_proxies = ["10.0.0.1", "10.20.0.0/16", "::1"]
proxy_cert_header = "X-Forwarded-Tls-Client-Cert"
""")
    environ = {
        "INTYGSGATEWAY_INTERNAL_API_REMOTE": "Yes", "INTYGSGATEWAY_TLS_REQUIRE_CLIENT_CERT": "0",
        "INTYGSGATEWAY_RESEND_CONNECT_TIMEOUT_SECONDS": "1", "INTYGSGATEWAY_RESEND_BATCH_SIZE": " 20 ",
        "INTYGSGATEWAY_PRODUCER_ADDRESSES": "SE1-A, SE1-B,", "INTYGSGATEWAY_LOG_FORMAT": "Console",
    }
    settings = load_settings(config, environ=environ)
    assert (settings.port, settings.workers, settings.threads) == (9000, 0, 1)
    assert settings.pdl_seal_seconds == 0.0 and isinstance(settings.pdl_seal_seconds, float)
    assert (settings.routing_max_shrink, settings.resend_poll_seconds) == (1.0, 0.25)
    assert settings.tls_client_ca == ("a.pem", "b.pem") and settings.tls_require_client_cert is False
    assert (settings.access_control, settings.log_level, settings.log_format) == ("off", "warning", "console")
    assert settings.resend_schedule == "30s, 2m, 1D*"
    assert settings.internal_api_remote is True and settings.resend_connect_timeout_seconds == 1.0
    assert settings.resend_batch_size == 20 and settings.producer_addresses == ("SE1-A", "SE1-B")


@pytest.mark.parametrize("text", ["1", "true", "TRUE", "yes", "Yes"])
def test_environment_booleans_take_the_usual_spellings(text: str) -> None:
    """1/0, true/false and yes/no in any case; the opposite spellings give False."""
    assert load_settings(None, environ={"INTYGSGATEWAY_INTERNAL_API_REMOTE": text}).internal_api_remote is True
    opposite = {"1": "0", "true": "false", "TRUE": "FALSE", "yes": "no", "Yes": "No"}[text]
    assert load_settings(None, environ={"INTYGSGATEWAY_INTERNAL_API_REMOTE": opposite}).internal_api_remote is False


def test_personnummer_and_tokens_are_not_echoed_in_errors(tmp_path: Path) -> None:
    """A wrong validation_persons or internal_api_token value is named but not shown."""
    for line in ("validation_persons = 191212121212", "internal_api_token = 987654321"):
        error = _refused(_file(tmp_path, line + "\n"))
        assert error.value == "<hidden>"
        assert line.split(" = ")[1] not in str(error) and "<hidden>" in str(error)
    assert "sesame" not in repr(Settings(internal_api_token="sesame"))


def test_an_error_message_is_one_line_whatever_the_value() -> None:
    """A value with a line break is quoted, so the CLI's one-line error stays one line."""
    error = _refused(environ={"INTYGSGATEWAY_LOG_FORMAT": "js\non"})
    assert "\n" not in str(error)


def test_settings_built_in_code_are_checked_and_normalised() -> None:
    """Settings(...) applies the same rules, names itself as the source, and stores 0 as 0.0 for a number."""
    with pytest.raises(SettingsError) as refused:
        Settings(port=0)
    assert (refused.value.setting, refused.value.source) == ("port", "Settings()")
    assert Settings(pdl_seal_seconds=0).pdl_seal_seconds == 0.0
    assert Settings(access_control="On").access_control == "on"


def _settings_table() -> tuple[list[str], list[list[str]]]:
    section = README.read_text(encoding="utf-8").split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    header, _rule, *rows = [line for line in section.splitlines() if line.startswith("|")]
    return _cells(header), [_cells(row) for row in rows]


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split(" | ")]


def _as_in_toml(value: object) -> str:
    if isinstance(value, tuple):
        return ",".join(str(item) for item in value)
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def test_the_readme_table_shows_every_setting_with_its_default_and_rule() -> None:
    """One row per setting in declaration order, with its variable, default and exact `accepted` text."""
    header, rows = _settings_table()
    assert header == ["setting", "environment variable", "default", "accepted", "meaning"]
    assert [row[0] for row in rows] == [spec.name for spec in SPECS]
    for spec, (_name, variable, default, accepted, meaning) in zip(SPECS, rows, strict=True):
        assert variable == f"`{spec.env_name}`", spec.name
        if spec.default in ("", ()):
            assert default.startswith("empty"), spec.name
        else:
            assert default == f"`{_as_in_toml(spec.default)}`", spec.name
        assert accepted.replace("`", "") == spec.kind.accepted, spec.name
        assert meaning, spec.name
