"""Checking certificate content (``svar``/``delsvar``) written through the operations API, before it is stored.

A delsvar's typed value is kept as XML (``AnswerPart.xml``) and copied into every status update of
the certificate. Unchecked, one ``"<unclosed>"`` stored today makes every later status update of
that certificate unbuildable, long after the caller who sent it is gone. So content is checked when
it is written, the way it will be sent:

1. each part's XML must be well-formed and pass the hardened parser (``contracts.xmlparse``: no DTD,
   no entities, size and depth caps);
2. each answer, built as the ``svar`` it becomes on the wire (``instans``, ``delsvar`` with its id,
   text and typed children), must be valid against our ``xsd/``: question and part ids of the
   contract's shape, typed values (``types:cv``, ``types:datePeriod``...) as the types schema says,
   anything else at the wildcard in another namespace.

Why here, in ``gateway``: it is the wire format's check, made where the gateway already compiles
the contract schemas from ``xsd/`` (``gateway.validation``); ``usecases`` may not know XML and
``contracts`` may not import the gateway's validation. The operations API is the only writer of
content; CreateDraftCertificate's prefill (``forifyllnad``) is validated with the whole request by
the SOAP front door against the same schema.

Problems name the answer and part and say why; they are returned to the caller who sent the content
and never logged with it (free text may hold patient data).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from lxml import etree

from contracts.errors import HostileXml, XmlRefused
from contracts.ns import CORE, EXT33, qname
from contracts.xmlparse import read_fragment
from domain.certificates import Answer
from gateway.validation import ContractSchema

EXT33_SCHEMA = (
    Path(__file__).resolve().parent.parent / "xsd" / "clinicalprocess-healthcond-certificate" / "core_components"
    / "clinicalprocess_healthcond_certificate_3.3_ext.xsd"
)  # fmt: skip


class ContentFault(StrEnum):
    """Why a part of the content is refused."""

    NOT_XML = "not-xml"  # not well-formed
    HOSTILE_XML = "hostile-xml"  # a DTD, entities, or nesting or size beyond the parser's caps
    SCHEMA = "schema"  # the svar it makes breaks the contract's schema


@dataclass(frozen=True, slots=True)
class ContentProblem:
    """One refusal: which answer (and part, when known), what kind, and the parser's or schema's reason."""

    answer_id: str
    part_id: str | None
    fault: ContentFault
    reason: str


class ContentValidator:
    """Checks answers as the ``svar`` they become; the schema is compiled once, safe to share between threads."""

    def __init__(self, schema_path: Path = EXT33_SCHEMA) -> None:
        # The prefill's schema: its svar has the core Svar type, which is what a status update's intyg holds.
        self._schema = ContractSchema([(EXT33, schema_path)], header_tags=())

    def problems(self, content: Sequence[Answer]) -> list[ContentProblem]:
        """Every problem in ``content``, in order; empty when it may be stored."""
        found: list[ContentProblem] = []
        for answer in content:
            svar, parse_problems = _svar(answer)
            found.extend(parse_problems)
            if parse_problems:
                continue
            holder = etree.Element(qname(EXT33, "forifyllnad"))
            holder.append(svar)
            found.extend(ContentProblem(answer.id, None, ContentFault.SCHEMA, f"{v.path}: {v.reason}")
                         for v in self._schema.violations([], holder))
        return found


def _svar(answer: Answer) -> tuple[etree._Element, list[ContentProblem]]:
    """The answer as a ``svar`` element, and the parts whose XML could not be read."""
    svar = etree.Element(qname(EXT33, "svar"), id=answer.id)
    if answer.instance is not None:
        etree.SubElement(svar, qname(CORE, "instans")).text = str(answer.instance)
    problems: list[ContentProblem] = []
    for part in answer.parts:
        delsvar = etree.SubElement(svar, qname(CORE, "delsvar"), id=part.id)
        delsvar.text = part.value
        if not part.xml:
            continue
        try:
            children = read_fragment(part.xml)
        except XmlRefused as refused:
            fault = ContentFault.HOSTILE_XML if isinstance(refused, HostileXml) else ContentFault.NOT_XML
            problems.append(ContentProblem(answer.id, part.id, fault, refused.reason))
            continue
        for child in children:
            delsvar.append(child)
    return svar, problems
