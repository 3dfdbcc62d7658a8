"""What a console may send its socket: frames read and checked, and the
per-socket limits on how often and how much (docs/protocol.md, "Limits")."""

from __future__ import annotations

import json
import re
import time

from chatserver.rules.errors import ActionError
from chatserver.rules.text import check_text

MAX_FRAME_BYTES = 16 * 1024
# Sends allowed per socket: a burst of this many, refilled at this rate.
SEND_BURST = 10
SEND_RATE_PER_SECOND = 1.0
# Client messages of any type, per socket.
FRAME_BURST = 60
FRAME_RATE_PER_SECOND = 20.0
# What a client's resume may cost the server, per socket, in rebuilt states
# (a ``reload`` is a whole fresh state: the hello's queries, and a frame as
# large as the agent's view): a burst of this many, then one per
# RELOAD_EVERY seconds. A replay of missed events costs what it replays,
# RELOAD_EVENTS events counting as one reload. Limited by cost, not by
# frame: one cheap frame can ask for the dearest thing the socket does.
RELOAD_BURST = 3
RELOAD_EVERY = 10.0
RELOAD_EVENTS = 100
# Finds the client_id of a message too large to be parsed, to name it in the
# error (so the browser stops resending it).
CLIENT_ID_PATTERN = re.compile(r'"client_id"\s*:\s*"([^"\\]{1,64})"')

TOO_FAST = "You are sending too fast: wait a moment."


class FrameError(ActionError):
    """A frame refused before it is read as a command; ``client_id`` names the
    message it was, when that could be told."""

    def __init__(self, reason: str, code: str = "invalid", client_id=None):
        super().__init__(reason, code)
        self.client_id = client_id


class TokenBucket:
    """A per-socket rate limit: a burst of ``burst``, refilled at ``rate`` a
    second; ``take(cost)`` spends what a request costs."""

    # One per limit per socket: no __dict__ each.
    __slots__ = ("capacity", "tokens", "rate", "updated")

    def __init__(self, burst: float, rate: float):
        self.capacity = burst
        self.tokens = float(burst)
        self.rate = rate
        self.updated = time.monotonic()

    def take(self, cost: float = 1) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False


class Limits:
    """One socket's allowances (read from this module at its first frame)."""

    __slots__ = ("frames", "sends", "resumes")

    def __init__(self) -> None:
        self.frames = TokenBucket(FRAME_BURST, FRAME_RATE_PER_SECOND)
        self.sends = TokenBucket(SEND_BURST, SEND_RATE_PER_SECOND)
        self.resumes = TokenBucket(RELOAD_BURST, 1 / RELOAD_EVERY)

    def send(self) -> None:
        """Count a text against the send limit, or refuse it."""
        if not self.sends.take():
            raise ActionError(TOO_FAST, "rate_limited")


def read(text_data: str | None, bytes_data: bytes | None) -> dict:
    """A client frame as a JSON object whose texts can be stored, or
    FrameError saying what is wrong with it."""
    if bytes_data is not None or text_data is None:
        raise FrameError("Only text frames are accepted.")
    if len(text_data) > MAX_FRAME_BYTES or (
        len(text_data.encode(errors="replace")) > MAX_FRAME_BYTES
    ):
        found = CLIENT_ID_PATTERN.search(text_data)
        raise FrameError(
            f"That message is too large (over {MAX_FRAME_BYTES // 1024} KB).",
            "too_large",
            found.group(1) if found else None,
        )
    try:
        data = json.loads(text_data)
    except (ValueError, RecursionError):
        # RecursionError: nesting deeper than the decoder goes ([[[[...).
        raise FrameError("That message is not JSON: send a JSON object.") from None
    if not isinstance(data, dict):
        raise FrameError("A message must be a JSON object.")
    client_id = data.get("client_id")
    client_id = client_id if isinstance(client_id, str) else None
    try:
        check_text(data)
    except ActionError as exc:
        raise FrameError(exc.reason, exc.code, client_id) from None
    return data
