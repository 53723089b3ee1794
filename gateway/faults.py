"""SOAP 1.1 faults in the national platform's shape, for refusals that are not the contract's to answer.

Who may call is the platform's question, not the contract's, so its refusals are answered as VP
answers them: HTTP 500, ``faultcode`` Client or Server, ``faultstring`` = ``<code> [<instance>]
<Swedish text>``, and the reason in English in ``detail/detailString`` (A3 of the facts sheet).
Consumers that already handle VP's faults handle ours the same way.
"""

from __future__ import annotations

from lxml import etree

from contracts.ns import SOAP11_ENV
from routing.errors import VP_TEXTS

# Client: the caller must change something; Server: the platform's configuration must (as VP has it).
SERVER_SIDE = frozenset({"VP006", "VP007", "VP008", "VP009", "VP010", "VP012"})
STATUS = "500 Internal Server Error"


def fault_envelope(code: str, instance: str, detail: str) -> etree._Element:
    """The whole envelope of a platform fault for ``code`` with ``detail`` as the detail text."""
    root = etree.Element(f"{{{SOAP11_ENV}}}Envelope", nsmap={"soap": SOAP11_ENV})
    fault = etree.SubElement(etree.SubElement(root, f"{{{SOAP11_ENV}}}Body"), f"{{{SOAP11_ENV}}}Fault")
    side = "Server" if code in SERVER_SIDE else "Client"
    etree.SubElement(fault, "faultcode").text = f"soap:{side}"
    etree.SubElement(fault, "faultstring").text = f"{code} [{instance}] {VP_TEXTS[code][0]}"
    etree.SubElement(etree.SubElement(fault, "detail"), "detailString").text = detail
    return root


def fault_bytes(code: str, instance: str, detail: str) -> bytes:
    """``fault_envelope`` serialised as the HTTP body."""
    return etree.tostring(fault_envelope(code, instance, detail), xml_declaration=True, encoding="UTF-8")
