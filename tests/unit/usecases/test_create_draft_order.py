"""CreateDraftCertificate's decision order, without a database: what is checked first, and that a
refusal writes nothing.

The use case runs against an in-memory directory (the demo directory) and a unit of work that fails
the test if it is opened (``tests.memory``): every refusal below is decided before any transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lxml import etree

from contracts.create_draft_certificate.v3.request import read_request
from domain import result_texts as texts
from domain.certificate_types import load_default_registry
from domain.pdl import SystemIdentity
from domain.result_texts import result_for
from domain.values import ErrorId
from tests.envelopes import create_draft_body
from tests.memory import ClosedUnitOfWork, MemoryDirectory
from usecases.create_draft import CreateDraftDeps, DraftRefused, create_draft

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DECEASED = "194011306125"


def _decide(directory: MemoryDirectory, **request: Any) -> DraftRefused:
    deps = CreateDraftDeps(
        transaction=ClosedUnitOfWork(),
        directory=directory,
        registry=load_default_registry(),
        system=SystemIdentity("SE0000000000-GW", "Gateway"),
        clock=lambda: NOW,
    )
    body = etree.fromstring(etree.tostring(create_draft_body(**request)))
    outcome = create_draft(deps, read_request(body, ""), "corr-1")
    assert isinstance(outcome, DraftRefused)
    return outcome


def _ids(outcome: DraftRefused) -> list[str]:
    return [problem.text_id for problem in outcome.problems]


def test_structural_and_issuer_problems_are_reported_together_and_pu_is_not_asked() -> None:
    """A blank family name and an unknown issuer: both VALIDATION_ERROR problems, and the patient is never looked up."""
    directory = MemoryDirectory()
    outcome = _decide(directory, family_name=" ", user_hsa_id="SE2321000016-NOBODY")
    assert _ids(outcome) == [texts.PATIENT_FAMILY_NAME_MISSING.id, texts.ISSUER_UNKNOWN.id]
    assert result_for(outcome.problems)[0] is ErrorId.VALIDATION_ERROR
    assert directory.asked["person"] == 0


def test_a_malformed_request_outranks_a_deceased_patient() -> None:
    """Structure first: a deceased patient in a request with a structural problem is not even looked up."""
    directory = MemoryDirectory()
    outcome = _decide(directory, person_id=DECEASED, family_name="")
    assert _ids(outcome) == [texts.PATIENT_FAMILY_NAME_MISSING.id]
    assert directory.asked["person"] == 0


def test_a_well_formed_request_for_a_deceased_patient_is_an_application_error() -> None:
    """Only once the request and the issuer pass is PU asked, and a deceased patient is refused."""
    outcome = _decide(MemoryDirectory(), person_id=DECEASED)
    assert _ids(outcome) == [texts.PATIENT_DECEASED.id]
    assert result_for(outcome.problems)[0] is ErrorId.APPLICATION_ERROR


def test_an_unknown_certificate_type_is_an_application_error() -> None:
    """A type the registry does not know is refused after the structural checks passed."""
    outcome = _decide(MemoryDirectory(), type_code="NOSUCHTYPE")
    assert _ids(outcome) == [texts.TYPE_UNKNOWN.id]


def test_a_directory_that_does_not_answer_is_a_technical_error() -> None:
    """HSA/PU down: TECHNICAL_ERROR, so the journal system resends; nothing is written."""
    outcome = _decide(MemoryDirectory(down=True))
    assert _ids(outcome) == [texts.DEPENDENCY_UNAVAILABLE.id]
    assert result_for(outcome.problems)[0] is ErrorId.TECHNICAL_ERROR
