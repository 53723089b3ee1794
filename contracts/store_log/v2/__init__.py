"""StoreLog interaction version 2 (schema 2.0)."""

from contracts.store_log.v2.responder import StoreLogResponder

__all__ = ["StoreLogResponder"]
