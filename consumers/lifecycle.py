"""A console socket's opening and closing, as the process counts them.

The handshake is accepted first, then the console greeted (its login read,
its ``hello`` sent: ``ConsoleConsumer.greet``). A database that cannot
answer now (its pool exhausted while thousands of consoles reconnect, a
restart) is no refusal: the socket is closed with 1013 ("try again later")
and the console comes back after a random wait, where an error used to close
it with 1011, or a login read as missing would have sent the agent to the
login page. Open sockets are counted (``chatserver.metrics``) and closed with
1012 when the process drains (``consumers.draining``).
"""

from __future__ import annotations

import logging

from django.db import DatabaseError

from chatserver import metrics
from consumers import draining

log = logging.getLogger(__name__)

# "Try again later" (RFC 6455 registry): the server is busy, not refusing.
CLOSE_TRY_AGAIN = 1013


class Lifecycle:
    """Mixed into ``ConsoleConsumer``, which provides ``greet``."""

    counted = False

    async def greet(self) -> bool:
        """Read the login and send the hello; False when the socket was
        refused (and closed)."""
        raise NotImplementedError

    async def connect(self):
        # The handshake first, then the login lookup (consumers/auth.py):
        # Daphne drops a handshake not accepted in time, and when thousands
        # of consoles reconnect at once their lookups take longer than that.
        await self.accept()
        metrics.CONNECTING.inc()
        try:
            greeted = await self.greet()
        except DatabaseError:
            log.warning("database busy: a console is asked to come back later")
            metrics.SOCKETS_CLOSED.labels("try_again").inc()
            await self.close(code=CLOSE_TRY_AGAIN)
            return
        finally:
            metrics.CONNECTING.dec()
        if greeted:
            self.counted = True
            metrics.SOCKETS.inc()
            draining.register(self)
            await draining.close_if_draining(self)

    def forget_socket(self):
        """The socket closed (``disconnect``)."""
        draining.unregister(self)
        if self.counted:
            self.counted = False
            metrics.SOCKETS.dec()
