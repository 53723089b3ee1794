"""Tests for domain.result_texts: a consistent catalogue, and the README matching it."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from domain import result_texts
from domain.result_texts import ALL_TEXTS, CREATE_DRAFT_TEXTS, ROLE_NAMES, ResultText
from domain.values import ErrorId, Role

DOC = Path(__file__).resolve().parents[3] / "README.md"
ROW = re.compile(r"^\| `(?P<id>[^`]+)` \|")


def _row(text: ResultText) -> str:
    return f"| `{text.id}` | {text.error_id.value} | {text.sv} | {text.en} |"


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@pytest.fixture(scope="module")
def doc_lines() -> list[str]:
    """The lines of the README's "Result texts" section (other sections have tables too)."""
    section = DOC.read_text(encoding="utf-8").split("\n## Result texts\n", 1)[1].split("\n## ", 1)[0]
    return section.splitlines()


def test_all_texts_holds_every_entry_in_the_module() -> None:
    """Every ResultText defined in the module is in ALL_TEXTS, so none is left out of the docs."""
    defined = {value.id for value in vars(result_texts).values() if isinstance(value, ResultText)}
    assert defined == {text.id for text in ALL_TEXTS}


def test_ids_are_unique() -> None:
    """Each rule has its own id; integrators look answers up by it."""
    ids = [text.id for text in ALL_TEXTS]
    assert len(ids) == len(set(ids))


def test_ids_are_upper_case_with_a_prefix() -> None:
    """Ids look like GW-SCHEMA or CDC-PERSON-ID-CHECKSUM: stable, greppable, no spaces."""
    assert all(re.fullmatch(r"[A-Z]+(-[A-Z0-9]+)+", text.id) for text in ALL_TEXTS)


@pytest.mark.parametrize("text", ALL_TEXTS, ids=lambda text: text.id)
def test_swedish_and_english_take_the_same_fields(text: ResultText) -> None:
    """The twins must be rendered from the same fields, or one of them would fail to format."""
    assert _placeholders(text.sv) == _placeholders(text.en)


def test_no_text_contains_the_problem_separator() -> None:
    """result_for joins texts with "; ", so a ";" inside a text would blur where problems end."""
    assert not [text.id for text in ALL_TEXTS if ";" in text.sv + text.en]


def test_no_text_contains_a_table_pipe() -> None:
    """The texts sit in a Markdown table in the README."""
    assert not [text.id for text in ALL_TEXTS if "|" in text.sv + text.en]


def test_create_draft_texts_are_validation_or_application_errors() -> None:
    """Business rules refuse for good; TECHNICAL_ERROR is the front door's dependency entry."""
    allowed = {ErrorId.VALIDATION_ERROR, ErrorId.APPLICATION_ERROR}
    assert {text.error_id for text in CREATE_DRAFT_TEXTS} <= allowed


def test_create_draft_texts_have_cdc_ids() -> None:
    """The CreateDraftCertificate rules share the CDC- prefix."""
    assert all(text.id.startswith("CDC-") for text in CREATE_DRAFT_TEXTS)


def test_every_role_has_a_swedish_name() -> None:
    """Role names are rendered into texts, so each role needs one."""
    assert set(ROLE_NAMES) == set(Role)


@pytest.mark.parametrize("text", ALL_TEXTS, ids=lambda text: text.id)
def test_doc_lists_entry_with_exact_texts(text: ResultText, doc_lines: list[str]) -> None:
    """the README has a row with this entry's id, errorId and both texts, verbatim."""
    assert _row(text) in doc_lines


def test_doc_lists_no_entry_that_is_not_in_the_catalogue(doc_lines: list[str]) -> None:
    """A row for a removed or renamed entry would mislead integrators."""
    documented = {match["id"] for line in doc_lines if (match := ROW.match(line))}
    assert documented == {text.id for text in ALL_TEXTS}
