"""HSA unit files (``FileGetHsaUnitsResponse``) as the platform's HSA cache reads them, with field quirks.

The shape is routing-and-resend.md A2's: ``startDate``, ``endDate`` and ``hsaUnits/hsaUnit`` with
``hsaIdentity``, ``DN`` and optional ``name``, ``isHsaHealthCareProvider`` and
``hsaResponsibleHealthCareProvider``; the tree is the DN hierarchy. Quirks of real files: DNs in any
case and spacing, a node given twice, a node without an HSA-id or a DN, provider flags written
``TRUE`` or ``1``, Swedish letters in ISO-8859-1, a byte order mark, other or no prefixes.
"""

from __future__ import annotations

from dataclasses import dataclass

NS = "urn:riv:hsa:HsaWsResponder:3"


@dataclass(frozen=True, slots=True)
class Node:
    """One ``hsaUnit``; None leaves an element out."""

    hsa_id: str | None
    dn: str | None
    name: str | None = None
    provider: str | None = None  # isHsaHealthCareProvider as written


def hsa_file(nodes: list[Node], *, encoding: str = "UTF-8", prefix: str | None = "ns2", bom: bool = False,
             start: str = "2026-11-20T01:25:00") -> bytes:
    """The file as bytes, with an XML declaration naming ``encoding``; ``prefix`` None: a default namespace."""
    def tag(name: str) -> str:
        return f"{prefix}:{name}" if prefix else name

    def element(name: str, text: str | None) -> str:
        return "" if text is None else f"<{tag(name)}>{text}</{tag(name)}>"

    units = "".join(
        f"<{tag('hsaUnit')}>{element('hsaIdentity', n.hsa_id)}{element('DN', n.dn)}{element('name', n.name)}"
        f"{element('isHsaHealthCareProvider', n.provider)}<{tag('isArchived')}>false</{tag('isArchived')}>"
        f"</{tag('hsaUnit')}>\n"
        for n in nodes
    )
    declaration = f"xmlns:{prefix}" if prefix else "xmlns"
    text = (f"<?xml version='1.0' encoding='{encoding}'?>\n<{tag('FileGetHsaUnitsResponse')} {declaration}='{NS}'>"
            f"{element('startDate', start)}{element('endDate', '2026-11-21T01:25:00')}<{tag('hsaUnits')}>\n{units}"
            f"</{tag('hsaUnits')}></{tag('FileGetHsaUnitsResponse')}>")
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def field_nodes() -> list[Node]:
    """A region's tree with the quirks of real files; the expected result is in the tests."""
    return [
        Node("SE", "c=SE"),  # the complementary file's root
        Node("SE2321000016-0000", "l=Region Skåne,c=SE", "Region Skåne"),
        Node("SE2321000016-0001", "o=Region Skåne,l=Region Skåne,c=SE", "Region Skåne vårdgivare", "TRUE"),
        Node("SE2321000016-1000", "ou=Vårdcentralen Ängelholm,o=Region Skåne,l=Region Skåne,c=SE",
             "Vårdcentralen Ängelholm", "false"),
        Node("se2321000016-1000", "OU=Vårdcentralen Ängelholm, O=Region Skåne, L=Region Skåne, C=se",
             "Vårdcentralen Ängelholm"),  # the same node again, other case and spacing
        Node(None, "ou=Utan id,ou=Vårdcentralen Ängelholm,o=Region Skåne,l=Region Skåne,c=SE"),
        Node("SE2321000016-1003", "ou=Barnmottagningen,ou=Utan id,ou=Vårdcentralen Ängelholm,o=Region Skåne,"
             "l=Region Skåne,c=SE", "Barnmottagningen"),
        Node("SE2321000016-9999", None, "Utan DN"),
        Node("SE2321000016-0002", "o=Privat vård AB,l=Region Skåne,c=SE", "Privat vård AB", "1"),
        Node("SE2321000016-2000", "ou=Mottagning\\, norr,o=Privat vård AB,l=Region Skåne,c=SE", "Mottagning, norr"),
    ]
