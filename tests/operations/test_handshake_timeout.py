"""A handshake the server had no time to accept is "busy, try again" (503),
never "Access denied" (403): Daphne's own answer, which consoles with a
valid session and Origin got in a reconnect storm. And the registered close
codes 1012/1013, which autobahn's ``sendClose`` refuses, are sent.
(``bench/storm_probe.py`` shows both against a real Daphne under a storm.)"""

from consumers.server import console_protocol


class DaphneProtocolStandIn:
    """What ``console_protocol`` uses of Daphne's WebSocketProtocol."""

    STATE_CONNECTING, STATE_OPEN = 1, 3

    def __init__(self, state, age, timeout=20):
        self.state = state
        self.age = age
        self.server = self
        self.websocket_connect_timeout = timeout
        self.handshake_deferred = self
        self.denied = []
        self.disconnected = False
        self.daphne_checked = False
        self.frames = []

    # the server's and the deferred's parts
    def protocol_disconnected(self, protocol):
        self.disconnected = True

    def errback(self, failure):
        self.denied.append(failure)

    def duration(self):
        return self.age

    def check_timeouts(self):
        self.daphne_checked = True

    def sendCloseFrame(self, code, reasonUtf8, isReply):  # noqa: N802 (autobahn's)
        self.frames.append((code, reasonUtf8))

    def serverClose(self, code=None):  # noqa: N802 (Daphne's)
        self.frames.append((code, b"daphne"))


Protocol = console_protocol(DaphneProtocolStandIn)


def test_a_handshake_past_its_time_is_told_to_try_again():
    late = Protocol(Protocol.STATE_CONNECTING, age=21)
    late.check_timeouts()
    (denial,) = late.denied
    assert denial.code == 503
    assert late.disconnected and not hasattr(late, "handshake_deferred")
    assert not late.daphne_checked


def test_a_handshake_in_time_and_open_sockets_are_left_to_daphne():
    for protocol in (
        Protocol(Protocol.STATE_CONNECTING, age=19),
        Protocol(Protocol.STATE_OPEN, age=3600),
    ):
        protocol.check_timeouts()
        assert protocol.denied == [] and protocol.daphne_checked


def test_restart_and_try_again_are_sent_as_close_codes():
    socket = Protocol(Protocol.STATE_OPEN, age=1)
    socket.serverClose(1012)
    socket.serverClose(1013)
    socket.serverClose(4401)
    assert socket.frames == [
        (1012, b"service restart"),
        (1013, b"try again later"),
        (4401, b"daphne"),
    ]
