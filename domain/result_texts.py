"""The catalogue of result texts: one stable id per refusal rule, a Swedish text and its English twin.

Every ERROR answer the gateway gives is built from an entry here, so that integrators can look an
answer up by its id (the README's "Result texts" section lists them all) and tests can check each rule's answer
against the catalogue instead of against hand-written strings. Texts name the field, the value where
it is safe to echo (never a personnummer), and what the user can do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.values import ErrorId, Role


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason to refuse a request: a catalogue entry rendered with its fields."""

    text_id: str
    error_id: ErrorId
    text: str
    path: str | None = None
    fields: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class ResultText:
    """A catalogue entry. ``sv`` is what goes on the wire; ``en`` documents it."""

    id: str
    error_id: ErrorId
    sv: str
    en: str

    def problem(self, path: str | None = None, **fields: Any) -> Problem:
        """Render this entry with ``fields`` into a ``Problem`` (``path`` is the element path, if any)."""
        # The path is a field too, so a text may name it as {path}.
        return Problem(self.id, self.error_id, self.sv.format(path=path, **fields), path, dict(fields))


# Caller-supplied values echoed in texts (HSA-ids, type codes, message ids) are cut to this many
# characters, so a runaway value cannot blow up the answer.
ECHO_LIMIT = 64


def echo(value: str, limit: int = ECHO_LIMIT) -> str:
    """A caller-supplied value fit to echo in a text: trimmed, at most ``limit`` long (``ECHO_LIMIT``)."""
    value = value.strip()
    return value if len(value) <= limit else value[: limit - 1] + "…"


# Which errorId answers a request with problems of several kinds; earlier wins. See ``result_for``.
ERROR_PRECEDENCE: tuple[ErrorId, ...] = (
    ErrorId.VALIDATION_ERROR,
    ErrorId.APPLICATION_ERROR,
    ErrorId.REVOKED,
    ErrorId.TECHNICAL_ERROR,
)


def result_for(problems: Sequence[Problem]) -> tuple[ErrorId, str]:
    """The ``errorId`` and ``resultText`` of the ERROR answer for ``problems`` (at least one).

    Precedence (``ERROR_PRECEDENCE``): VALIDATION_ERROR, then APPLICATION_ERROR, then REVOKED, then
    TECHNICAL_ERROR. The errorId tells the caller whether to resend: a request with anything
    definitively wrong must not be retried even if a dependency also failed, so the retryable
    TECHNICAL_ERROR is answered only when it is the sole kind of problem, and a malformed request
    (fix the input) outranks a well-formed one that may not be carried out.

    The text is every problem's text, in the order given, joined with "; ". All of them, because an
    integrator should see everything to fix in one answer. Not ", " as Webcert does, because the
    texts themselves contain commas (catalogue texts never contain ";", which a test guards), so
    the separator shows where one problem ends. Repeated texts appear once.

    Raises:
        ValueError: when ``problems`` is empty: there is no ERROR answer to give.
    """
    if not problems:
        raise ValueError("result_for needs at least one problem")
    present = {problem.error_id for problem in problems}
    error_id = next(error_id for error_id in ERROR_PRECEDENCE if error_id in present)
    text = "; ".join(dict.fromkeys(problem.text for problem in problems))
    return error_id, text


# --- Answers given by the front door, before any business rule runs -------------------------------

NOT_XML = ResultText(
    "GW-NOT-XML",
    ErrorId.APPLICATION_ERROR,
    "Meddelandet kunde inte läsas som XML: {reason}. Skicka ett SOAP 1.1-meddelande i UTF-8.",
    "The message could not be read as XML: {reason}. Send a SOAP 1.1 message in UTF-8.",
)
HOSTILE_XML = ResultText(
    "GW-XML-REFUSED",
    ErrorId.VALIDATION_ERROR,
    "Meddelandet avvisades: {reason}. SOAP-meddelanden får inte innehålla DTD eller entiteter.",
    "The message was refused: {reason}. SOAP messages must not contain a DTD or entities.",
)
TOO_LARGE = ResultText(
    "GW-TOO-LARGE",
    ErrorId.VALIDATION_ERROR,
    "Meddelandet är större än tillåtna {limit} byte.",
    "The message is larger than the allowed {limit} bytes.",
)
NOT_SOAP = ResultText(
    "GW-NOT-SOAP",
    ErrorId.VALIDATION_ERROR,
    "Meddelandet är inte ett SOAP 1.1-kuvert med en Body: {reason}.",
    "The message is not a SOAP 1.1 envelope with a Body: {reason}.",
)
SCHEMA_VIOLATION = ResultText(
    "GW-SCHEMA",
    ErrorId.VALIDATION_ERROR,
    "Meddelandet följer inte tjänstekontraktets schema vid {path}: {reason}",
    "The message does not follow the service contract's schema at {path}: {reason}",
)
WRONG_OPERATION = ResultText(
    "GW-WRONG-OPERATION",
    ErrorId.VALIDATION_ERROR,
    "Tjänsten på den här adressen tar bara emot {expected}, men meddelandet innehåller {received}. "
    "Kontrollera adressen i tjänsteadresseringskatalogen.",
    "The service at this address only accepts {expected}, but the message holds {received}. "
    "Check the address in the routing catalogue.",
)
DEPENDENCY_UNAVAILABLE = ResultText(
    "GW-UNAVAILABLE",
    ErrorId.TECHNICAL_ERROR,
    "Tjänsten {dependency} svarar inte just nu. Försök igen om en stund.",
    "The {dependency} service is not answering right now. Try again in a while.",
)
INTERNAL_ERROR = ResultText(
    "GW-INTERNAL",
    ErrorId.APPLICATION_ERROR,
    "Ett internt fel inträffade. Ange korrelations-id {correlation_id} vid kontakt med support.",
    "An internal error occurred. Quote correlation id {correlation_id} when contacting support.",
)

