"""A journal-system simulator for tests, demos and benchmarks (``intygsgateway mock-journal``).

It plays the care unit's journal system on the receiving end of CertificateStatusUpdateForCare:
``journal.py`` is the WSGI application (answer modes, recording, the ``/_mock/`` control API),
``server.py`` a threaded keep-alive HTTP server that can also drop connections on purpose. It reads
and validates requests with the gateway's own validator and schemas and writes answers with
``contracts``; it knows nothing of the store or the resend engine.
"""
