"""``intygsgateway recipients list``, and a deployment's own recipients file (``recipients_file``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.settings import Settings, SettingsError
from cli.wiring import onward_config
from domain.onward import OnwardTarget

BIN = Path(sys.executable).parent / "intygsgateway"
OWN = """
[recipients.FKASSA]
name = "Försäkringskassan"
logical_address = "2021005521"
certificate_types = ["LISJP"]
active = false

[recipients.SKV]
name = "Skatteverket"
logical_address = "2021000001"
certificate_types = ["DB"]
active = true
"""


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("INTYGSGATEWAY_")} | env
    return subprocess.run([str(BIN), *args], env=clean, capture_output=True, text=True, timeout=60, check=False)


def test_the_shipped_recipients_are_listed_with_where_calls_go() -> None:
    done = _run("recipients", "list", "--json", INTYGSGATEWAY_ONWARD_TARGET="archive")
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert (listed["onwardTarget"], listed["archiveLogicalAddress"]) == ("archive", "5565594230")
    assert [(r["id"], r["logicalAddress"], r["active"], r["callsGoTo"]) for r in listed["recipients"]] == [
        ("FKASSA", "2021005521", True, "5565594230"), ("TRANSP", "2021006099", True, "5565594230")]
    assert "LISJP" in listed["recipients"][0]["certificateTypes"]
    plain = _run("recipients", "list")
    assert plain.returncode == 0 and "FKASSA     2021005521" in plain.stdout


def test_a_deployments_own_file_replaces_the_registry(tmp_path: Path) -> None:
    own = tmp_path / "recipients.toml"
    own.write_text(OWN, encoding="utf-8")
    config = onward_config(Settings(recipients_file=str(own)))
    assert config.target is OnwardTarget.RECIPIENT
    assert [(r.id, r.active) for r in config.recipients] == [("FKASSA", False), ("SKV", True)]
    done = _run("recipients", "list", "--json", INTYGSGATEWAY_RECIPIENTS_FILE=str(own))
    assert [r["id"] for r in json.loads(done.stdout)["recipients"]] == ["FKASSA", "SKV"]


@pytest.mark.parametrize("text", ["[recipients.FKASSA]\nname = 'FK'\n", "not toml ["])
def test_a_broken_file_stops_the_start_naming_the_setting(tmp_path: Path, text: str) -> None:
    broken = tmp_path / "recipients.toml"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError) as refused:
        onward_config(Settings(recipients_file=str(broken)))
    assert refused.value.setting == "recipients_file"
    done = _run("recipients", "list", INTYGSGATEWAY_RECIPIENTS_FILE=str(broken))
    assert done.returncode == 2 and "recipients_file" in done.stderr