FRONT_DOOR_TEXTS = (
    NOT_XML,
    HOSTILE_XML,
    TOO_LARGE,
    NOT_SOAP,
    SCHEMA_VIOLATION,
    WRONG_OPERATION,
    DEPENDENCY_UNAVAILABLE,
    INTERNAL_ERROR,
)


# --- CreateDraftCertificate v3: the business rules in domain.draft_checks -------------------------
#
# Each text names the element it is about and what the user can do. Values are echoed only when they
# are safe: HSA-ids and type codes are, the patient's person id and name never are. No text contains
# ";" because ``result_for`` joins several texts with "; ".

# VALIDATION_ERROR: the request itself is wrong; resending it unchanged will not help.

PERSON_ID_MISSING = ResultText(
    "CDC-PERSON-ID-MISSING",
    ErrorId.VALIDATION_ERROR,
    "Patientens person-id saknas i intyg/patient/person-id/extension. "
    "Ange personnummer eller samordningsnummer med 12 siffror (ÅÅÅÅMMDDNNNN).",
    "The patient's person id is missing in intyg/patient/person-id/extension. "
    "Give the personnummer or samordningsnummer as 12 digits (YYYYMMDDNNNN).",
)
PERSON_ID_UNKNOWN_ROOT = ResultText(
    "CDC-PERSON-ID-UNKNOWN-ROOT",
    ErrorId.VALIDATION_ERROR,
    "Typen av person-id i intyg/patient/person-id/root är okänd. "
    "Ange 1.2.752.129.2.1.3.1 för personnummer eller 1.2.752.129.2.1.3.3 för samordningsnummer.",
    "The kind of person id in intyg/patient/person-id/root is unknown. "
    "Give 1.2.752.129.2.1.3.1 for a personnummer or 1.2.752.129.2.1.3.3 for a samordningsnummer.",
)
PERSON_ID_FORMAT = ResultText(
    "CDC-PERSON-ID-FORMAT",
    ErrorId.VALIDATION_ERROR,
    "Patientens person-id i intyg/patient/person-id/extension har fel format. "
    "Ange 12 siffror (ÅÅÅÅMMDDNNNN) utan bindestreck. Reservnummer kan inte användas.",
    "The patient's person id in intyg/patient/person-id/extension has the wrong format. "
    "Give 12 digits (YYYYMMDDNNNN) without a dash. Reserve numbers cannot be used.",
)
PERSON_ID_DATE = ResultText(
    "CDC-PERSON-ID-DATE",
    ErrorId.VALIDATION_ERROR,
    "Patientens person-id i intyg/patient/person-id/extension innehåller inget giltigt datum. "
    "Kontrollera födelsedatumet (i ett samordningsnummer är dagen ökad med 60).",
    "The patient's person id in intyg/patient/person-id/extension does not contain a valid date. "
    "Check the date of birth (in a samordningsnummer the day is increased by 60).",
)
PERSON_ID_CHECKSUM = ResultText(
    "CDC-PERSON-ID-CHECKSUM",
    ErrorId.VALIDATION_ERROR,
    "Kontrollsiffran i patientens person-id i intyg/patient/person-id/extension stämmer inte. "
    "Kontrollera att numret är rätt inskrivet.",
    "The check digit of the patient's person id in intyg/patient/person-id/extension is wrong. "
    "Check that the number was entered correctly.",
)
PERSON_ID_NOT_PERSONNUMMER = ResultText(
    "CDC-PERSON-ID-NOT-PERSONNUMMER",
    ErrorId.VALIDATION_ERROR,
    "Patientens person-id i intyg/patient/person-id/extension är ett samordningsnummer, men "
    "intyg/patient/person-id/root anger personnummer. "
    "Ange root 1.2.752.129.2.1.3.3 för samordningsnummer.",
    "The patient's person id in intyg/patient/person-id/extension is a samordningsnummer, but "
    "intyg/patient/person-id/root says personnummer. "
    "Give root 1.2.752.129.2.1.3.3 for a samordningsnummer.",
)
PERSON_ID_NOT_SAMORDNINGSNUMMER = ResultText(
    "CDC-PERSON-ID-NOT-SAMORDNINGSNUMMER",
    ErrorId.VALIDATION_ERROR,
    "Patientens person-id i intyg/patient/person-id/extension är ett personnummer, men "
    "intyg/patient/person-id/root anger samordningsnummer. "
    "Ange root 1.2.752.129.2.1.3.1 för personnummer.",
    "The patient's person id in intyg/patient/person-id/extension is a personnummer, but "
    "intyg/patient/person-id/root says samordningsnummer. "
    "Give root 1.2.752.129.2.1.3.1 for a personnummer.",
)
PATIENT_FAMILY_NAME_MISSING = ResultText(
    "CDC-PATIENT-EFTERNAMN-MISSING",
    ErrorId.VALIDATION_ERROR,
    "Patientens efternamn saknas i intyg/patient/efternamn. Ange efternamnet.",
    "The patient's family name is missing in intyg/patient/efternamn. Give the family name.",
)
ISSUER_HSA_ID_MISSING = ResultText(
    "CDC-ISSUER-HSA-ID-MISSING",
    ErrorId.VALIDATION_ERROR,
    "Användarens HSA-id saknas i intyg/skapadAv/personal-id/extension. "
    "Ange HSA-id för den som skapar utkastet.",
    "The user's HSA-id is missing in intyg/skapadAv/personal-id/extension. "
    "Give the HSA-id of the person creating the draft.",
)
ISSUER_NAME_MISSING = ResultText(
    "CDC-ISSUER-NAME-MISSING",
    ErrorId.VALIDATION_ERROR,
    "Användarens namn saknas i intyg/skapadAv/fullstandigtNamn. "
    "Ange fullständigt namn för den som skapar utkastet.",
    "The user's name is missing in intyg/skapadAv/fullstandigtNamn. "
    "Give the full name of the person creating the draft.",
)
UNIT_HSA_ID_MISSING = ResultText(
    "CDC-UNIT-HSA-ID-MISSING",
    ErrorId.VALIDATION_ERROR,
    "Enhetens HSA-id saknas i intyg/skapadAv/enhet/enhets-id/extension. "
    "Ange HSA-id för enheten där utkastet skapas.",
    "The unit's HSA-id is missing in intyg/skapadAv/enhet/enhets-id/extension. "
    "Give the HSA-id of the unit where the draft is created.",
)
UNIT_NAME_MISSING = ResultText(
    "CDC-UNIT-NAME-MISSING",
    ErrorId.VALIDATION_ERROR,
    "Enhetens namn saknas i intyg/skapadAv/enhet/enhetsnamn. Ange enhetens namn.",
    "The unit's name is missing in intyg/skapadAv/enhet/enhetsnamn. Give the unit's name.",
)
ISSUER_UNKNOWN = ResultText(
    "CDC-ISSUER-UNKNOWN",
    ErrorId.VALIDATION_ERROR,
    "Användaren {hsa_id} i intyg/skapadAv/personal-id/extension finns inte i HSA-katalogen. "
    "Kontrollera HSA-id:t eller be HSA-administratören lägga upp användaren.",
    "User {hsa_id} in intyg/skapadAv/personal-id/extension is not in the HSA directory. "
    "Check the HSA-id or ask the HSA administrator to add the user.",
)
UNIT_UNKNOWN = ResultText(
    "CDC-UNIT-UNKNOWN",
    ErrorId.VALIDATION_ERROR,
    "Enheten {unit_id} i intyg/skapadAv/enhet/enhets-id/extension finns inte i HSA-katalogen. "
    "Kontrollera enhetens HSA-id.",
    "Unit {unit_id} in intyg/skapadAv/enhet/enhets-id/extension is not in the HSA directory. "
    "Check the unit's HSA-id.",
)
ISSUER_NO_ASSIGNMENT = ResultText(
    "CDC-ISSUER-NO-ASSIGNMENT",
    ErrorId.VALIDATION_ERROR,
    "Användaren {hsa_id} har inget medarbetaruppdrag för vård och behandling på enheten "
    "{unit_id} (intyg/skapadAv/enhet/enhets-id/extension), dess underenheter eller "
    "överordnade enheter. "
    "Kontrollera enhetens HSA-id eller be HSA-administratören om ett medarbetaruppdrag.",
    "User {hsa_id} has no assignment for care and treatment on unit {unit_id} "
    "(intyg/skapadAv/enhet/enhets-id/extension), its sub-units or the units above it. "
    "Check the unit's HSA-id or ask the HSA administrator for an assignment.",
)

