"""The directory check (``domain.directory_check``) as the command line and the scheduler run it.

``check_directory`` reads the facts in one short transaction and returns the findings;
``directory_check_job`` is the scheduler's monthly run, which logs a summary (``directory_checked``,
with the number of findings per kind) and one ``directory_finding`` warning per finding, so the
findings reach whoever watches the logs between the administrators' own checks. Findings name
HSA-ids only, never a patient.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import structlog

from domain.directory_check import DirectoryFacts, Finding
from domain.directory_check import check_directory as check_facts
from store import Tx, UnitOfWork
from store.directory_check import directory_facts


def findings_in(session: Tx) -> list[Finding]:
    """The findings of the directory as ``session`` sees it (an import's own transaction included)."""
    facts: DirectoryFacts = directory_facts(session)
    return check_facts(facts)


def check_directory(transaction: UnitOfWork) -> list[Finding]:
    """Every finding of the directory now."""
    with transaction() as session:
        return findings_in(session)


def log_findings(findings: list[Finding], trigger: str) -> None:
    """One summary line and one warning per finding (a fresh logger: see ``scheduler.locking``)."""
    log = structlog.get_logger("usecases.directory_check")
    kinds = Counter(finding.kind.value for finding in findings)
    log.info("directory_checked", trigger=trigger, findings=len(findings), kinds=dict(sorted(kinds.items())))
    for finding in findings:
        log.warning("directory_finding", trigger=trigger, kind=finding.kind.value, subject=finding.subject.value,
                    related=[r.value for r in finding.related], count=finding.count)


def directory_check_job(transaction: UnitOfWork) -> Callable[[], list[Finding]]:
    """The scheduler's job: check the directory and log what it found."""

    def run() -> list[Finding]:
        findings = check_directory(transaction)
        log_findings(findings, "schedule")
        return findings

    return run
