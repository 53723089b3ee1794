"""The certificate domain: plain values, rules and decisions, free of any framework and of I/O.

Nothing in ``domain`` imports our other packages, spyne, lxml, zeep, SQLAlchemy, APScheduler or any
process machinery (threads, sockets, clocks, loggers): the rules are functions over frozen values, so
they are tested as plain Python. Time comes in as an argument. ``usecases`` (the layer above) fetches
what the rules need and writes what they decide.
"""
