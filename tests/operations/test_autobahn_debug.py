"""autobahn's debug lines are formatted only when they are written
(``consumers.server.lazy_autobahn_debug``): a reconnect storm paid for 2,000
pretty-printed configurations that no log kept, and every frame sent paid
for three colour highlights."""

import pprint

from autobahn.websocket import protocol

from consumers.server import lazy_autobahn_debug


def test_the_configuration_is_formatted_only_for_a_line_that_is_written(monkeypatch):
    monkeypatch.setattr(protocol, "pformat", protocol.pformat)
    monkeypatch.setattr(protocol.Timings, "__str__", protocol.Timings.__str__)
    monkeypatch.setattr(protocol, "hltype", protocol.hltype)
    monkeypatch.setattr(protocol, "hlval", protocol.hlval)
    formatted = []
    real = pprint.pformat
    monkeypatch.setattr(pprint, "pformat", lambda v: formatted.append(v) or real(v))
    lazy_autobahn_debug()

    config = [("autoPingInterval", 20, "WebSocketServerFactory")]
    value = protocol.pformat(config)  # what every connection does
    assert formatted == []
    # The line written: the same text as before.
    assert "\n{attrs}".format(attrs=value) == "\n" + real(config)
    assert f"{value:>5}" == real(config)
    assert formatted == [config, config]

    timings = protocol.Timings()
    timings.track("handshake")
    assert isinstance(str(timings), str) and "handshake" in str(timings)


def test_a_frame_sent_highlights_nothing_unless_its_debug_line_is_written(monkeypatch):
    from autobahn import util

    monkeypatch.setattr(protocol, "hltype", protocol.hltype)
    monkeypatch.setattr(protocol, "hlval", protocol.hlval)
    styled = []
    real = util.hl
    monkeypatch.setattr(util, "hl", lambda *a, **k: styled.append(a) or real(*a, **k))
    lazy_autobahn_debug()

    # What sendData passes to its debug line for every frame.
    func, size = protocol.hltype(protocol.WebSocketProtocol.sendData), protocol.hlval(42)
    assert styled == []
    # Written, the line reads as before.
    assert str(size) == util.hlval(42)
    assert f"{func}" == util.hltype(protocol.WebSocketProtocol.sendData)
