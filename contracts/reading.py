"""Reading values out of schema-valid request elements, shared by the contracts' request readers.

The schema has already decided what is present; these helpers only walk to an element and take its
text, so a reader states *where* a value is and nothing else.
"""

from __future__ import annotations

from lxml import etree


def text_at(parent: etree._Element | None, *path: str) -> str | None:
    """The text of the element at ``path`` (Clark-notation tags) below ``parent``; None when absent.

    An element that is present but empty reads as "".
    """
    element = parent
    for tag in path:
        if element is None:
            return None
        element = element.find(tag)
    return None if element is None else (element.text or "")


def required_at(parent: etree._Element | None, *path: str) -> str:
    """``text_at`` for an element the schema requires: an absent one still reads as "" rather than failing."""
    return text_at(parent, *path) or ""