# APPLICATION_ERROR: the request is well-formed but may not be carried out.

TYPE_UNKNOWN = ResultText(
    "CDC-TYPE-UNKNOWN",
    ErrorId.APPLICATION_ERROR,
    "Intygstypen {code} i kodverket {code_system} (intyg/typAvIntyg) kan inte skapas här. "
    "Kontrollera code och codeSystem mot listan över intygstyper som tjänsten hanterar.",
    "Certificate type {code} in code system {code_system} (intyg/typAvIntyg) cannot be created "
    "here. Check code and codeSystem against the list of certificate types the service handles.",
)
TYPE_CODE_SYSTEM = ResultText(
    "CDC-TYPE-CODE-SYSTEM",
    ErrorId.APPLICATION_ERROR,
    "Intygstypen {code} i kodverket {code_system} (intyg/typAvIntyg) kan inte skapas här. "
    "Koden tas emot som: {accepted}.",
    "Certificate type {code} in code system {code_system} (intyg/typAvIntyg) cannot be created "
    "here. The code is accepted as: {accepted}.",
)
TYPE_INACTIVE = ResultText(
    "CDC-TYPE-INACTIVE",
    ErrorId.APPLICATION_ERROR,
    "Intygstypen {name} ({code}) i intyg/typAvIntyg kan inte längre utfärdas. "
    "Använd den intygstyp som har ersatt den.",
    "Certificate type {name} ({code}) in intyg/typAvIntyg can no longer be issued. "
    "Use the certificate type that replaced it.",
)
TYPE_NOT_YET_ACTIVE = ResultText(
    "CDC-TYPE-NOT-YET-ACTIVE",
    ErrorId.APPLICATION_ERROR,
    "Intygstypen {name} ({code}) i intyg/typAvIntyg kan utfärdas först från och med {from_date} och då "
    "{scope}. Vänta till dess eller använd en annan intygstyp.",
    "Certificate type {name} ({code}) in intyg/typAvIntyg can be issued only from {from_date}, and "
    "then {scope}. Wait until then or use another certificate type.",
)
TYPE_NOT_IN_PILOT = ResultText(
    "CDC-TYPE-NOT-IN-PILOT",
    ErrorId.APPLICATION_ERROR,
    "Intygstypen {name} ({code}) i intyg/typAvIntyg är från och med {from_date} aktiverad {scope}, inte "
    "för enheten {unit_id} (intyg/skapadAv/enhet/enhets-id/extension). Kontakta förvaltningen om enheten "
    "ska ingå i införandet.",
    "Certificate type {name} ({code}) in intyg/typAvIntyg is active from {from_date} {scope}, not for "
    "unit {unit_id} (intyg/skapadAv/enhet/enhets-id/extension). Contact the service's administrators if "
    "the unit should take part in the roll-out.",
)
TYPE_ENDED = ResultText(
    "CDC-TYPE-ENDED",
    ErrorId.APPLICATION_ERROR,
    "Intygstypen {name} ({code}) i intyg/typAvIntyg kunde utfärdas till och med {to_date} och kan inte "
    "längre utfärdas. Använd den intygstyp som har ersatt den.",
    "Certificate type {name} ({code}) in intyg/typAvIntyg could be issued up to and including {to_date} "
    "and can no longer be issued. Use the certificate type that replaced it.",
)
ROLE_NOT_ALLOWED = ResultText(
    "CDC-ROLE-NOT-ALLOWED",
    ErrorId.APPLICATION_ERROR,
    "Du saknar behörighet att skapa intygstypen {name} ({code}) i rollen {role}. "
    "Intygstypen kan skapas av {allowed_roles}.",
    "You may not create certificate type {name} ({code}) in the role {role}. "
    "The certificate type can be created by {allowed_roles}.",
)
PATIENT_UNKNOWN = ResultText(
    "CDC-PATIENT-UNKNOWN",
    ErrorId.APPLICATION_ERROR,
    "Patienten i intyg/patient/person-id/extension finns inte i folkbokföringen (PU-tjänsten). "
    "Kontrollera person-id. Reservnummer kan inte användas.",
    "The patient in intyg/patient/person-id/extension is not in the population register (PU). "
    "Check the person id. Reserve numbers cannot be used.",
)
PATIENT_DECEASED = ResultText(
    "CDC-PATIENT-DECEASED",
    ErrorId.APPLICATION_ERROR,
    "Patienten är avliden och intygstypen {name} ({code}) kan inte utfärdas för en avliden "
    "patient. Kontrollera att rätt patient och intygstyp har angetts.",
    "The patient is deceased and certificate type {name} ({code}) cannot be issued for a deceased "
    "patient. Check that the right patient and certificate type were given.",
)
PROTECTED_PATIENT_ROLE = ResultText(
    "CDC-PROTECTED-PATIENT-ROLE",
    ErrorId.APPLICATION_ERROR,
    "Patienten har skyddade personuppgifter och bara läkare och tandläkare får skapa intyg för "
    "patienten. Din roll är {role}. Be en läkare eller tandläkare skapa utkastet.",
    "The patient has a protected identity and only physicians and dentists may create certificates "
    "for the patient. Your role is {role}. Ask a physician or dentist to create the draft.",
)
PROTECTED_PATIENT_TYPE = ResultText(
    "CDC-PROTECTED-PATIENT-TYPE",
    ErrorId.APPLICATION_ERROR,
    "Intygstypen {name} ({code}) kan inte utfärdas för patienter med skyddade personuppgifter. "
    "Kontakta mottagaren för att lämna uppgifterna på annat sätt.",
    "Certificate type {name} ({code}) cannot be issued for patients with a protected identity. "
    "Contact the recipient to provide the information another way.",
)

