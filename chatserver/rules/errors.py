"""The refusal every layer raises, with a reason fit to show an agent."""


class ActionError(Exception):
    """An action refused: ``reason`` is what the agent is told, ``code`` names it.

    ``details`` carries facts a console can act on (the lead's local time and
    the next allowed time of a send refused in quiet hours, say).
    """

    def __init__(self, reason: str, code: str = "refused", details: dict | None = None):
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.details = details or {}


class UnknownRecipient(ActionError):
    """An inbound message to a number that is none of our sender numbers."""

    def __init__(self, reason: str):
        super().__init__(reason, "unknown_recipient")
