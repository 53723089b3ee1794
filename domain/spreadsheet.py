"""CSV cells that a spreadsheet will not run: formula injection neutralised in every CSV we write.

Spreadsheet programs treat a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and a
leading tab or carriage return can hide such a start), so a value a sender planted in a PDL record
(``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``) would run when a patient's extract is opened. Every such
cell is written with a leading apostrophe, which the programs show as text, as OWASP advises.
``restore`` undoes exactly that for our own CSV imports (routing), so an export reads back unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def neutralise(value: object) -> object:
    """``value`` with an apostrophe before a formula start; non-text values are left alone."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return QUOTE + value
    return value


def neutralise_row(row: Mapping[str, object]) -> dict[str, object]:
    """Every cell of a row through ``neutralise``."""
    return {key: neutralise(value) for key, value in row.items()}


def restore(value: str) -> str:
    """Undo ``neutralise``: an apostrophe before a formula start is dropped."""
    if value.startswith(QUOTE) and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value
