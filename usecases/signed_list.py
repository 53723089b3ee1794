"""An issuer's signed certificates, three months back and ten at a time, each one PDL-logged as read.

Issuers need to find what they signed (to answer a question, to revoke, to copy), and every listed
certificate shows a patient, so listing is reading: each certificate on the page gets a Läsa record
in the same transaction as the read. Pages are small (``PAGE_SIZE``) so that a user reads, and logs,
only what they look at; the window starts ``DEFAULT_MONTHS`` back unless the caller asks otherwise.

Who may list: the issuer themself, found in the directory. A list of someone else's certificates
would be a read of patients with no care relation of the reader's; the rule is checked here, not
left to the caller.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import structlog

from domain.certificates import Certificate
from domain.directory import DirectoryUnavailable
from domain.pdl import Activity
from domain.values import SWEDISH_TIME, HsaId, swedish_date
from store import certificates
from store.errors import DatabaseUnavailable
from usecases.lifecycle import DependencyUnavailable, LifecycleDeps
from usecases.pdl_log import record_certificate_access


def _log() -> Any:
    # A fresh logger per use: a module-level one would keep the output stream of whoever configured
    # logging first (see scheduler.locking).
    return structlog.get_logger("usecases.signed_list")

PAGE_SIZE = 10
DEFAULT_MONTHS = 3


class ListRefused(Exception):
    """Raised when the list may not be given: ``reason`` is ``USER_UNKNOWN`` or ``NOT_OWN_LIST``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SignedPage:
    """One page of an issuer's signed certificates, newest signing first."""

    issuer: HsaId
    since: date
    page: int
    total: int
    certificates: tuple[Certificate, ...]

    @property
    def pages(self) -> int:
        return (self.total + PAGE_SIZE - 1) // PAGE_SIZE


def months_back(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier, or the month's last day (31 May -> 28/29 Feb)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def start_of(day: date) -> datetime:
    """The first instant of a Swedish calendar day, in UTC."""
    return datetime.combine(day, time(0), tzinfo=SWEDISH_TIME).astimezone(UTC)


def list_signed(
    deps: LifecycleDeps, acting: HsaId, issuer: HsaId | None, since: date | None, page: int, correlation_id: str
) -> SignedPage:
    """Page ``page`` (from 1) of the certificates ``issuer`` (default: the acting user) signed since
    ``since`` (default: three months before today, Swedish date); each listed one PDL-logged as read.

    Raises:
        ListRefused: the acting user is not in the directory, or asks for someone else's list.
        DependencyUnavailable: the directory or the database does not answer.
        ValueError: ``page`` is below 1.
    """
    if page < 1:
        raise ValueError("page counts from 1")
    owner = issuer or acting
    try:
        if owner != acting:
            raise ListRefused("NOT_OWN_LIST")
        if deps.directory.personnel(acting) is None:
            raise ListRefused("USER_UNKNOWN")
        now = deps.clock()
        window = since or months_back(swedish_date(now), DEFAULT_MONTHS)
        with deps.transaction() as session:
            total, found = certificates.signed_by(session, owner, start_of(window), (page - 1) * PAGE_SIZE, PAGE_SIZE)
            for certificate in found:
                record_certificate_access(session, deps.system, certificate, acting, Activity.READ, now)
    except DirectoryUnavailable as error:
        raise DependencyUnavailable("directory") from error
    except DatabaseUnavailable as error:
        raise DependencyUnavailable("database") from error
    _log().info("signed_list_read", user=acting.value, page=page, listed=len(found), total=total,
             correlation_id=correlation_id)
    return SignedPage(owner, window, page, total, tuple(found))
