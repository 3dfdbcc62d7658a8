"""A socket's part in presence ("Bob is typing…", "Bob is viewing"): what
its browser reports, relayed to those who may see the lead
(``chatserver.commands.presence``), and what other agents' sockets report,
passed on to its browser.

Ephemeral and cheap: nothing is written to the database; a report that only
repeats the last one within ``REPEAT_SECONDS`` is dropped before any query,
and a socket's reports are limited further by a token bucket. Each report
carries how long it holds (``ttl``): a browser forgets it after that unless
it is repeated, so an agent whose server died fades out too. When the socket
closes, its agent is "gone" from every conversation it reported.
"""

from __future__ import annotations

import json
import secrets
import time
from functools import cached_property

from chatserver.commands import presence
from chatserver.commands.fields import flag, ident
from consumers.frames import TokenBucket

# How long a report holds in the browsers that get it, in seconds. Consoles
# repeat "viewing" every 20 s and "typing" every 3 s while keys are pressed.
TTL = {"viewing": 45, "typing": 8, "gone": 0}
# The same report again within this long is dropped unread.
REPEAT_SECONDS = 2.0
# Reports that reach the database, per socket: a burst, then a rate.
BURST = 12
RATE_PER_SECOND = 1.0
LAYER_TYPE = "presence.changed"


class Presence:
    """Mixed into the console consumer (``self.run``, ``self.send`` and
    ``self.channel_layer`` are the consumer's)."""

    def start_presence(self) -> None:
        # Names this socket in its reports (not secret: it tells an agent's
        # two tabs apart, and a socket its own reports).
        self.presence_token = secrets.token_hex(8)
        # conversation id -> (state, when, groups) of this socket's last report.
        self.reported: dict[int, tuple[str, float, frozenset[str]]] = {}

    @cached_property
    def presence_budget(self) -> TokenBucket:
        """Made at the socket's first report (an idle socket makes none)."""
        return TokenBucket(BURST, RATE_PER_SECOND)

    async def on_presence(self, data):
        """``presence``: the agent views, types in, or left a conversation.
        Answered only when refused (an error); relayed to the others."""
        state = presence.state_of(data)
        conversation = ident(data, "conversation")
        ask = flag(data, "ask")
        last = self.reported.get(conversation)
        now = time.monotonic()
        if last and last[0] == state and now - last[1] < REPEAT_SECONDS and not ask:
            return
        if not self.presence_budget.take():
            return  # it repeats soon enough; nothing is lost by dropping it
        found = await self.run(presence.announce, data)
        if state == "gone":
            self.reported.pop(found.conversation, None)
        else:
            self.reported[found.conversation] = (state, now, found.groups)
        await self.publish_presence(
            found.groups,
            {
                "conversation": found.conversation,
                "lead": found.lead,
                "agent": found.agent,
                "name": found.name,
                "state": state,
                "ask": ask,
            },
        )

    async def publish_presence(self, groups, report: dict) -> None:
        text = json.dumps(
            {
                "type": "presence",
                **report,
                "socket": self.presence_token,
                "ttl": TTL[report["state"]],
            }
        )
        message = {"type": LAYER_TYPE, "text": text, "socket": self.presence_token}
        for group in sorted(groups):
            await self.channel_layer.group_send(group, message)

    async def presence_changed(self, message):
        """Another socket's report: on to the browser (never this socket's own)."""
        if message["socket"] != getattr(self, "presence_token", None):
            await self.send(text_data=message["text"])

    async def leave_everywhere(self) -> None:
        """The socket closes: its agent is gone from what it reported."""
        reported, self.reported = getattr(self, "reported", {}), {}
        for conversation, (_, _, groups) in reported.items():
            await self.publish_presence(
                groups,
                {
                    "conversation": conversation,
                    "lead": None,
                    "agent": self.agent.id,
                    "name": "",
                    "state": "gone",
                    "ask": False,
                },
            )
