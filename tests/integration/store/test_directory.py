"""The directory import (upsert, all or nothing, references into the database) and SqlDirectory."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from domain.directory import Assignment, DirectoryUnavailable
from domain.directory_import import DirectoryFormatError, parse_directory_document
from domain.values import HsaId, PersonId, PersonIdKind
from store.directory import SqlDirectory, directory_produced_at, import_directory
from store.errors import DirectoryImportError
from store.session import make_engine, make_session_factory, transaction

DEMO = Path(__file__).resolve().parents[3] / "cli" / "demo_directory.json"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def demo_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEMO.read_text(encoding="utf-8"))
    return data


def load(factory: sessionmaker[Session], data: dict[str, Any], now: datetime = NOW) -> None:
    with transaction(factory) as session:
        import_directory(session, parse_directory_document(data), now)


def test_import_round_trips_every_record(session_factory: sessionmaker[Session]) -> None:
    """Every record of the demo document reads back from SqlDirectory exactly as parsed."""
    document = parse_directory_document(demo_data())
    with transaction(session_factory) as session:
        summary = import_directory(session, document, NOW)
    assert (summary.care_givers, summary.units, summary.personnel, summary.patients) == (1, 3, 6, 5)
    directory = SqlDirectory(session_factory)
    for care_giver in document.care_givers:
        assert directory.care_giver(care_giver.hsa_id) == care_giver
    for unit in document.units:
        assert directory.unit(unit.hsa_id) == unit
    for person in document.personnel:
        assert directory.personnel(person.hsa_id) == person
    for patient in document.patients:
        assert directory.person(patient.person_id) == patient
    with transaction(session_factory) as session:
        assert directory_produced_at(session) == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def test_produced_at_defaults_to_the_import_time(session_factory: sessionmaker[Session]) -> None:
    """Without producedAt the latest import's time stands in; before any import there is none."""
    with transaction(session_factory) as session:
        assert directory_produced_at(session) is None
    data = demo_data()
    del data["producedAt"]
    load(session_factory, data)
    with transaction(session_factory) as session:
        assert directory_produced_at(session) == NOW


def test_second_import_updates_and_replaces_assignments(session_factory: sessionmaker[Session]) -> None:
    """A re-import overwrites names and replaces a person's assignments and codes with the new lists."""
    load(session_factory, demo_data())
    data = demo_data()
    data["producedAt"] = "2026-11-21T08:00:00+01:00"
    data["units"][0]["name"] = "Vårdcentralen Demo Norra"
    dentist = data["personnel"][4]
    dentist["assignments"] = dentist["assignments"][1:]
    dentist["licensedProfessions"] = []
    load(session_factory, data, LATER)

    directory = SqlDirectory(session_factory)
    unit = directory.unit(HsaId("SE2321000016-1000"))
    assert unit is not None and unit.name == "Vårdcentralen Demo Norra"
    person = directory.personnel(HsaId("SE2321000016-P005"))
    assert person is not None
    assert person.assignments == (Assignment(HsaId("SE2321000016-2000"), "Vård och behandling"),)
    assert person.licensed_professions == ()
    with transaction(session_factory) as session:
        assert directory_produced_at(session) == datetime(2026, 11, 21, 7, 0, tzinfo=UTC)


def test_refused_import_leaves_the_database_unchanged(session_factory: sessionmaker[Session]) -> None:
    """A bad reference in the middle of a document refuses it whole, naming the record."""
    load(session_factory, demo_data())
    data = demo_data()
    data["producedAt"] = "2026-11-21T08:00:00Z"
    data["units"][0]["name"] = "Renamed"
    data["patients"][0]["givenName"] = "Renamed"
    data["personnel"][2]["assignments"][0]["unit"] = "SE2321000016-9999"
    with pytest.raises(DirectoryImportError) as raised:
        load(session_factory, data, LATER)
    assert (raised.value.record, raised.value.field) == ("personnel[2]", "assignments[0].unit")

    directory = SqlDirectory(session_factory)
    unit = directory.unit(HsaId("SE2321000016-1000"))
    assert unit is not None and unit.name == "Vårdcentralen Demo"
    patient = directory.person(PersonId(PersonIdKind.PERSONNUMMER, "191212121212"))
    assert patient is not None and patient.given_name == "Tolvan"
    with transaction(session_factory) as session:
        assert directory_produced_at(session) == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def test_malformed_record_is_named_and_nothing_is_parsed() -> None:
    """The parser stops at the first bad record and names it by index, not by personnummer."""
    data = demo_data()
    data["patients"][2]["personId"] = "195206142598"  # wrong check digit
    with pytest.raises(DirectoryFormatError) as raised:
        parse_directory_document(data)
    assert (raised.value.record, raised.value.field) == ("patients[2]", "personId")
    assert "195206142598" not in str(raised.value)


