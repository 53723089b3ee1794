"""The RIVTA contracts: XML to domain values and back, one folder per interaction and major version.

``request.py`` reads a validated lxml element into domain values (no I/O, no rules), ``response.py``
writes answers, ``responder.py`` runs the contract's decision order. A new version is a sibling
folder; versions share plain functions, never base classes. lxml stays inside this package and
``gateway``.
"""
