"""Tests for contracts.intyg's text writer: what it writes reads back as the values, escaped as lxml would.

The writer builds the certificate as text rather than element by element (for speed); these tests hold
it to what lxml's own serialiser guarantees: markup characters in values stay text, carriage returns
survive a parse, characters XML cannot carry are refused rather than written, and stored answer
fragments go out as their elements.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from lxml import etree

from contracts.errors import NotXml
from contracts.intyg import SCOPE, handelse_xml, intyg_xml
from contracts.ns import CORE, TYPES
from contracts.register_certificate.v3.request import build_register_certificate
from domain.arenden import Amne
from domain.certificates import Answer, AnswerPart, Certificate
from domain.values import EventCode, HsaId
from tests.builders import make_signed_certificate

NS = {"core": CORE, "types": TYPES}
TRICKY = 'Ö & <b>"quoted"</b> \'a\'\tb\r\nc >'


def _read(content: bytes) -> etree._Element:
    declarations = "".join(f' xmlns:{prefix}="{uri}"' for prefix, uri in SCOPE.items())
    return etree.fromstring(f"<root{declarations}>".encode() + content + b"</root>")


def _with_answers(*answers: Answer) -> Certificate:
    return replace(make_signed_certificate(), content=answers)


def test_markup_characters_and_carriage_returns_in_values_read_back_unchanged() -> None:
    certificate = make_signed_certificate()
    certificate = replace(certificate, unit=replace(certificate.unit, name=TRICKY),
                          content=(Answer("1", None, (AnswerPart("1.1", TRICKY),)),))
    root = _read(intyg_xml(certificate, None, statuses=True))
    assert root.findtext("core:skapadAv/core:enhet/core:enhetsnamn", namespaces=NS) == TRICKY
    assert root.findtext("core:svar/core:delsvar", namespaces=NS) == TRICKY


def test_attribute_values_are_escaped_for_attributes() -> None:
    root = _read(intyg_xml(_with_answers(Answer('1"\t<&', None, (AnswerPart("1.1\n", "x"),))), None, statuses=True))
    svar = root.find("core:svar", NS)
    assert svar is not None and svar.get("id") == '1"\t<&'
    assert svar[0].get("id") == "1.1\n"


@pytest.mark.parametrize("bad", ["\x00", "\x01", "\x1f", "\ufffe", "\ud800"])
def test_a_character_xml_cannot_carry_is_refused_not_written(bad: str) -> None:
    with pytest.raises(ValueError, match="XML compatible"):
        intyg_xml(_with_answers(Answer("1", None, (AnswerPart("1.1", f"ok{bad}"),))), None, statuses=True)
    with pytest.raises(ValueError, match="XML compatible"):
        handelse_xml(EventCode.SIGNAT, datetime(2026, 1, 1, tzinfo=UTC), handled_by=HsaId(f"SE{bad}1"))


def test_a_stored_fragment_goes_out_as_its_elements_without_the_text_between() -> None:
    fragment = "<cv xmlns='urn:example'><code>A &amp; B</code></cv> loose text <period xmlns='urn:x'/>"
    root = _read(intyg_xml(_with_answers(Answer("6", None, (AnswerPart("6.1", "", fragment),))), None, statuses=True))
    delsvar = root.find("core:svar/core:delsvar", NS)
    assert delsvar is not None
    assert [child.tag for child in delsvar] == ["{urn:example}cv", "{urn:x}period"]
    assert delsvar[0].findtext("{urn:example}code") == "A & B"
    assert "loose" not in etree.tostring(delsvar, encoding="unicode")


def test_a_fragment_that_is_not_xml_is_refused_each_time() -> None:
    certificate = _with_answers(Answer("6", None, (AnswerPart("6.1", "", "<unclosed>"),)))
    for _ in range(2):  # not remembered as written
        with pytest.raises(NotXml):
            intyg_xml(certificate, None, statuses=True)


def test_the_parsed_registration_holds_exactly_the_written_intyg() -> None:
    """The messages sent as text and the elements tests and simulators read are one writing."""
    certificate = make_signed_certificate()
    registration = build_register_certificate(certificate, None)
    intyg = registration.find("{urn:riv:clinicalprocess:healthcond:certificate:RegisterCertificateResponder:3}intyg")
    written = _read(intyg_xml(certificate, None, statuses=False))
    assert intyg is not None
    def canonical(piece: etree._Element) -> bytes:  # with the namespaces it uses, wherever they were declared
        return etree.tostring(piece, method="c14n", exclusive=True)

    assert [canonical(child) for child in intyg] == [canonical(child) for child in written]


def test_handelse_writes_topic_deadline_and_handler_only_when_given() -> None:
    at = datetime(2026, 3, 29, 1, 0, 0, 123456, tzinfo=UTC)
    bare = _read(handelse_xml(EventCode.SIGNAT, at))
    assert bare.findtext("core:tidpunkt", namespaces=NS) == "2026-03-29T03:00:00.123"
    assert bare.find("core:amne", NS) is None and len(bare) == 2
    full = _read(handelse_xml(EventCode.NYFRFM, at, Amne.KOMPLT, date(2026, 4, 1), HsaId("SE-X")))
    assert full.findtext("core:amne/types:code", namespaces=NS) == "KOMPLT"
    assert full.findtext("core:sistaDatumForSvar", namespaces=NS) == "2026-04-01"
    assert full.findtext("ext34:hanteratAv/types:extension", namespaces=SCOPE) == "SE-X"


def test_the_patient_and_unit_written_follow_their_values_not_the_first_writing() -> None:
    """The patient and unit pieces are remembered by value: a moved unit, a renamed patient or a patient
    whose identity became protected is written as it is now."""
    certificate = make_signed_certificate()
    certificate = replace(certificate, patient=replace(certificate.patient, protected_identity=False))
    first = _read(intyg_xml(certificate, None, statuses=True))
    renamed = replace(certificate, unit=replace(certificate.unit, name="Ny enhet", city="Visby"),
                      patient=replace(certificate.patient, family_name="Nyberg"))
    second = _read(intyg_xml(renamed, None, statuses=True))
    assert second.findtext("core:skapadAv/core:enhet/core:enhetsnamn", namespaces=NS) == "Ny enhet"
    assert second.findtext("core:skapadAv/core:enhet/core:postort", namespaces=NS) == "Visby"
    assert second.findtext("core:patient/core:efternamn", namespaces=NS) == "Nyberg"
    protected = replace(certificate, patient=replace(certificate.patient, protected_identity=True))
    hidden = _read(intyg_xml(protected, None, statuses=True))
    assert hidden.findtext("core:patient/core:efternamn", namespaces=NS) == "Skyddade personuppgifter"
    assert hidden.findtext("core:patient/core:postadress", namespaces=NS) == ""
    again = _read(intyg_xml(certificate, None, statuses=True))
    assert etree.tostring(again) == etree.tostring(first)
    assert first.findtext("core:patient/core:efternamn", namespaces=NS) == certificate.patient.family_name
