"""Background work in the worker process: the outbox dispatcher and the scheduled jobs.

``dispatcher`` claims due outbox events, has ``outbound`` deliver them and records what happened;
``runner`` runs the job table under one elected leader (``store.leader``); ``locking``,
``pdl_sealer`` and ``pdl_retention`` are jobs. Nothing here builds a message, resolves a route or
speaks HTTP (``outbound`` does), and nothing here holds a transaction across a call.
"""
