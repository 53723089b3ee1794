"""The certificate domain: values, rules and use cases, free of any framework.

Nothing in ``domain`` (except ``usecases``) imports spyne, lxml, zeep, SQLAlchemy or
APScheduler: the rules are plain functions over frozen values so they can be tested as plain Python.
``usecases`` is the one place that opens a unit of work in ``store``.
"""
