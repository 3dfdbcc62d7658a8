"""Errors actions raise (defined with the pure rules, which raise them too)."""

from chatserver.rules.errors import ActionError, UnknownRecipient

__all__ = ["ActionError", "UnknownRecipient"]
