"""Use cases, the application layer: one module per interaction or operator task, each one unit of work.

A use case fetches what it needs (directory, PU, stored rows), runs the domain's pure checks, and
writes every consequence (the change, its outbox event, its PDL record) in one transaction opened on
the ``store.UnitOfWork`` it is given. This is the only layer that calls both ``domain`` and
``store``; the front door (``contracts``, ``gateway``) and the command line call it. Process machinery
that serves the use cases lives here too: the leader-led group commit and the directory cache.
"""
