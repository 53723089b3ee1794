"""Small TAK documents in both export shapes, written for these tests (same catalogue in each)."""

from __future__ import annotations

from typing import Any

NS = "urn:riv:clinicalprocess:healthcond:certificate:CertificateStatusUpdateForCareResponder:3"
OTHER = "urn:riv:clinicalprocess:healthcond:certificate:SendMessageToCareResponder:2"


def snapshot_numeric() -> dict[str, Any]:
    """The published-snapshot shape: relationships by numeric id."""
    return {
        "formatVersion": "1", "version": "12", "tidpunkt": "2026-11-01T10:00:00+0100", "utforare": "tak",
        "data": {
            "rivtaprofil": [{"id": 1, "namn": "rivtabp20"}, {"id": 2, "namn": "rivtabp21"}],
            "tjanstekontrakt": [{"id": 10, "namnrymd": NS, "majorVersion": 3, "minorVersion": 0},
                                {"id": 11, "namnrymd": OTHER, "majorVersion": 2, "minorVersion": 0}],
            "logiskadress": [{"id": 20, "hsaId": "SE2321000016-1000"}, {"id": 21, "hsaId": "SE2321000016-0001"}],
            "tjanstekomponent": [{"id": 30, "hsaId": "SE2321000016-J001"}, {"id": 31, "hsaId": "SE5565594230-B8N"}],
            "anropsadress": [{"id": 40, "adress": "https://journal.example/csu/rivtabp21",
                              "relationships": {"rivtaprofil": 2, "tjanstekomponent": 30}}],
            "vagval": [
                {"id": 50, "fromTidpunkt": "2026-01-01T00:00:00+0100", "tomTidpunkt": "2126-01-01T00:00:00+0100",
                 "relationships": {"anropsadress": 40, "logiskadress": 20, "tjanstekontrakt": 10}},
                {"id": 51, "fromTidpunkt": "2026-01-01T00:00:00+0100", "tomTidpunkt": "2126-01-01T00:00:00+0100",
                 "relationships": {"anropsadress": 40, "logiskadress": 21, "tjanstekontrakt": 11}},
            ],
            "anropsbehorighet": [
                {"id": 60, "integrationsavtal": "AUTOTAKNING", "fromTidpunkt": "2026-01-01T00:00:00+0100",
                 "tomTidpunkt": "2126-01-01T00:00:00+0100",
                 "relationships": {"logiskAdress": 21, "tjanstekomponent": 31, "tjanstekontrakt": 11}},
            ],
            "filter": [{"id": 70, "servicedomain": "x", "relationships": {"anropsbehorighet": 60}}],
        },
    }


def export_natural() -> dict[str, Any]:
    """The ``/export/pv`` shape: relationships by natural key."""
    document = snapshot_numeric()
    data = document["data"]
    data["anropsadress"][0]["relationships"] = {"rivtaprofil": "rivtabp21", "tjanstekomponent": "SE2321000016-J001"}
    data["vagval"][0]["relationships"] = {"anropsadress": "https://journal.example/csu/rivtabp21",
                                          "logiskAdress": "SE2321000016-1000", "tjanstekontrakt": NS}
    data["vagval"][1]["relationships"] = {"anropsadress": "https://journal.example/csu/rivtabp21",
                                          "logiskAdress": "SE2321000016-0001", "tjanstekontrakt": OTHER}
    data["anropsbehorighet"][0]["relationships"] = {"logiskAdress": "SE2321000016-0001",
                                                    "tjanstekonsument": "SE5565594230-B8N", "tjanstekontrakt": OTHER}
    return document
