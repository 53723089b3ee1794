"""``intygsgateway directory check``: each unit check fires on a crafted HSA unit file, none on the demo
directory; findings warned after an import, exit 1 and JSON on demand, logged by the monthly job."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from structlog.testing import capture_logs

from cli import main
from cli.serve import load_demo_directory
from domain.directory import CareGiver
from domain.values import HsaId
from store.certificates import add_certificate
from store.session import UnitOfWork, transaction
from store.units import register_integrated_unit
from tests.builders import make_operable_draft
from usecases.directory_check import directory_check_job

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _unit(hsa_id: str, dn: str, *extra: str) -> str:
    return f"<hsaUnit><hsaIdentity>{hsa_id}</hsaIdentity><DN>{dn}</DN>{''.join(extra)}</hsaUnit>"


def _flag(name: str) -> str:
    return f"<{name}>true</{name}>"


def _named(care_giver: str) -> str:
    return f"<hsaResponsibleHealthCareProvider>{care_giver}</hsaResponsibleHealthCareProvider>"


def _members(*ids: str) -> str:
    inner = "".join(f"<hsaHealthCareUnitMember><hsaIdentity>{i}</hsaIdentity></hsaHealthCareUnitMember>" for i in ids)
    return f"<hsaHealthCareUnitMembers>{inner}</hsaHealthCareUnitMembers>"


def _file(*units: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<ns2:FileGetHsaUnitsResponse xmlns:ns2="urn:riv:hsa:HsaWsResponder:3"'
            ' xmlns="urn:riv:hsa:HsaWsResponder:3">'
            f"<startDate>2026-11-30T01:25:00</startDate><hsaUnits>{''.join(units)}</hsaUnits>"
            "</ns2:FileGetHsaUnitsResponse>").encode()


CARE, UNIT, PROVIDER = "isHsaHealthCareUnit", "isHsaHealthCareUnit", "isHsaHealthCareProvider"
COUNTY = "l=Testlän,c=SE"
REGION1, REGION2, REGION3 = f"o=Region 1,{COUNTY}", f"o=Region 2,{COUNTY}", f"o=Region 3,{COUNTY}"
# One fault per check: VE1 lists care unit VE2 (1) and care giver VG3 (4); VE2 names unit MO1 as its
# care giver (2) and shares MO1 with VE1 (3); VG2 is care giver and care unit (5); VE3 stands outside
# every care giver and names none (6).
CRAFTED = _file(
    _unit("SE-VG1", REGION1, _flag(PROVIDER)),
    _unit("SE-VG2", REGION2, _flag(PROVIDER), _flag(CARE), _named("SE-VG2")),
    _unit("SE-VG3", REGION3, _flag(PROVIDER)),
    _unit("SE-VE1", f"ou=VC1,{REGION1}", _flag(CARE), _named("SE-VG1"), _members("SE-VE2", "SE-MO1", "SE-VG3")),
    _unit("SE-VE2", f"ou=VC2,{REGION1}", _flag(CARE), _named("SE-MO1"), _members("SE-MO1")),
    _unit("SE-MO1", f"ou=Mott,ou=VC1,{REGION1}"),
    _unit("SE-VE3", f"ou=Fristående,{COUNTY}", _flag(CARE)),
)
SIX = {"CARE_UNITS_LINKED", "CARE_GIVER_NOT_A_CARE_GIVER", "UNIT_IN_SEVERAL_CARE_UNITS",
       "CARE_GIVER_LINKED_AS_UNIT", "CARE_GIVER_AND_CARE_UNIT", "UNIT_WITHOUT_CARE_GIVER"}


def _check_json(db_url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict[str, object]]]:
    capsys.readouterr()
    code = main(["directory", "check", "--json", "--db", db_url])
    out = capsys.readouterr().out
    return code, json.loads(out[out.index('{\n'):])["findings"]


def test_each_unit_check_fires_on_a_crafted_hsa_file(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The import succeeds with six warnings; the check exits 1 and finds exactly one of each."""
    path = tmp_path / "hsa.xml"
    path.write_bytes(CRAFTED)
    assert main(["directory", "import", str(path), "--db", db_url]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning:" in line]
    assert {line.split(": ")[2] for line in warnings} == SIX and len(warnings) == 6
    code, findings = _check_json(db_url, capsys)
    assert code == 1
    assert sorted((f["kind"], f["subject"], tuple(f["related"])) for f in findings) == sorted([  # type: ignore[arg-type]
        ("CARE_UNITS_LINKED", "SE-VE1", ("SE-VE2",)),
        ("CARE_GIVER_LINKED_AS_UNIT", "SE-VE1", ("SE-VG3",)),
        ("CARE_GIVER_NOT_A_CARE_GIVER", "SE-VE2", ("SE-MO1",)),
        ("UNIT_IN_SEVERAL_CARE_UNITS", "SE-MO1", ("SE-VE1", "SE-VE2")),
        ("CARE_GIVER_AND_CARE_UNIT", "SE-VG2", ()),
        ("UNIT_WITHOUT_CARE_GIVER", "SE-VE3", ()),
    ])
    assert main(["directory", "check", "--db", db_url]) == 1
    text = capsys.readouterr().out
    assert "UNIT_WITHOUT_CARE_GIVER: care unit SE-VE3 has no care giver" in text and "6 finding(s)" in text


def test_the_demo_directory_has_no_findings(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The JSON demo directory passes: exit 0, and no warning after its import."""
    demo = Path(__file__).resolve().parents[2] / "cli" / "demo_directory.json"
    assert main(["directory", "import", str(demo), "--db", db_url]) == 0
    assert "warning" not in capsys.readouterr().err
    assert main(["directory", "check", "--db", db_url]) == 0
    assert "no findings" in capsys.readouterr().out


def _certificate_of(session_factory: sessionmaker[Session], care_giver: str, certificate_id: str) -> None:
    draft = make_operable_draft(certificate_id, NOW)
    owner = CareGiver(HsaId(care_giver), "Gammal region")
    with transaction(session_factory) as session:
        add_certificate(session, replace(draft, care_giver=owner, unit=replace(draft.unit, care_giver=owner.hsa_id)))


def test_a_care_giver_gone_from_hsa_with_certificates_and_a_missing_integrated_unit_are_found(
    db_url: str, session_factory: sessionmaker[Session], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second file without Region 3 marks it gone (imports never delete); its certificates are reported,
    and so is an integrated unit the directory does not hold."""
    healthy = _file(_unit("SE-VG1", REGION1, _flag(PROVIDER)), _unit("SE-VG3", REGION3, _flag(PROVIDER)),
                    _unit("SE-VE1", f"ou=VC1,{REGION1}", _flag(CARE), _named("SE-VG1")))
    first, second = tmp_path / "first.xml", tmp_path / "second.xml"
    first.write_bytes(healthy)
    second.write_bytes(healthy.replace(_unit("SE-VG3", REGION3, _flag(PROVIDER)).encode(), b""))
    assert main(["directory", "import", str(first), "--db", db_url]) == 0
    _certificate_of(session_factory, "se-vg3", "held-1")
    _certificate_of(session_factory, "SE-VG3", "held-2")
    assert _check_json(db_url, capsys) == (0, [])
    assert main(["directory", "import", str(second), "--db", db_url]) == 0
    assert "CARE_GIVER_GONE" in capsys.readouterr().err
    with transaction(session_factory) as session:
        register_integrated_unit(session, HsaId("SE-VE-OLD"), HsaId("SE-VG1"), NOW)
    code, findings = _check_json(db_url, capsys)
    assert code == 1
    assert [(f["kind"], f["subject"], f["count"]) for f in findings] == [
        ("INTEGRATED_UNIT_MISSING", "SE-VE-OLD", None), ("CARE_GIVER_GONE", "SE-VG3", 2),
    ]


def test_the_monthly_job_logs_a_summary_and_each_finding(
    db_url: str, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """The scheduler's run: one directory_checked line with counts per kind, one warning per finding."""
    load_demo_directory(db_url)
    with transaction(session_factory) as session:
        register_integrated_unit(session, HsaId("SE2321000016-1003"), HsaId("SE2321000016-0001"), NOW)
    with capture_logs() as logs:
        findings = directory_check_job(UnitOfWork(session_factory))()
    assert [f.kind.value for f in findings] == ["UNIT_WITHOUT_ARBETSPLATSKOD"]
    summary = [e for e in logs if e["event"] == "directory_checked"]
    assert summary[0]["kinds"] == {"UNIT_WITHOUT_ARBETSPLATSKOD": 1} and summary[0]["trigger"] == "schedule"
    (warning,) = [e for e in logs if e["event"] == "directory_finding"]
    assert (warning["subject"], warning["log_level"]) == ("SE2321000016-1003", "warning")
