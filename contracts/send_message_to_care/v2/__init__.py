"""SendMessageToCare interaction version 2 (schema 2.0)."""

from contracts.send_message_to_care.v2.responder import SendMessageResponder

__all__ = ["SendMessageResponder"]