# How roles are named inside wire texts (``{role}`` and ``{allowed_roles}`` above).
ROLE_NAMES: dict[Role, str] = {
    Role.LAKARE: "läkare",
    Role.TANDLAKARE: "tandläkare",
    Role.SJUKSKOTERSKA: "sjuksköterska",
    Role.BARNMORSKA: "barnmorska",
    Role.VARDADMINISTRATOR: "vårdadministratör",
}

CREATE_DRAFT_TEXTS = (
    PERSON_ID_MISSING,
    PERSON_ID_UNKNOWN_ROOT,
    PERSON_ID_FORMAT,
    PERSON_ID_DATE,
    PERSON_ID_CHECKSUM,
    PERSON_ID_NOT_PERSONNUMMER,
    PERSON_ID_NOT_SAMORDNINGSNUMMER,
    PATIENT_FAMILY_NAME_MISSING,
    ISSUER_HSA_ID_MISSING,
    ISSUER_NAME_MISSING,
    UNIT_HSA_ID_MISSING,
    UNIT_NAME_MISSING,
    ISSUER_UNKNOWN,
    UNIT_UNKNOWN,
    ISSUER_NO_ASSIGNMENT,
    TYPE_UNKNOWN,
    TYPE_CODE_SYSTEM,
    TYPE_INACTIVE,
    TYPE_NOT_YET_ACTIVE,
    TYPE_NOT_IN_PILOT,
    TYPE_ENDED,
    ROLE_NOT_ALLOWED,
    PATIENT_UNKNOWN,
    PATIENT_DECEASED,
    PROTECTED_PATIENT_ROLE,
    PROTECTED_PATIENT_TYPE,
)

