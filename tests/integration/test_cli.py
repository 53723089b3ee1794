"""The intygsgateway command: help everywhere, migrations, directory import, and a real `serve`."""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from importlib import resources
from pathlib import Path

import pytest

from cli import build_parser, db_transport, main
from tests.envelopes import create_draft_envelope
from tests.integration.processes import stop

BIN = Path(sys.executable).parent / "intygsgateway"


def _subcommands() -> list[list[str]]:
    found: list[list[str]] = [[]]

    def walk(parser: object, prefix: list[str]) -> None:
        for action in getattr(parser, "_actions", []):
            if not isinstance(action, argparse._SubParsersAction):
                continue  # an option's choices (a list of values) are not subcommands
            for name, sub in action.choices.items():
                if hasattr(sub, "_actions"):
                    found.append([*prefix, name])
                    walk(sub, [*prefix, name])

    walk(build_parser(), [])
    return found


@pytest.mark.parametrize("command", _subcommands(), ids=lambda c: " ".join(c) or "top")
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """`--help` works on every command and subcommand and says what it does."""
    with pytest.raises(SystemExit) as done:
        main([*command, "--help"])
    assert done.value.code == 0
    assert "usage: intygsgateway" in capsys.readouterr().out


def test_db_upgrade_and_check(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`db upgrade` is idempotent and `db check` finds the models and migrations in step."""
    assert main(["db", "upgrade", "--db", db_url]) == 0
    assert main(["db", "upgrade", "--db", db_url]) == 0
    assert main(["db", "check", "--db", db_url]) == 0
    assert "agree" in capsys.readouterr().out


def test_directory_import_reports_the_bad_record_and_imports_nothing(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad record is named on stderr with exit 1; a good file then imports with counts printed."""
    data = json.loads(resources.files("cli").joinpath("demo_directory.json").read_text(encoding="utf-8"))
    data["personnel"][2]["hsaId"] = ""
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    assert main(["directory", "import", str(bad), "--db", db_url]) == 1
    assert "personnel[2]" in capsys.readouterr().err

    good = tmp_path / "good.json"
    good.write_text(
        resources.files("cli").joinpath("demo_directory.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    assert main(["directory", "import", str(good), "--db", db_url, "--dry-run"]) == 0
    assert "would import" in capsys.readouterr().out
    assert main(["directory", "import", str(good), "--db", db_url]) == 0
    assert "imported" in capsys.readouterr().out


def test_unreadable_config_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing config file exits 2 with one line on stderr."""
    assert main(["db", "upgrade", "--config", str(tmp_path / "missing.toml")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize(("config", "flags", "named"), [
    ("port = 8080.9\n", [], "port from file {config}: 8080.9 is not an integer from 1 to 65535"),
    ("threads = true\n", [], "threads from file {config}: true is not an integer of 1 or more"),
    ("", ["--port", "0"], "port from flag --port: 0 is not an integer from 1 to 65535"),
], ids=["float port", "boolean threads", "port flag 0"])
def test_serve_with_a_bad_setting_exits_2_before_serving(
    tmp_path: Path, config: str, flags: list[str], named: str
) -> None:
    """The real command stops at once with exit 2 and one stderr line naming setting, source and rule."""
    config_file = tmp_path / "gw.toml"
    config_file.write_text(config, encoding="utf-8")
    env = {name: value for name, value in os.environ.items() if not name.startswith("INTYGSGATEWAY_")}
    done = subprocess.run([str(BIN), "serve", "--config", str(config_file), *flags], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr == f"intygsgateway: {named.format(config=config_file)}\n"
    assert not (tmp_path / "intygsgateway.db").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


def test_serve_runs_gunicorn_workers_with_demo_data(tmp_path: Path) -> None:
    """`serve --demo` migrates, loads demo data, answers probes and creates a draft over HTTP."""
    port = _free_port()
    env = {**os.environ, "INTYGSGATEWAY_LOG_LEVEL": "warning"}
    server = subprocess.Popen(
        [str(BIN), "serve", "--demo", "--port", str(port), "--workers", "2"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = _get(f"{base}/readyz")
                break
            except OSError as error:
                if time.monotonic() > deadline or server.poll() is not None:
                    assert server.stderr is not None
                    stderr = server.stderr.read().decode(errors="replace") if server.poll() is not None else ""
                    raise AssertionError(f"serve did not come up: {stderr}") from error
                time.sleep(0.2)
        ready = json.loads(body)
        assert status == 200 and ready["directory"]["producedAt"] is not None
        assert _get(f"{base}/healthz")[0] == 200
        request = urllib.request.Request(
            f"{base}/services/create-draft-certificate/v3.0",
            data=create_draft_envelope(),
            method="POST",
            headers={"Content-Type": "text/xml"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert b">OK<" in response.read()
        assert (tmp_path / "intygsgateway.db").exists()
    finally:
        try:
            stop(server)
        finally:
            server.stderr.close()  # type: ignore[union-attr]


def test_db_check_says_when_the_database_answers_are_paced(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over loopback TCP with BBR `db check` adds the advice (and still succeeds); with another algorithm not."""
    assert main(["db", "upgrade", "--db", db_url]) == 0
    capsys.readouterr()
    for algorithm, noted in (("bbr", db_transport.over_loopback_tcp(db_url)), ("cubic", False)):
        monkeypatch.setattr(db_transport, "loopback_congestion_control", lambda name=algorithm: name)
        assert main(["db", "check", "--db", db_url]) == 0
        out = capsys.readouterr().out
        assert "agree" in out
        assert ("Unix socket" in out) is noted, (algorithm, out)
