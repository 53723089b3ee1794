"""``intygsgateway types show``: each type's activation and lock period, and for a unit whether it is active."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from cli import main
from cli.serve import load_demo_directory


@pytest.fixture
def types_file(tmp_path: Path) -> Path:
    text = resources.files("domain").joinpath("certificate_types.toml").read_text(encoding="utf-8")
    text = text.replace('[certificate_types.ITFP]  # FK7472', '[certificate_types.ITFP]  # FK7472\ndraft_lock_days = 0')
    text += '\n[certificate_types.ITFP.activation]\nfrom = 2024-09-16\nunits = ["SE2321000016-1000"]\n'
    path = tmp_path / "types.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _types(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    out = capsys.readouterr().out
    types: list[dict[str, Any]] = json.loads(out[out.index("{\n"):])["types"]
    return types


def test_show_prints_the_rule_and_judges_a_unit(
    db_url: str, types_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pilot type is active at the pilot unit's sub-unit and not at another unit; its lock period shows."""
    load_demo_directory(db_url)
    monkeypatch.setenv("INTYGSGATEWAY_CERTIFICATE_TYPES_FILE", str(types_file))
    monkeypatch.setenv("INTYGSGATEWAY_DRAFT_LOCK_DAYS", "21")
    assert main(["types", "show", "ITFP", "--unit", "SE2321000016-1003", "--on", "2025-01-01", "--db", db_url]) == 0
    out = capsys.readouterr().out
    assert "ITFP: Intyg om tillfällig föräldrapenning -> FKASSA; lock never; from 2024-09-16 pilot: unit" in out
    assert "at SE2321000016-1003 on 2025-01-01: active" in out
    assert main(["types", "show", "ITFP", "--unit", "SE2321000016-2000", "--json", "--db", db_url]) == 0
    (itfp,) = _types(capsys)
    assert (itfp["state"], itfp["draftLockDays"], itfp["activation"]["units"]) == (
        "NOT_IN_PILOT", 0, ["SE2321000016-1000"]
    )
    assert main(["types", "show", "LISJP", "--json", "--db", db_url]) == 0
    (lisjp,) = _types(capsys)
    assert (lisjp["draftLockDays"], lisjp["rule"]) == (21, "always for every unit")


def test_an_unknown_code_or_unit_exits_1(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """One line on stderr each."""
    assert main(["types", "show", "NOSUCH", "--db", db_url]) == 1
    assert main(["types", "show", "LISJP", "--unit", "SE-NOWHERE", "--db", db_url]) == 1
    assert capsys.readouterr().err.count("intygsgateway: ") == 2
