"""HSA-ids as people and clients type them (``domain.values.typed_hsa_id``)."""

from __future__ import annotations

import pytest

from domain.values import HsaId, typed_hsa_id


@pytest.mark.parametrize(("typed", "expected"), [
    ("SE2321000016-1000", "SE2321000016-1000"),
    ("se2321000016-1000", "se2321000016-1000"),  # kept as typed; compares equal to the upper-case spelling
    ("TSTNMT2321000156-1234", "TSTNMT2321000156-1234"),  # a test environment's form
    ("SE5565594230-B8N", "SE5565594230-B8N"),
    (" SE2321000016-1000\r\n", "SE2321000016-1000"),  # pasted with its line end: trimmed
])
def test_an_hsa_id_is_taken_as_typed_and_trimmed(typed: str, expected: str) -> None:
    found = typed_hsa_id(typed)
    assert (found.value, found) == (expected, HsaId(expected.upper()))


@pytest.mark.parametrize("typed", [
    "", "   ", "SE2321000016 1000", "SE2321000016-1000\nSE2321000016-2000", "Vårdcentralen Demo",
    "\u0421E2321000016-1000",  # a Cyrillic С
    "SE2321000016\u20101000",  # a Unicode hyphen, as word processors write it
    "\ufeffSE2321000016-1000",  # a byte order mark is no white space
    "-SE2321000016-1000", "SE2321000016-1000;DROP", "SE2321000016_1000", "S" * 65,
])
def test_anything_else_is_refused_without_repeating_it(typed: str) -> None:
    with pytest.raises(ValueError) as refused:
        typed_hsa_id(typed)
    assert typed.strip() not in str(refused.value) or not typed.strip()
