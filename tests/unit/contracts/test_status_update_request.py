"""Tests for contracts.certificate_status_update.v3.request: the message as the incumbent fills it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from contracts.certificate_status_update.v3.request import (
    ReceivedStatusUpdate,
    StatusUpdateError,
    read_received,
    read_received_parts,
    status_update_envelope,
)
from contracts.intyg import local_time
from contracts.ns import CORE, GATEWAY_EXT, STATUS_UPDATE_V3, TYPES
from contracts.xmlparse import envelope_parts, parse_xml
from domain.certificate_types import load_default_registry
from domain.question_counts import QuestionCounts
from domain.values import KV_RELATION, EventCode, HsaId, RelationCode, RevokeReason
from tests import builders
from tests import envelopes as m
from tests import status_updates as su

NS = {"csu": m.CSU_NS, "csu32": m.CSU32_NS, "core": m.CORE_NS, "types": m.TYPES_NS, "itr": m.ITR_NS}


def _text(element: etree._Element, path: str) -> str | None:
    found = element.find(path, NS)
    return None if found is None else (found.text or "")


def _counts(body: etree._Element, block: str) -> list[str | None]:
    return [_text(body, f"csu:{block}/core:{name}") for name in ("totalt", "ejBesvarade", "besvarade", "hanterade")]


def test_event_has_code_system_display_name_and_local_millisecond_time() -> None:
    """handelse: KV_HANDELSE code and Swedish name, time in Stockholm with exactly three decimals."""
    body = su.build_checked(su.certificate_for(EventCode.SIGNAT), su.event(EventCode.SIGNAT))
    assert _text(body, "csu:handelse/core:handelsekod/types:code") == "SIGNAT"
    assert _text(body, "csu:handelse/core:handelsekod/types:codeSystem") == "dfd7bbad-dbe5-4a2f-ba25-f7b9b2cc6b14"
    assert _text(body, "csu:handelse/core:handelsekod/types:displayName") == "Intyg signerat"
    assert _text(body, "csu:handelse/core:tidpunkt") == "2026-11-21T10:15:30.123"


def test_local_time_follows_summer_time_and_pads_milliseconds() -> None:
    """The zone rules decide the offset: +1 in winter, +2 in summer, also across the switch."""
    assert (
        local_time(datetime(2026, 3, 29, 0, 59, 59, 7000, tzinfo=UTC), milliseconds=True) == "2026-03-29T01:59:59.007"
    )
    assert local_time(datetime(2026, 3, 29, 1, 0, 0, tzinfo=UTC), milliseconds=True) == "2026-03-29T03:00:00.000"
    assert local_time(datetime(2026, 7, 1, 12, 0, 0, 999999, tzinfo=UTC)) == "2026-07-01T14:00:00"
    # Back to winter time: the local hour 02 comes twice, first in summer time, then in winter time.
    assert local_time(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), milliseconds=True) == "2026-10-25T02:30:00.000"
    second_time = datetime(2026, 10, 25, 1, 30, 0, 1000, tzinfo=UTC)
    assert local_time(second_time, milliseconds=True) == "2026-10-25T02:30:00.001"


def test_a_time_in_utc_is_written_as_the_same_instant_in_any_other_zone() -> None:
    """The UTC path (each hour's local date and hour remembered) agrees with converting the time itself,
    minute by minute over both switches of a year, with and without milliseconds."""
    elsewhere = timezone(timedelta(hours=-5))  # the same instants, not in UTC: converted one by one
    for switch in (datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC)):
        for minutes in range(-150, 150, 7):
            moment = switch + timedelta(minutes=minutes, seconds=minutes % 60, microseconds=minutes * 997 % 10**6)
            for milliseconds in (True, False):
                assert local_time(moment, milliseconds=milliseconds) == local_time(
                    moment.astimezone(elsewhere), milliseconds=milliseconds)
    # Local mean time (+01:12:12 until 1900) is no whole hour: such times are converted one by one.
    for moment in (datetime(1850, 6, 1, 12, 0, 5, tzinfo=UTC), datetime(1899, 12, 31, 22, 50, tzinfo=UTC)):
        assert local_time(moment) == local_time(moment.astimezone(elsewhere)) == moment.astimezone(
            ZoneInfo("Europe/Stockholm")).strftime("%Y-%m-%dT%H:%M:%S")


def test_question_from_recipient_carries_topic_deadline_and_counts_but_no_user() -> None:
    """NYFRFM: amne with KV_ÄMNE and its name, sistaDatumForSvar, the counts; the recipient caused it."""
    body = su.build_checked(su.certificate_for(EventCode.NYFRFM), su.event(EventCode.NYFRFM))
    assert _text(body, "csu:handelse/core:amne/types:code") == "KOMPLT"
    assert _text(body, "csu:handelse/core:amne/types:codeSystem") == "ffa59d8f-8d7e-46ae-ac9e-31804e8e8499"
    assert _text(body, "csu:handelse/core:amne/types:displayName") == "Komplettering"
    assert _text(body, "csu:handelse/core:sistaDatumForSvar") == "2026-12-05"
    assert _counts(body, "skickadeFragor") == ["2", "1", "1", "0"]
    assert _counts(body, "mottagnaFragor") == ["3", "1", "0", "2"]
    assert body.find("csu32:hanteratAv", NS) is None


def test_topic_and_deadline_only_for_nyfrfm() -> None:
    """Another event with the same payload sends neither amne nor sistaDatumForSvar."""
    nyfrfm = su.event(EventCode.NYFRFM)
    body = su.build_checked(su.certificate_for(EventCode.HANFRFM), replace(nyfrfm, code=EventCode.HANFRFM))
    assert body.find("csu:handelse/core:amne", NS) is None
    assert body.find("csu:handelse/core:sistaDatumForSvar", NS) is None
    assert _counts(body, "mottagnaFragor") == ["3", "1", "0", "2"]


@pytest.mark.parametrize("code", [EventCode.SKAPAT, EventCode.ANDRAT, EventCode.SIGNAT, EventCode.SKICKA])
def test_counts_are_zero_for_events_not_about_questions(code: EventCode) -> None:
    """Counts are sent as four zeros for the certificate's own events, whatever the payload holds."""
    body = su.build_checked(su.certificate_for(code), su.event(code))
    assert _counts(body, "skickadeFragor") == ["0", "0", "0", "0"]
    assert _counts(body, "mottagnaFragor") == ["0", "0", "0", "0"]


def test_counts_given_as_argument_win_over_the_payload() -> None:
    """The engine may pass freshly computed counts; MAKULE sends them."""
    body = su.build_checked(su.certificate_for(EventCode.MAKULE), su.event(EventCode.MAKULE), QuestionCounts())
    assert _counts(body, "skickadeFragor") == ["0", "0", "0", "0"]
    body = su.build_checked(su.certificate_for(EventCode.MAKULE), su.event(EventCode.MAKULE))
    assert _counts(body, "skickadeFragor") == ["2", "1", "1", "0"]


def test_user_caused_event_names_the_user_at_request_level() -> None:
    """csu32:hanteratAv (not the 3.4 one inside handelse) holds the acting user's HSA-id."""
    body = su.build_checked(su.certificate_for(EventCode.ANDRAT), su.event(EventCode.ANDRAT))
    assert _text(body, "csu32:hanteratAv/types:root") == "1.2.752.129.2.1.4.1"
    assert _text(body, "csu32:hanteratAv/types:extension") == "SE2321000016-P001"
    assert body.find(f"csu:handelse/{{{m.EXT34_NS}}}hanteratAv", NS) is None
    system_event = su.event(EventCode.ANDRAT, acting_user=None)
    assert su.build_checked(su.certificate_for(EventCode.ANDRAT), system_event).find("csu32:hanteratAv", NS) is None


def test_draft_is_sent_whole_with_partial_answers_and_no_signing_time() -> None:
    """A draft has no signeringstidpunkt; its answers go out as stored, typed content intact."""
    body = su.build_checked(su.certificate_for(EventCode.ANDRAT), su.event(EventCode.ANDRAT))
    assert body.find("csu:intyg/core:signeringstidpunkt", NS) is None
    assert _text(body, "csu:intyg/core:intygs-id/types:extension") == builders.make_draft().id
    assert _text(body, "csu:intyg/core:intygs-id/types:root") == "SE2321000016-1003"
    svar = body.findall("csu:intyg/core:svar", NS)
    assert [s.get("id") for s in svar] == ["1", "32"]
    assert _text(svar[1], "core:instans") == "1"
    assert _text(svar[1], "core:delsvar[@id='32.1']/types:cv/types:code") == "HELT_NEDSATT"
    assert _text(svar[0], "core:delsvar") == "Hosta sedan två veckor"


def test_signed_sent_and_revoked_certificate_has_times_statuses_and_relation() -> None:
    """Signing and sending times in local time without fraction, SENTTO and CANCEL, the copy relation."""
    body = su.build_checked(su.certificate_for(EventCode.MAKULE), su.event(EventCode.MAKULE))
    assert _text(body, "csu:intyg/core:signeringstidpunkt") == "2026-11-21T10:00:00"
    assert _text(body, "csu:intyg/core:skickatTidpunkt") == "2026-11-21T10:00:00"
    statuses = [(_text(s, "core:part/types:code"), _text(s, "core:status/types:code"))
                for s in body.findall("csu:intyg/core:status", NS)]  # fmt: skip
    assert statuses == [("FKASSA", "SENTTO"), ("HSVARD", "CANCEL")]
    assert _text(body, "csu:intyg/core:relation/core:typ/types:code") == "KOPIA"
    assert _text(body, "csu:intyg/core:relation/core:intygs-id/types:extension") == "0ld-draft"


@pytest.mark.parametrize("relation", list(RelationCode))
def test_a_related_certificate_names_its_parent_in_kv_relation(relation: RelationCode) -> None:
    """One relation: the code in KV_RELATION, the parent's id with the issuing unit as root; none without."""
    draft = replace(builders.make_draft(), relation_code=relation, relation_parent="parent-1")
    body = su.build_checked(draft, su.event(EventCode.SKAPAT))
    [found] = body.findall("csu:intyg/core:relation", NS)
    assert (_text(found, "core:typ/types:code"), _text(found, "core:typ/types:codeSystem")) == (
        relation.value, KV_RELATION)
    assert (_text(found, "core:intygs-id/types:root"), _text(found, "core:intygs-id/types:extension")) == (
        draft.unit.hsa_id.value, "parent-1")
    plain = replace(draft, relation_code=None, relation_parent=None)
    assert su.build_checked(plain, su.event(EventCode.SKAPAT)).findall("csu:intyg/core:relation", NS) == []


def test_makule_carries_the_reason_code_and_description_in_the_cancel_status() -> None:
    """Our lax extension inside CANCEL: orsak and beskrivning; the official schema still accepts it."""
    revoked = replace(su.certificate_for(EventCode.MAKULE), revoke_reason_code=RevokeReason.ANNAT_ALLVARLIGT_FEL,
                      revoke_reason="Fel diagnoskod i fält 3")
    body = su.build_checked(revoked, su.event(EventCode.MAKULE))
    (cancel,) = [s for s in body.findall("csu:intyg/core:status", NS) if _text(s, "core:status/types:code") == "CANCEL"]
    gw = {"gw": GATEWAY_EXT}
    assert cancel.findtext("gw:makulering/gw:orsak", namespaces=gw) == "ANNAT_ALLVARLIGT_FEL"
    assert cancel.findtext("gw:makulering/gw:beskrivning", namespaces=gw) == "Fel diagnoskod i fält 3"
    assert etree.QName(cancel[-1]).namespace == GATEWAY_EXT  # after tidpunkt, at the wildcard


def test_a_revocation_from_before_reason_codes_carries_only_its_text() -> None:
    """Migration 0009 left older revocations without a code: the text goes, no code is invented."""
    legacy = replace(su.certificate_for(EventCode.MAKULE), revoke_reason_code=None, revoke_reason="Fel patient")
    body = su.build_checked(legacy, su.event(EventCode.MAKULE))
    gw = {"gw": GATEWAY_EXT}
    assert body.find(".//gw:makulering/gw:orsak", gw) is None
    assert body.findtext(".//gw:makulering/gw:beskrivning", namespaces=gw) == "Fel patient"


def test_protected_patient_is_sent_without_name_or_address() -> None:
    """Sekretessmarkering: efternamn says so, every other field is empty, the id stays."""
    certificate = builders.make_draft()
    assert certificate.patient.protected_identity
    patient = su.build_checked(certificate, su.event(EventCode.SKAPAT)).find("csu:intyg/core:patient", NS)
    assert patient is not None
    assert {etree.QName(child).localname: child.text or "" for child in patient if len(child) == 0} == {
        "fornamn": "", "efternamn": "Skyddade personuppgifter", "postadress": "", "postnummer": "", "postort": "",
    }  # fmt: skip
    assert _text(patient, "core:person-id/types:extension") == "197010632391"
    assert _text(patient, "core:person-id/types:root") == "1.2.752.129.2.1.3.3"


def test_unprotected_patient_is_sent_in_full() -> None:
    """Without protection, names and address are the stored ones, mellannamn included."""
    draft = builders.make_draft()
    certificate = replace(draft, patient=replace(draft.patient, protected_identity=False))
    patient = su.build_checked(certificate, su.event(EventCode.SKAPAT)).find("csu:intyg/core:patient", NS)
    assert patient is not None
    assert [_text(patient, f"core:{name}") for name in ("fornamn", "efternamn", "mellannamn", "postort")] == [
        "Samuel", "Samordning", "Mellan", "Demostad",
    ]  # fmt: skip


def test_missing_workplace_code_and_email_are_filled_as_the_incumbent_does() -> None:
    """No arbetsplatskod: TEMPORARY ARBETSPLATSKOD; no e-mail: epost left out; no phone: empty."""
    draft = builders.make_draft()
    unit = replace(draft.unit, arbetsplatskod=None, email="", phone=None)
    body = su.build_checked(replace(draft, unit=unit), su.event(EventCode.SKAPAT))
    enhet = "csu:intyg/core:skapadAv/core:enhet"
    assert _text(body, f"{enhet}/core:arbetsplatskod/types:extension") == "TEMPORARY ARBETSPLATSKOD"
    assert _text(body, f"{enhet}/core:arbetsplatskod/types:root") == "1.2.752.29.4.71"
    assert body.find(f"{enhet}/core:epost", NS) is None
    assert _text(body, f"{enhet}/core:telefonnummer") == ""


def test_issuer_is_the_signer_once_signed() -> None:
    """Before signing skapadAv is the creator with their codes; after, the signer by name only."""
    draft = builders.make_draft()
    body = su.build_checked(draft, su.event(EventCode.SKAPAT))
    assert _text(body, "csu:intyg/core:skapadAv/core:forskrivarkod") == "1234567"
    assert len(body.findall("csu:intyg/core:skapadAv/core:befattning", NS)) == 2
    other = replace(builders.make_signed_certificate(), signed_by=HsaId("SE2321000016-P006"),
                    signed_by_name="Bo AT-läkare")  # fmt: skip
    body = su.build_checked(other, su.event(EventCode.SIGNAT, other))
    assert _text(body, "csu:intyg/core:skapadAv/core:personal-id/types:extension") == "SE2321000016-P006"
    assert _text(body, "csu:intyg/core:skapadAv/core:fullstandigtNamn") == "Bo AT-läkare"
    assert body.find("csu:intyg/core:skapadAv/core:forskrivarkod", NS) is None


def test_ref_and_type_name_and_version_come_from_certificate_and_type() -> None:
    """ref from CreateDraftCertificate; typ/displayName and version from the type registry."""
    registry = load_default_registry()
    certificate = replace(builders.make_draft(), type_code="LISJP")
    certificate_type = registry.lookup("LISJP", certificate.type_code_system)
    assert certificate_type is not None
    body = su.build_checked(certificate, su.event(EventCode.SKAPAT), certificate_type=certificate_type)
    assert _text(body, "csu:ref") == "journal-ref-42"
    assert _text(body, "csu:intyg/core:typ/types:displayName") == certificate_type.name
    assert _text(body, "csu:intyg/core:version") == certificate_type.version
    no_ref = su.build_checked(replace(certificate, ref=None), su.event(EventCode.SKAPAT))
    assert no_ref.find("csu:ref", NS) is None
    assert _text(no_ref, "csu:intyg/core:version") == "1.0"


def test_question_without_topic_is_refused_with_fields() -> None:
    """An NYFRFM queued without a valid amne is a bug upstream: refused, naming the key."""
    bad = su.event(EventCode.NYFRFM, payload={"amne": "FIKA"})
    with pytest.raises(StatusUpdateError) as raised:
        su.build_checked(su.certificate_for(EventCode.NYFRFM), bad)
    assert (raised.value.event_code, raised.value.key) == (EventCode.NYFRFM, "amne")
    with pytest.raises(StatusUpdateError) as raised:
        su.build_checked(su.certificate_for(EventCode.NYFRFM),
                         su.event(EventCode.NYFRFM, payload={"amne": "KOMPLT", "sistaDatumForSvar": "snart"}))
    assert raised.value.key == "sistaDatumForSvar"
    with pytest.raises(StatusUpdateError) as raised:
        su.build_checked(su.certificate_for(EventCode.HANFRFM),
                         su.event(EventCode.HANFRFM, payload={"counts": {"skickadeFragor": {"totalt": "3"}}}))
    assert raised.value.key == "counts"


def test_envelope_carries_the_logical_address_and_reads_back() -> None:
    """The unit's HSA-id goes in the LogicalAddress header; the simulator reads it back with the ids."""
    body = su.build_checked(builders.make_draft(), su.event(EventCode.SKAPAT))
    envelope = parse_xml(status_update_envelope("SE2321000016-1003", body))
    assert _text(envelope, f"{{{m.SOAP_ENV_NS}}}Header/itr:LogicalAddress") == "SE2321000016-1003"
    received = read_received(envelope)
    assert (received.logical_address, received.certificate_id, received.event_code, received.event_time) == (
        "SE2321000016-1003", builders.make_draft().id, "SKAPAT", "2026-11-21T10:15:30.123",
    )  # fmt: skip


def test_the_envelope_is_utf8_with_the_address_escaped_and_the_body_left_as_it_was() -> None:
    """A logical address with markup characters is escaped, not injected; Swedish text stays UTF-8;
    the body element is not moved out of the caller's hands (it can be sent again)."""
    body = su.build_checked(builders.make_draft(), su.event(EventCode.SKAPAT))
    first = status_update_envelope("SE<1>&", body)
    assert first.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert _text(parse_xml(first), f"{{{m.SOAP_ENV_NS}}}Header/itr:LogicalAddress") == "SE<1>&"
    assert "Vårdcentralen".encode() in first or "å".encode() in first
    assert status_update_envelope("SE<1>&", body) == first and body.getparent() is None


def test_a_receiver_reads_absent_fields_as_none_and_empty_ones_as_empty() -> None:
    """What the simulator records of a request missing its event, or with an empty certificate id: the
    absent fields are None, the empty one is "", read from the envelope whole or already split."""
    body = su.build_checked(builders.make_draft(), su.event(EventCode.SKAPAT))
    envelope = parse_xml(status_update_envelope("SE2321000016-1003", body))
    request = envelope_parts(envelope)[1][0]
    handelse = request.find(f"{{{STATUS_UPDATE_V3}}}handelse")
    extension = request.find(f"{{{STATUS_UPDATE_V3}}}intyg/{{{CORE}}}intygs-id/{{{TYPES}}}extension")
    assert handelse is not None and extension is not None
    request.remove(handelse)
    extension.text = None
    expected = ReceivedStatusUpdate("SE2321000016-1003", "", None, None)
    assert read_received(envelope) == expected
    assert read_received_parts(*envelope_parts(envelope)) == expected