# --- SendMessageToCare v2: the rules in domain.message_checks -------------------------------------
#
# Paths are below SendMessageToCare. Certificate and message ids are echoed (cut to a safe length
# with ``echo``); the patient's id never is.

MESSAGE_ID_MISSING = ResultText(
    "SMTC-MESSAGE-ID-MISSING",
    ErrorId.VALIDATION_ERROR,
    "Meddelandets id saknas i meddelande-id. Ange ett unikt id (GUID) för meddelandet.",
    "The message id is missing in meddelande-id. Give a unique id (GUID) for the message.",
)
MESSAGE_ID_REUSED = ResultText(
    "SMTC-MESSAGE-ID-REUSED",
    ErrorId.VALIDATION_ERROR,
    "Meddelande-id {message_id} har redan tagits emot med ett annat innehåll. "
    "Ge varje nytt meddelande ett eget meddelande-id.",
    "meddelande-id {message_id} was already received with different content. "
    "Give every new message its own meddelande-id.",
)
AMNE_UNKNOWN = ResultText(
    "SMTC-AMNE-UNKNOWN",
    ErrorId.VALIDATION_ERROR,
    "Ämnet {code} i amne/code stöds inte. Ange KOMPLT, KONTKT, AVSTMN, OVRIGT eller PAMINN.",
    "Subject {code} in amne/code is not supported. Give KOMPLT, KONTKT, AVSTMN, OVRIGT or PAMINN.",
)
KOMPLETTERING_NOT_KOMPLT = ResultText(
    "SMTC-KOMPLETTERING-NOT-KOMPLT",
    ErrorId.VALIDATION_ERROR,
    "komplettering får bara anges när amne är KOMPLT, men amne är {code}. "
    "Ta bort komplettering eller ange amne KOMPLT.",
    "komplettering may only be given when amne is KOMPLT, but amne is {code}. "
    "Remove komplettering or give amne KOMPLT.",
)
REMINDER_ID_MISSING = ResultText(
    "SMTC-REMINDER-ID-MISSING",
    ErrorId.VALIDATION_ERROR,
    "En påminnelse (amne PAMINN) ska ange frågan den påminner om i paminnelseMeddelande-id.",
    "A reminder (amne PAMINN) must name the question it reminds about in paminnelseMeddelande-id.",
)
REMINDER_ID_NOT_PAMINN = ResultText(
    "SMTC-REMINDER-ID-NOT-PAMINN",
    ErrorId.VALIDATION_ERROR,
    "paminnelseMeddelande-id får bara anges för en påminnelse (amne PAMINN), men amne är {code}.",
    "paminnelseMeddelande-id may only be given for a reminder (amne PAMINN), but amne is {code}.",
)
REMINDER_OF_UNKNOWN = ResultText(
    "SMTC-REMINDER-OF-UNKNOWN",
    ErrorId.VALIDATION_ERROR,
    "Påminnelsen gäller {message_id} i paminnelseMeddelande-id, men intyget har ingen fråga med "
    "det meddelande-id:t. Kontrollera id:t.",
    "The reminder is about {message_id} in paminnelseMeddelande-id, but the certificate has no "
    "question with that meddelande-id. Check the id.",
)
ANSWER_TO_UNKNOWN = ResultText(
    "SMTC-ANSWER-TO-UNKNOWN",
    ErrorId.VALIDATION_ERROR,
    "Svaret gäller {message_id} i svarPa/meddelande-id, men intyget har ingen fråga med det "
    "meddelande-id:t. Kontrollera id:t.",
    "The answer is to {message_id} in svarPa/meddelande-id, but the certificate has no question "
    "with that meddelande-id. Check the id.",
)
ANSWER_TO_REMINDER = ResultText(
    "SMTC-ANSWER-TO-REMINDER",
    ErrorId.VALIDATION_ERROR,
    "{message_id} i svarPa/meddelande-id är en påminnelse och kan inte besvaras. "
    "Besvara frågan som påminnelsen gäller.",
    "{message_id} in svarPa/meddelande-id is a reminder and cannot be answered. "
    "Answer the question the reminder is about.",
)
ANSWER_WITH_DEADLINE = ResultText(
    "SMTC-ANSWER-WITH-DEADLINE",
    ErrorId.VALIDATION_ERROR,
    "Ett svar (med svarPa) får inte ange sistaDatumForSvar. Ta bort sistaDatumForSvar.",
    "An answer (with svarPa) must not give sistaDatumForSvar. Remove sistaDatumForSvar.",
)
ANSWER_AMNE_MISMATCH = ResultText(
    "SMTC-ANSWER-AMNE-MISMATCH",
    ErrorId.VALIDATION_ERROR,
    "Svaret har amne {code} men frågan {message_id} har amne {question_code}. "
    "Ett svar ska ha samma ämne som frågan.",
    "The answer has amne {code} but question {message_id} has amne {question_code}. "
    "An answer must have the question's subject.",
)
ANSWER_EXISTS = ResultText(
    "SMTC-ANSWER-EXISTS",
    ErrorId.VALIDATION_ERROR,
    "Frågan {message_id} i svarPa/meddelande-id är redan besvarad. En fråga kan bara besvaras en gång.",
    "Question {message_id} in svarPa/meddelande-id has already been answered. "
    "A question can be answered only once.",
)
SENDER_UNKNOWN = ResultText(
    "SMTC-SENDER-UNKNOWN",
    ErrorId.VALIDATION_ERROR,
    "Avsändaren {code} i skickatAv/part/code är ingen känd intygsmottagare. Ange till exempel FKASSA.",
    "Sender {code} in skickatAv/part/code is not a known certificate recipient. Give for example FKASSA.",
)
MESSAGE_CERTIFICATE_UNKNOWN = ResultText(
    "SMTC-CERTIFICATE-UNKNOWN",
    ErrorId.VALIDATION_ERROR,
    "Intyget {certificate_id} i intygs-id/extension finns inte här. Kontrollera intygs-id och "
    "logiskAdressMottagare.",
    "Certificate {certificate_id} in intygs-id/extension is not held here. Check intygs-id and "
    "logiskAdressMottagare.",
)
MESSAGE_CERTIFICATE_NOT_SIGNED = ResultText(
    "SMTC-CERTIFICATE-NOT-SIGNED",
    ErrorId.VALIDATION_ERROR,
    "Intyget {certificate_id} är inte signerat. Frågor och svar kan bara gälla signerade intyg.",
    "Certificate {certificate_id} is not signed. Questions and answers can only be about signed "
    "certificates.",
)
MESSAGE_PATIENT_MISMATCH = ResultText(
    "SMTC-PATIENT-MISMATCH",
    ErrorId.VALIDATION_ERROR,
    "Patienten i patientPerson-id är inte patienten på intyget {certificate_id}. "
    "Kontrollera patientPerson-id och intygs-id.",
    "The patient in patientPerson-id is not the patient of certificate {certificate_id}. "
    "Check patientPerson-id and intygs-id.",
)
MESSAGE_TEST_CERTIFICATE = ResultText(
    "SMTC-TEST-CERTIFICATE",
    ErrorId.VALIDATION_ERROR,
    "Intyget {certificate_id} är ett testintyg (valideringsperson) och kan inte få frågor eller svar.",
    "Certificate {certificate_id} is a test certificate (validation person) and cannot receive "
    "questions or answers.",
)
MESSAGE_CERTIFICATE_REVOKED = ResultText(
    "SMTC-CERTIFICATE-REVOKED",
    ErrorId.APPLICATION_ERROR,
    "Intyget {certificate_id} är makulerat och kan inte få nya frågor eller svar.",
    "Certificate {certificate_id} is revoked and cannot receive new questions or answers.",
)

