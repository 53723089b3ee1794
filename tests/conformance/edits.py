"""Edits that bend or break a message body, addressed by XPath with the prefixes of ``tests.envelopes``.

Every corpus builds its invalid cases from a valid body and one of these edits, so a case states
exactly which rule it breaks. ``at`` insists on exactly one match: a path that finds nothing would
otherwise leave the message valid and the case would pass for the wrong reason.
"""

from __future__ import annotations

import copy

from lxml import etree

from tests import envelopes as m
from tests.envelopes import Element


def at(root: Element, path: str) -> Element:
    """The one element at ``path``; fails loudly so that a broken case cannot pass by accident."""
    found = root.xpath(path, namespaces=m.PREFIXES)
    assert isinstance(found, list) and len(found) == 1, (
        f"{path}: {len(found) if isinstance(found, list) else str(found)}"
    )
    element = found[0]
    assert isinstance(element, etree._Element)
    return element


def remove(root: Element, path: str) -> Element:
    element = at(root, path)
    parent = element.getparent()
    assert parent is not None
    parent.remove(element)
    return root


def rename(root: Element, path: str, tag: str) -> Element:
    at(root, path).tag = m.clark(tag)
    return root


def set_text(root: Element, path: str, text: str) -> Element:
    at(root, path).text = text
    return root


def duplicate(root: Element, path: str) -> Element:
    element = at(root, path)
    element.addnext(copy.deepcopy(element))
    return root


def move_after(root: Element, path: str, anchor: str) -> Element:
    at(root, anchor).addnext(at(root, path))
    return root


def append(root: Element, path: str, child: Element) -> Element:
    at(root, path).append(child)
    return root


def foreign() -> Element:
    """An extension element in a namespace no contract declares."""
    return m.extension_element()
