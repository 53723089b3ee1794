"""Certificate type activation end to end: a pilot refused outside its units and before its day,
accepted inside, and a changed registry file served without a restart."""

from __future__ import annotations

import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from lxml import etree

from contracts.ns import CORE, CREATE_DRAFT_V3
from domain import result_texts as texts
from tests.envelopes import create_draft_envelope
from tests.integration.gateway_server import Gateway, demo_gateway_deps, running

DENTIST = "SE2321000016-P005"  # the demo's only user with an assignment on unit 2000
PILOT_UNIT, SUB_UNIT, OTHER_UNIT = "SE2321000016-1000", "SE2321000016-1003", "SE2321000016-2000"


def _registry_with_lisjp(activation: str) -> str:
    base = resources.files("domain").joinpath("certificate_types.toml").read_text(encoding="utf-8")
    return base + f"\n[certificate_types.LISJP.activation]\n{activation}\n"


def _write(path: Path, text: str) -> None:
    """As an operator should: a finished file moved into place."""
    part = path.with_suffix(".part")
    part.write_text(text, encoding="utf-8")
    part.replace(path)


@pytest.fixture
def types_file(tmp_path: Path) -> Path:
    path = tmp_path / "types.toml"
    _write(path, _registry_with_lisjp(f'from = 2024-09-16\nunits = ["{PILOT_UNIT.lower()}"]'))
    return path


@pytest.fixture
def gateway(db_url: str, types_file: Path) -> Iterator[Gateway]:
    _, deps = demo_gateway_deps(db_url, certificate_types_file=str(types_file), certificate_types_check_seconds=0.05)
    with running(deps, db_url) as gateway:
        yield gateway


def _answer(gateway: Gateway, unit: str, user: str = "SE2321000016-P001") -> tuple[str | None, str | None, str]:
    before = gateway.row_counts()
    status, envelope, _ = gateway.post(create_draft_envelope(user_hsa_id=user, unit_hsa_id=unit))
    assert status == 200
    result = envelope.find(f".//{{{CREATE_DRAFT_V3}}}result")
    assert result is not None, etree.tostring(envelope)
    code = result.findtext(f"{{{CORE}}}resultCode")
    if code != "OK":
        assert gateway.row_counts() == before  # a refusal stores nothing
    return code, result.findtext(f"{{{CORE}}}errorId"), result.findtext(f"{{{CORE}}}resultText") or ""


def test_a_pilot_type_is_accepted_in_its_units_and_refused_elsewhere(gateway: Gateway) -> None:
    """The pilot unit and its sub-unit create LISJP; another vårdenhet gets APPLICATION_ERROR saying for whom."""
    assert _answer(gateway, PILOT_UNIT)[0] == "OK"
    assert _answer(gateway, SUB_UNIT)[0] == "OK"
    code, error_id, text = _answer(gateway, OTHER_UNIT, DENTIST)
    assert (code, error_id) == ("ERROR", "APPLICATION_ERROR")
    assert text.startswith("Intygstypen Läkarintyg för sjukpenning (LISJP) i intyg/typAvIntyg är från och med "
                           "2024-09-16")
    assert "bara för enheterna se2321000016-1000 med underenheter" in text
    assert OTHER_UNIT in text


def test_a_changed_file_takes_effect_without_a_restart(gateway: Gateway, types_file: Path) -> None:
    """Moving the go-live into the future refuses the pilot unit too (not yet active); removing it opens everything."""
    assert _answer(gateway, PILOT_UNIT)[0] == "OK"
    _write(types_file, _registry_with_lisjp(f'from = 2099-01-01\nunits = ["{PILOT_UNIT}"]'))
    time.sleep(0.2)
    code, error_id, text = _answer(gateway, PILOT_UNIT)
    assert (code, error_id) == ("ERROR", "APPLICATION_ERROR")
    assert texts.TYPE_NOT_YET_ACTIVE.sv.split("{")[0] in text and "2099-01-01" in text
    _write(types_file, _registry_with_lisjp("from = 2024-09-16"))  # the national roll-out
    time.sleep(0.2)
    assert _answer(gateway, OTHER_UNIT, DENTIST)[0] == "OK"


def test_a_phased_out_type_is_refused_with_its_last_day(db_url: str, tmp_path: Path) -> None:
    """A type past its `to` day answers CDC-TYPE-ENDED naming that day."""
    path = tmp_path / "types.toml"
    _write(path, _registry_with_lisjp("from = 2020-01-01\nto = 2021-12-31"))
    _, deps = demo_gateway_deps(db_url, certificate_types_file=str(path))
    with running(deps, db_url) as gateway:
        code, error_id, text = _answer(gateway, PILOT_UNIT)
    assert (code, error_id) == ("ERROR", "APPLICATION_ERROR")
    assert texts.TYPE_ENDED.sv.split("{")[0] in text and "2021-12-31" in text
