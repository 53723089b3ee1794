"""Scheduled and background work: the outbox dispatcher and periodic jobs.

Empty until the status-update capability lands; the outbox it will drain is written today, in the
same transaction as each change, by ``store.outbox``.
"""