SEND_MESSAGE_TEXTS = (
    MESSAGE_ID_MISSING,
    MESSAGE_ID_REUSED,
    AMNE_UNKNOWN,
    KOMPLETTERING_NOT_KOMPLT,
    REMINDER_ID_MISSING,
    REMINDER_ID_NOT_PAMINN,
    REMINDER_OF_UNKNOWN,
    ANSWER_TO_UNKNOWN,
    ANSWER_TO_REMINDER,
    ANSWER_WITH_DEADLINE,
    ANSWER_AMNE_MISMATCH,
    ANSWER_EXISTS,
    SENDER_UNKNOWN,
    MESSAGE_CERTIFICATE_UNKNOWN,
    MESSAGE_CERTIFICATE_NOT_SIGNED,
    MESSAGE_PATIENT_MISMATCH,
    MESSAGE_TEST_CERTIFICATE,
    MESSAGE_CERTIFICATE_REVOKED,
)

# --- StoreLog v2: the rules in domain.store_log -----------------------------------------------------
#
# StoreLog's ResultType has no errorId: the responder answers these as resultCode VALIDATION_ERROR.
# Each text starts with the entry's position in the call and its logId (cut with ``echo``), so a
# sender can split the batch and resend the good entries; the field is a path below ``log``.

STORELOG_TOO_MANY_ENTRIES = ResultText(
    "SL-TOO-MANY-ENTRIES",
    ErrorId.VALIDATION_ERROR,
    "Anropet innehåller {count} loggposter men högst {limit} tas emot per anrop. "
    "Dela upp loggposterna på flera anrop.",
    "The call holds {count} log entries but at most {limit} are accepted per call. "
    "Split the log entries over several calls.",
)
STORELOG_FIELD_BLANK = ResultText(
    "SL-FIELD-BLANK",
    ErrorId.VALIDATION_ERROR,
    "Loggpost {index} (logId {log_id}): {field} är tomt. Ange ett värde.",
    "Log entry {index} (logId {log_id}): {field} is empty. Give a value.",
)
STORELOG_DUPLICATE_IN_CALL = ResultText(
    "SL-LOG-ID-TWICE",
    ErrorId.VALIDATION_ERROR,
    "Loggpost {index} (logId {log_id}): samma logId finns i loggpost {first} i anropet. "
    "Ge varje loggpost ett eget logId.",
    "Log entry {index} (logId {log_id}): log entry {first} of the call has the same logId. "
    "Give every log entry its own logId.",
)
STORELOG_LOG_ID_REUSED = ResultText(
    "SL-LOG-ID-REUSED",
    ErrorId.VALIDATION_ERROR,
    "Loggpost {index} (logId {log_id}): logId finns redan lagrat med ett annat innehåll. "
    "Ge loggposten ett nytt logId.",
    "Log entry {index} (logId {log_id}): the logId is already stored with different content. "
    "Give the log entry a new logId.",
)
STORELOG_PATIENT_ID_INVALID = ResultText(
    "SL-PATIENT-ID-INVALID",
    ErrorId.VALIDATION_ERROR,
    "Loggpost {index} (logId {log_id}): {field} är inget giltigt {kind}: {reason}. "
    "Kontrollera patientens id och root.",
    "Log entry {index} (logId {log_id}): {field} is not a valid {kind}: {reason}. "
    "Check the patient's id and root.",
)
STORELOG_START_DATE_UNREADABLE = ResultText(
    "SL-START-DATE-UNREADABLE",
    ErrorId.VALIDATION_ERROR,
    "Loggpost {index} (logId {log_id}): activity/startDate kan inte tolkas som en tidpunkt. "
    "Ange ÅÅÅÅ-MM-DDTtt:mm:ss, med eller utan tidszon.",
    "Log entry {index} (logId {log_id}): activity/startDate cannot be read as a point in time. "
    "Give YYYY-MM-DDThh:mm:ss, with or without a time zone.",
)
STORELOG_START_DATE_FUTURE = ResultText(
    "SL-START-DATE-FUTURE",
    ErrorId.VALIDATION_ERROR,
    "Loggpost {index} (logId {log_id}): activity/startDate ligger mer än {skew} sekunder fram "
    "i tiden. Kontrollera det loggande systemets klocka och tidszon.",
    "Log entry {index} (logId {log_id}): activity/startDate is more than {skew} seconds in the "
    "future. Check the logging system's clock and time zone.",
)

