"""The front door: WSGI routing, Spyne, hardened XML parsing, XSD validation and WSDL serving.

A request travels ``app.py`` (path → contract endpoint, probes) → ``wsdl.py`` for ``GET ?wsdl`` /
``?xsd=`` or, for ``POST``, ``body.py`` (the body read within the size cap; an oversize one answered,
then drained) and ``soap.py`` (``xmlparse.py`` parses, ``validation.py`` checks the header and
body against ``xsd/``) → the contract's responder in ``contracts``. A POST carries its typed context
(``request.py``: correlation id, endpoint, contract, caller, outcome) by argument, not in the environ.
Spyne is used here and nowhere else, and only for SOAP dispatch: the contract XSDs are the truth,
Spyne's generated WSDL is never served.
"""

from gateway.app import GatewayDeps, Readiness, make_app
from gateway.body import DrainLimits

__all__ = ["DrainLimits", "GatewayDeps", "Readiness", "make_app"]
