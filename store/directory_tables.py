"""The tables of the embedded directory (HSA and PU), shared by its reader and its importer.

HSA-ids compare case-insensitively, so every HSA table is keyed by ``HsaId.key`` (trimmed and
case-folded) and keeps the spelling of the latest import in ``hsa_id``, which is what goes back on
the wire. References between tables use the key, with foreign keys so that an assignment or a
sub-unit can never point at a unit that is not there.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from domain.values import PersonIdKind
from store.base import Base, BigId


class CareGiverRow(Base):
    __tablename__ = "care_giver"

    hsa_key: Mapped[str] = mapped_column(primary_key=True)
    hsa_id: Mapped[str]
    name: Mapped[str]


class UnitRow(Base):
    __tablename__ = "unit"

    hsa_key: Mapped[str] = mapped_column(primary_key=True)
    hsa_id: Mapped[str]
    name: Mapped[str]
    care_giver_key: Mapped[str] = mapped_column(ForeignKey("care_giver.hsa_key"))
    parent_key: Mapped[str | None] = mapped_column(ForeignKey("unit.hsa_key"))
    arbetsplatskod: Mapped[str | None]
    postal_address: Mapped[str | None]
    postal_code: Mapped[str | None]
    city: Mapped[str | None]
    phone: Mapped[str | None]
    email: Mapped[str | None]


class PersonnelRow(Base):
    __tablename__ = "personnel"

    hsa_key: Mapped[str] = mapped_column(primary_key=True)
    hsa_id: Mapped[str]
    name: Mapped[str]
    prescriber_code: Mapped[str | None]


class CodeKind(StrEnum):
    """Which of a person's code lists a ``personnel_code`` row belongs to."""

    LICENSED_PROFESSION = "LICENSED_PROFESSION"
    POSITION_CODE = "POSITION_CODE"
    GROUP_PRESCRIBER_CODE = "GROUP_PRESCRIBER_CODE"


class PersonnelCodeRow(Base):
    """One entry of a person's licensed professions, position codes or group prescriber codes."""

    __tablename__ = "personnel_code"

    personnel_key: Mapped[str] = mapped_column(ForeignKey("personnel.hsa_key"), primary_key=True)
    kind: Mapped[CodeKind] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)  # keeps the document's order
    code: Mapped[str]


class AssignmentRow(Base):
    """A medarbetaruppdrag. The foreign key to ``unit`` keeps assignments from pointing nowhere."""

    __tablename__ = "personnel_assignment"

    personnel_key: Mapped[str] = mapped_column(ForeignKey("personnel.hsa_key"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    unit_key: Mapped[str] = mapped_column(ForeignKey("unit.hsa_key"))
    purpose: Mapped[str]


class PatientRow(Base):
    __tablename__ = "patient"

    person_id: Mapped[str] = mapped_column(primary_key=True)  # twelve digits
    kind: Mapped[PersonIdKind]
    given_name: Mapped[str]
    middle_name: Mapped[str | None]
    family_name: Mapped[str]
    postal_address: Mapped[str | None]
    postal_code: Mapped[str | None]
    city: Mapped[str | None]
    deceased: Mapped[bool]
    protected_identity: Mapped[bool]
    test_indicator: Mapped[bool]


class DirectoryImportRow(Base):
    """One successful import: when the data was produced, when we loaded it, and how much."""

    __tablename__ = "directory_import"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    produced_at: Mapped[datetime]
    imported_at: Mapped[datetime]
    care_givers: Mapped[int]
    units: Mapped[int]
    personnel: Mapped[int]
    patients: Mapped[int]


class HsaFactRow(Base):
    """What the HSA unit files said about a node (``domain.directory.HsaNode``), for the unit check.

    Written by each import of an HSA unit file: every node of the file with ``listed`` true, and
    nodes of earlier files that this one no longer lists kept with ``listed`` false (the unit and
    care giver tables never delete, so this is how the gateway knows a node is gone from HSA).
    ``members`` is hsaHealthCareUnitMembers as a JSON list of HSA-ids as spelt in the file.
    """

    __tablename__ = "hsa_unit_fact"

    hsa_key: Mapped[str] = mapped_column(primary_key=True)
    hsa_id: Mapped[str]
    care_giver: Mapped[bool]
    care_unit: Mapped[bool]
    responsible_care_giver: Mapped[str | None]
    dn_care_giver: Mapped[str | None]
    members: Mapped[list[str]] = mapped_column(JSON)
    listed: Mapped[bool]
    listed_at: Mapped[datetime]  # when a file last listed it
