"""Errors raised by the store.

::

    StoreError                  base: anything the store refuses or cannot do
    ├── DatabaseUnavailable     the database did not answer (connection refused, lost, timed out)
    ├── Conflict                a write clashed with a stored row (duplicate key, broken reference)
    └── DirectoryImportError    a directory document refers to HSA-ids the database does not know

``DatabaseUnavailable`` is raised ``from`` the driver's exception so the cause stays in the traceback;
callers answer TECHNICAL_ERROR (the caller may resend). The texts never carry patient identifiers.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class of everything the store raises on purpose."""


class DatabaseUnavailable(StoreError):
    """Raised when the database cannot be reached or the connection broke during a transaction."""


class Conflict(StoreError):
    """Raised when a write violates a constraint, e.g. a draft id that is already stored."""


class DirectoryImportError(StoreError):
    """Raised by ``import_directory`` when a reference resolves neither in the document nor in the DB.

    ``record`` names the record by its list and index (``units[3]``), never by a personnummer;
    ``field`` is the field inside it (``parent``, ``assignments[0].unit``).
    """

    def __init__(self, record: str, field: str, reason: str) -> None:
        super().__init__(f"{record}: {field}: {reason}")
        self.record = record
        self.field = field
        self.reason = reason
