"""The console's words in Swedish and English: one entry per label, both languages side by side.

A page asks for ``t("key")``; a key missing from this table is a programming error caught by the
console's tests (each page is rendered in both languages). Domain terms keep their contract names in
both languages (vårdenhet, intygs-id), as docs/glossary.md explains them.
"""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES = ("sv", "en")

TEXTS: Mapping[str, tuple[str, str]] = {
    # layout
    "title": ("Intygsgateway – driftkonsol", "Intygsgateway – operator console"),
    "skip": ("Hoppa till innehållet", "Skip to content"),
    "nav": ("Huvudmeny", "Main menu"),
    "nav_outbox": ("Utkorg", "Outbox"),
    "nav_resend": ("Skicka om", "Resend"),
    "nav_routing": ("Routning", "Routing"),
    "nav_pdl": ("PDL-logg", "PDL log"),
    "language": ("Språk", "Language"),
    "signed_in_as": ("Inloggad som", "Signed in as"),
    "logout": ("Logga ut", "Sign out"),
    # login
    "login_title": ("Logga in", "Sign in"),
    "login_help": ("Ange en servicetoken eller en OIDC-token med behörigheten read. Den sparas i en "
                   "cookie som bara den här webbplatsen kan läsa, tills du loggar ut eller stänger webbläsaren.",
                   "Give a service token or an OIDC token with the read scope. It is kept in a cookie only "
                   "this site can read, until you sign out or close the browser."),
    "token": ("Token", "Token"),
    "login": ("Logga in", "Sign in"),
    "login_refused": ("Token godtogs inte", "The token was not accepted"),
    # errors
    "error": ("Fel", "Error"),
    "forbidden": ("Din inloggning saknar behörigheten", "Your credential lacks the scope"),
    "csrf_refused": ("Formuläret saknar eller har fel skyddskod (CSRF). Ladda om sidan och försök igen.",
                     "The form's protection code (CSRF) is missing or wrong. Reload the page and try again."),
    "not_found": ("Finns inte", "Not found"),
    # outbox
    "outbox_title": ("Utkorgen: statusuppdateringar", "Outbox: status updates"),
    "counts": ("Antal per status", "Count by status"),
    "status": ("Status", "Status"),
    "count": ("Antal", "Count"),
    "oldest_pending": ("Äldsta väntande", "Oldest pending"),
    "age": ("Ålder", "Age"),
    "none": ("inga", "none"),
    "by_unit": ("Väntande och misslyckade per vårdenhet", "Pending and failed by care unit (vårdenhet)"),
    "unit": ("Vårdenhet (HSA-id)", "Care unit (HSA-id)"),
    "pending": ("Väntande", "Pending"),
    "failed": ("Misslyckade", "Failed"),
    "by_class": ("Per utfall av senaste försöket", "By outcome class of the last attempt"),
    "outcome_class": ("Utfall", "Outcome class"),
    "not_tried": ("ej försökt", "not tried"),
    "resend_unit": ("Skicka om för enheten", "Resend for this unit"),
    "find_event": ("Visa händelse", "Show event"),
    "event_id": ("Händelse-id", "Event id"),
    "show": ("Visa", "Show"),
    # event
    "event_title": ("Händelse", "Event"),
    "field": ("Fält", "Field"),
    "value": ("Värde", "Value"),
    "attempts": ("Försök", "Attempts"),
    "no_attempts": ("Inga försök ännu.", "No attempts yet."),
    "at": ("Tid", "Time"),
    "decision": ("Beslut", "Decision"),
    "http_status": ("HTTP-status", "HTTP status"),
    "result_code": ("Resultatkod", "Result code"),
    "error_id": ("Fel-id", "Error id"),
    "text": ("Text", "Text"),
    "url": ("Adress", "URL"),
    "correlation_id": ("Korrelations-id", "Correlation id"),
    "duration_ms": ("Tid (ms)", "Duration (ms)"),
    "resend_event": ("Skicka om den här händelsen", "Resend this event"),
    # resend
    "resend_title": ("Skicka om statusuppdateringar", "Resend status updates"),
    "resend_help": ("Välj händelser med minst ett villkor. Förhandsgranska först: ingenting ändras förrän "
                    "du bekräftar. En väntande händelse köas aldrig en gång till.",
                    "Select events with at least one criterion. Preview first: nothing changes until you "
                    "confirm. A pending event is never queued a second time."),
    "event_ids": ("Händelse-id (kommaseparerade)", "Event ids (comma-separated)"),
    "certificate_id": ("Intygs-id", "Certificate id (intygs-id)"),
    "care_giver": ("Vårdgivare (HSA-id)", "Care giver (HSA-id)"),
    "since": ("Från och med (ISO 8601)", "Since (ISO 8601, inclusive)"),
    "until": ("Till (ISO 8601)", "Until (ISO 8601, exclusive)"),
    "include_delivered": ("Även levererade", "Include delivered"),
    "max": ("Högst antal", "At most"),
    "reason": ("Anledning (obligatorisk)", "Reason (required)"),
    "reason_required": ("Ange en anledning.", "Give a reason."),
    "preview": ("Förhandsgranska", "Preview (dry run)"),
    "preview_title": ("Förhandsgranskning: ingenting har ändrats", "Preview: nothing has changed"),
    "selected": ("Valda att skicka om", "Selected for resend"),
    "over_cap": ("Fler händelser än högsta antalet matchar: höj gränsen eller smalna av urvalet.",
                 "More events match than the maximum: raise it or narrow the selection."),
    "no_criteria": ("Ange minst ett villkor.", "Give at least one criterion."),
    "confirm_resend": ("Skicka om nu", "Resend now"),
    "resend_done": ("Omsändning köad", "Resend queued"),
    "rearmed": ("Köade igen", "Queued again"),
    "already_pending": ("Redan väntande", "Already pending"),
    "by": ("Av", "By"),
    # routing
    "routing_title": ("Routning", "Routing"),
    "explain": ("Förklara en uppslagning", "Explain a lookup"),
    "contract": ("Kontrakt (namnrymd)", "Contract (namespace)"),
    "address": ("Logisk adress (HSA-id)", "Logical address (HSA-id)"),
    "consumer": ("Tjänstekonsument (HSA-id, valfri)", "Service consumer (HSA-id, optional)"),
    "on": ("Datum", "Date"),
    "explain_button": ("Förklara", "Explain"),
    "passes": ("Anropet går igenom till", "The call passes to"),
    "refused": ("Nekas", "Refused"),
    "trace": ("Spår (i ordning)", "Trace (in order tried)"),
    "route": ("Väg", "Route"),
    "access": ("Behörighet", "Access right"),
    "allowed": ("tillåten", "allowed"),
    "denied": ("nekad", "refused"),
    "version": ("Version", "Version"),
    "versions": ("Senaste versionerna av katalogen", "Latest catalogue versions"),
    "created": ("Skapad", "Created"),
    "action": ("Åtgärd", "Action"),
    "routes": ("Vägar", "Routes"),
    "rights": ("Behörigheter", "Access rights"),
    "changes": ("Ändringar", "Changes"),
    "diff": ("Skillnad", "Diff"),
    "not_kept": ("Inte sparad", "Not kept"),
    "diff_title": ("Ändringar i version", "Changes in version"),
    "added": ("Tillagda", "Added"),
    "removed": ("Borttagna", "Removed"),
    "changed": ("Ändrade", "Changed"),
    "no_changes": ("Inga ändringar.", "No changes."),
    "check": ("Integrerade enheter utan väg, och rader som snart upphör", "Integrated units without a route, "
              "and rows about to expire"),
    "kind": ("Slag", "Kind"),
    "subject": ("Gäller", "Subject"),
    "detail": ("Detaljer", "Detail"),
    "code": ("Kod", "Code"),
    "no_findings": ("Inga fynd:", "No findings:"),
    "units_checked": ("integrerade enheter kontrollerade", "integrated units checked"),
    # pdl
    "pdl_title": ("PDL-loggens kedja", "The PDL log's chain"),
    "intact": ("Kedjan är hel", "The chain is intact"),
    "broken": ("Kedjan är bruten", "The chain is broken"),
    "checked": ("Kontrollerade poster", "Records checked"),
    "last_seq": ("Sista löpnummer", "Last sequence number"),
    "unsealed": ("Väntar på försegling", "Waiting for their seal"),
    "last_checkpoint": ("Senaste giltiga signerade kontrollpunkt", "Last good signed checkpoint"),
    "no_checkpoint": ("ingen (loggen signeras inte, eller ingen kontrollpunkt ännu)",
                      "none (the log is not signed, or no checkpoint yet)"),
    "unsigned": ("Poster efter den", "Records after it"),
    "break_kind": ("Brott", "Break"),
    "seq": ("Löpnummer", "Sequence number"),
}


def text(key: str, language: str) -> str:
    """The label ``key`` in ``language`` (``sv`` or ``en``)."""
    swedish, english = TEXTS[key]
    return swedish if language == "sv" else english
