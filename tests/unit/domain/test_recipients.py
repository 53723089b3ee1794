"""The recipient registry: the shipped file, the checks of a deployment's own file, and check_send."""

from __future__ import annotations

from typing import Any

import pytest

from domain.certificate_types import load_default_registry
from domain.recipients import RecipientConfigError, SendRefusal, from_mapping, load_default_recipients


def _file(**changes: Any) -> dict[str, Any]:
    entry = {"name": "Försäkringskassan", "logical_address": "2021005521", "certificate_types": ["LISJP"],
             "active": True} | changes
    return {"recipients": {"FKASSA": {k: v for k, v in entry.items() if v is not None}}}


def test_the_shipped_registry_has_fk_and_transportstyrelsen_for_their_types() -> None:
    """FKASSA at 2021005521 for every FK type, TRANSP at 2021006099 for every TS type of the type registry."""
    recipients = load_default_recipients()
    fk, ts = recipients.lookup("FKASSA"), recipients.lookup("TRANSP")
    assert fk is not None and ts is not None
    assert (fk.logical_address, ts.logical_address) == ("2021005521", "2021006099")
    types = list(load_default_registry())
    assert {t.code for t in types if t.recipient == "FKASSA"} == fk.certificate_types
    assert {t.code for t in types if t.recipient == "TRANSP"} == ts.certificate_types
    assert recipients.by_address("2021005521") is fk


@pytest.mark.parametrize(("data", "message"), [
    ({"recipients": {}}, "non-empty [recipients]"),
    ({"recipient": {}}, "unknown top-level keys"),
    (_file(adress="x"), "unknown keys ['adress']"),
    (_file(active=None), "missing keys ['active']"),
    (_file(active="yes"), "active must be true or false"),
    (_file(certificate_types=[]), "certificate_types must be a non-empty list"),
    (_file(certificate_types=["LISJP", "LISJP"]), "lists ['LISJP'] more than once"),
    (_file(logical_address=" "), "logical_address must be a non-empty string"),
    ({"recipients": {"fkassa": _file()["recipients"]["FKASSA"]}}, "part code"),
    ({"recipients": {**_file()["recipients"], "OTHER": _file()["recipients"]["FKASSA"]}}, "is FKASSA's too"),
])
def test_a_broken_file_is_refused_naming_the_recipient(data: dict[str, Any], message: str) -> None:
    with pytest.raises(RecipientConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        from_mapping(data)


def test_check_send_says_why_not() -> None:
    registry = from_mapping({"recipients": {
        "FKASSA": {"name": "FK", "logical_address": "1", "certificate_types": ["LISJP"], "active": True},
        "SKV": {"name": "Skatteverket", "logical_address": "2", "certificate_types": ["DB"], "active": False},
    }})
    assert registry.check_send(" FKASSA ", "LISJP") is registry.lookup("FKASSA")
    assert registry.check_send("FKASSA", "DB") is SendRefusal.RECIPIENT_NOT_FOR_TYPE
    assert registry.check_send("SKV", "DB") is SendRefusal.RECIPIENT_INACTIVE
    assert registry.check_send("fkassa", "LISJP") is SendRefusal.RECIPIENT_UNKNOWN  # part codes are exact
