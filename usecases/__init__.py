"""Use cases: one module per interaction, each one unit of work.

A use case fetches what it needs (directory, PU), runs the pure checks, and writes every consequence
(the change, its outbox event, its PDL record) in one transaction. This is the only part of
``domain`` that imports ``store``.
"""