# How a person id check is named in ``{reason}`` above (keys: domain.personnummer.PersonIdProblem).
PERSON_ID_REASONS: dict[str, str] = {
    "missing": "extension saknas",
    "format": "inte 12 siffror (ÅÅÅÅMMDDNNNN)",
    "date": "inget giltigt datum",
    "checksum": "fel kontrollsiffra",
    "root_mismatch": "root anger fel sorts nummer",
}

STORE_LOG_TEXTS = (
    STORELOG_TOO_MANY_ENTRIES,
    STORELOG_FIELD_BLANK,
    STORELOG_DUPLICATE_IN_CALL,
    STORELOG_LOG_ID_REUSED,
    STORELOG_PATIENT_ID_INVALID,
    STORELOG_START_DATE_UNREADABLE,
    STORELOG_START_DATE_FUTURE,
)

# --- ListCertificatesForCareWithQA v3: the request rules in domain.certificate_list ----------------
#
# The contract has no ResultType: these texts are the ``faultstring`` of a SOAP Client fault
# (several joined with "; "). The errorId is what ``result_for`` ranks by; it is not on the wire.

LIST_PERSON_ID_MISSING = ResultText(
    "LCQ-PERSON-ID-MISSING",
    ErrorId.VALIDATION_ERROR,
    "Patientens person-id saknas i person-id/extension. "
    "Ange personnummer eller samordningsnummer med 12 siffror (ÅÅÅÅMMDDNNNN).",
    "The patient's person id is missing in person-id/extension. "
    "Give the personnummer or samordningsnummer as 12 digits (YYYYMMDDNNNN).",
)
LIST_PERSON_ID_INVALID = ResultText(
    "LCQ-PERSON-ID-INVALID",
    ErrorId.VALIDATION_ERROR,
    "Patientens person-id i person-id är inte ett giltigt personnummer eller samordningsnummer ({reason}). "
    "Kontrollera numret och att root anger rätt sorts nummer.",
    "The patient's person id in person-id is not a valid personnummer or samordningsnummer ({reason}). "
    "Check the number and that root names the right kind of number.",
)
LIST_NO_UNIT_OR_CARE_GIVER = ResultText(
    "LCQ-NO-UNIT-OR-CARE-GIVER",
    ErrorId.VALIDATION_ERROR,
    "Varken enhets-id eller vardgivar-id är angivet. Ange minst ett enhets-id eller ett vardgivar-id.",
    "Neither enhets-id nor vardgivar-id is given. Give at least one enhets-id or a vardgivar-id.",
)
LIST_WINDOW_REVERSED = ResultText(
    "LCQ-WINDOW-REVERSED",
    ErrorId.VALIDATION_ERROR,
    "fromTidpunkt ligger efter tomTidpunkt. Ange en tidsperiod som börjar före den slutar.",
    "fromTidpunkt lies after tomTidpunkt. Give a period that starts before it ends.",
)

LIST_CERTIFICATES_TEXTS = (
    LIST_PERSON_ID_MISSING,
    LIST_PERSON_ID_INVALID,
    LIST_NO_UNIT_OR_CARE_GIVER,
    LIST_WINDOW_REVERSED,
)

# Every catalogue entry, for the README and the test that keeps them in step.
ALL_TEXTS = FRONT_DOOR_TEXTS + CREATE_DRAFT_TEXTS + SEND_MESSAGE_TEXTS + STORE_LOG_TEXTS + LIST_CERTIFICATES_TEXTS
