"""Errors actions raise, with reasons fit to show an agent."""


class ActionError(Exception):
    """An action refused: ``reason`` is what the agent is told, ``code`` names it."""

    def __init__(self, reason: str, code: str = "refused"):
        super().__init__(reason)
        self.reason = reason
        self.code = code


class UnknownRecipient(ActionError):
    """An inbound message to a number that is none of our sender numbers."""

    def __init__(self, reason: str):
        super().__init__(reason, "unknown_recipient")