def test_references_to_stored_records_are_accepted(session_factory: sessionmaker[Session]) -> None:
    """A document may refer to a care giver, a parent unit and an assignment unit imported earlier."""
    load(session_factory, demo_data())
    load(session_factory, {
        "units": [{"hsaId": "SE2321000016-1004", "name": "Ny underenhet",
                   "careGiver": "se2321000016-0001", "parent": "SE2321000016-1000"}],
        "personnel": [{"hsaId": "SE2321000016-P007", "name": "Gun Läkare",
                       "licensedProfessions": ["Läkare"],
                       "assignments": [{"unit": "SE2321000016-2000", "purpose": "Vård och behandling"},
                                       {"unit": "SE2321000016-1004", "purpose": "Vård och behandling"}]}],
    })
    directory = SqlDirectory(session_factory)
    unit = directory.unit(HsaId("SE2321000016-1004"))
    assert unit is not None
    assert unit.parent == HsaId("SE2321000016-1000") and unit.care_giver.value == "SE2321000016-0001"
    person = directory.personnel(HsaId("SE2321000016-P007"))
    assert person is not None and len(person.assignments) == 2


def test_unknown_care_giver_is_refused(session_factory: sessionmaker[Session]) -> None:
    """A unit whose care giver is in neither the document nor the database is refused."""
    data = {"units": [{"hsaId": "SE2321000016-3000", "name": "X", "careGiver": "SE2321000016-0002"}]}
    with pytest.raises(DirectoryImportError) as raised:
        load(session_factory, data)
    assert (raised.value.record, raised.value.field) == ("units[0]", "careGiver")


def test_cycle_through_stored_units_is_refused(session_factory: sessionmaker[Session]) -> None:
    """Making a stored unit's parent its own sub-unit would close a cycle and is refused."""
    load(session_factory, demo_data())
    data = {"units": [{"hsaId": "SE2321000016-1000", "name": "Vårdcentralen Demo",
                       "careGiver": "SE2321000016-0001", "parent": "SE2321000016-1003"}]}
    with pytest.raises(DirectoryImportError) as raised:
        load(session_factory, data)
    assert (raised.value.record, raised.value.field) == ("units[0]", "parent")


def test_lookups_ignore_case_and_surrounding_space(session_factory: sessionmaker[Session]) -> None:
    """HSA-ids are found whatever their case and padding, and come back in the stored spelling."""
    load(session_factory, demo_data())
    directory = SqlDirectory(session_factory)
    unit = directory.unit(HsaId("  se2321000016-1000 "))
    assert unit is not None and unit.hsa_id.value == "SE2321000016-1000"
    person = directory.personnel(HsaId("se2321000016-p001"))
    assert person is not None and person.name == "Ann Läkare"
    care_giver = directory.care_giver(HsaId("Se2321000016-0001\t"))
    assert care_giver is not None and care_giver.name == "Region Demo"
    assert directory.unit(HsaId("SE2321000016-9999")) is None
    assert directory.personnel(HsaId("SE2321000016-P999")) is None
    assert directory.person(PersonId(PersonIdKind.PERSONNUMMER, "197705232382")) is None


def test_respelled_hsa_id_updates_the_same_record(session_factory: sessionmaker[Session]) -> None:
    """Importing an HSA-id in another case updates the record and keeps the newest spelling."""
    load(session_factory, demo_data())
    data = demo_data()
    data["careGivers"][0]["hsaId"] = "se2321000016-0001"
    load(session_factory, {"careGivers": data["careGivers"]})
    care_giver = SqlDirectory(session_factory).care_giver(HsaId("SE2321000016-0001"))
    assert care_giver is not None and care_giver.hsa_id.value == "se2321000016-0001"


def test_directory_unavailable_when_the_database_is_down() -> None:
    """SqlDirectory turns an unreachable database into the domain's DirectoryUnavailable."""
    engine = make_engine("postgresql://intygsgateway@127.0.0.1:1/intygsgateway")
    try:
        with pytest.raises(DirectoryUnavailable):
            SqlDirectory(make_session_factory(engine)).unit(HsaId("SE2321000016-1000"))
    finally:
        engine.dispose()


def _broken(change: str) -> dict[str, Any]:
    data = demo_data()
    if change == "unknown-field":
        data["patients"][1]["deceaced"] = True
    elif change == "naive-produced-at":
        data["producedAt"] = "2026-11-20T08:00:00"
    elif change == "duplicate-unit":
        data["units"][2]["hsaId"] = "se2321000016-1000 "
    elif change == "cycle":
        data["units"][0]["parent"] = "SE2321000016-1003"
    elif change == "blank-name":
        data["personnel"][3]["name"] = "  "
    elif change == "string-flag":
        data["patients"][0]["deceased"] = "false"
    elif change == "foreign-parent":
        data["careGivers"].append({"hsaId": "SE2321000016-0002", "name": "Region Annan"})
        data["units"][1]["careGiver"] = "SE2321000016-0002"
    return data


@pytest.mark.parametrize(
    ("change", "record", "field"),
    [
        ("unknown-field", "patients[1]", "deceaced"),
        ("naive-produced-at", "document", "producedAt"),
        ("duplicate-unit", "units[2]", "hsaId"),
        ("cycle", "units[0]", "parent"),
        ("blank-name", "personnel[3]", "name"),
        ("string-flag", "patients[0]", "deceased"),
        ("foreign-parent", "units[1]", "careGiver"),
    ],
)
def test_malformed_documents_name_the_record_and_field(change: str, record: str, field: str) -> None:
    """Each kind of mistake is refused by the parser with the record's index and the field."""
    with pytest.raises(DirectoryFormatError) as raised:
        parse_directory_document(_broken(change))
    assert (raised.value.record, raised.value.field) == (record, field)
