"""StoreLog's entry rules as plain Python: every failing entry reported, with its position, logId and field."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from domain import result_texts as texts
from domain.store_log import (
    LogEntry,
    Resource,
    StoreLogLimits,
    check_entries,
    read_start_date,
    repeated_info,
)

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
LIMITS = StoreLogLimits(max_entries=3, clock_skew=timedelta(minutes=5))
RESOURCE = Resource(resource_type="Intyg", care_giver_id="SE2321000016-0001", patient_id_root="1.2.752.129.2.1.3.1",
                    patient_id="191212121212")


def entry(position: int = 1, **changes: object) -> LogEntry:
    base = LogEntry(
        position=position, log_id=f"id-{position}", system_id="SE1", activity="Läsa", start_date=NOW,
        purpose="Vård och behandling", user_id="U1", user_care_giver_id="G1", user_care_unit_id="E1",
        resources=(RESOURCE,),
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def ids(problems: list[texts.Problem]) -> list[tuple[str, object, object]]:
    return [(p.text_id, p.fields.get("index"), p.fields.get("field")) for p in problems]


def test_good_entries_pass() -> None:
    """Valid entries, a samordningsnummer and a non-personnummer root included, raise nothing."""
    local_id = replace(RESOURCE, patient_id_root="1.2.752.97.3.1.3", patient_id="X-17")
    samordning = replace(RESOURCE, patient_id_root="1.2.752.129.2.1.3.3", patient_id="197010632391")
    assert check_entries([entry(1), entry(2, log_id="b", resources=(local_id, samordning))], NOW, LIMITS) == []


def test_too_many_entries_is_one_problem() -> None:
    """Beyond max_entries the call is refused as a whole, naming the count and the limit."""
    problems = check_entries([entry(n, log_id=str(n)) for n in range(1, 5)], NOW, LIMITS)
    assert [(p.text_id, p.fields) for p in problems] == [(texts.STORELOG_TOO_MANY_ENTRIES.id, {"count": 4, "limit": 3})]


def test_every_failing_entry_is_reported_with_its_field() -> None:
    """Blank user, bad check digit in resource 2 and a duplicated logId are each reported for their entry."""
    bad = replace(RESOURCE, patient_id="191212121213")
    problems = check_entries(
        [entry(1, user_id="  "), entry(2, resources=(RESOURCE, bad)), entry(3, log_id="id-1")], NOW, LIMITS
    )
    assert ids(problems) == [
        (texts.STORELOG_FIELD_BLANK.id, 1, "user/userId"),
        (texts.STORELOG_PATIENT_ID_INVALID.id, 2, "resources/resource[2]/patient/patientId/extension"),
        (texts.STORELOG_DUPLICATE_IN_CALL.id, 3, None),
    ]
    assert problems[1].text.startswith("Loggpost 2 (logId id-2): ") and "fel kontrollsiffra" in problems[1].text
    assert "191212121213" not in problems[1].text
    assert problems[2].fields["first"] == 1


def test_root_contradicting_the_digits_is_refused() -> None:
    """A samordningsnummer sent under the personnummer root is not a valid personnummer."""
    wrong_root = replace(RESOURCE, patient_id="197010632391")
    [problem] = check_entries([entry(resources=(wrong_root,))], NOW, LIMITS)
    assert (
        problem.fields["kind"] == "personnummer"
        and problem.fields["reason"] == texts.PERSON_ID_REASONS["root_mismatch"]
    )


def test_start_date_beyond_the_skew_is_refused_within_it_accepted() -> None:
    """Five minutes ahead is clock skew; six is the future; an unreadable date is its own problem."""
    problems = check_entries(
        [entry(1, start_date=NOW + timedelta(minutes=5)), entry(2, start_date=NOW + timedelta(minutes=6)),
         entry(3, start_date=None)],
        NOW,
        LIMITS,
    )
    assert ids(problems) == [
        (texts.STORELOG_START_DATE_FUTURE.id, 2, None),
        (texts.STORELOG_START_DATE_UNREADABLE.id, 3, None),
    ]


def test_start_date_without_zone_is_swedish_time() -> None:
    """Webcert sends local time: 08:15 in November is 07:15 UTC, in July 06:15 UTC; zones are honoured."""
    assert read_start_date("2026-11-20T08:15:00") == datetime(2026, 11, 20, 7, 15, tzinfo=UTC)
    assert read_start_date("2026-07-20T08:15:00") == datetime(2026, 7, 20, 6, 15, tzinfo=UTC)
    assert read_start_date("2026-11-20T08:15:00.5Z") == datetime(2026, 11, 20, 8, 15, 0, 500000, tzinfo=UTC)
    assert read_start_date("2026-11-20T24:00:00") is None


def test_records_are_normalised_one_per_resource() -> None:
    """Ids are trimmed, blank optional texts omitted, resources numbered from 0."""
    e = entry(log_id=" id-1 ", system_name="  ", user_title=" Läkare ",
              resources=(RESOURCE, replace(RESOURCE, care_unit_id=" ")))
    first, second = e.records()
    assert (first.log_id, first.system_name, first.user_title, first.resource_index) == ("id-1", None, "Läkare", 0)
    assert (second.resource_index, second.resource_care_unit_id) == (1, None)


def test_repeated_info_names_the_repeats() -> None:
    """The INFO text counts and names the entries that were already stored."""
    assert (
        repeated_info(["a", "b"], 5)
        == "2 av 5 loggposter fanns redan lagrade med samma innehåll och lagrades inte igen (logId a, b)."
    )
