"""autobahn's per-connection debug line is formatted only when it is written
(``consumers.server.lazy_autobahn_debug``): a reconnect storm paid for 2,000
pretty-printed configurations that no log kept."""

import pprint

from autobahn.websocket import protocol

from consumers.server import lazy_autobahn_debug


def test_the_configuration_is_formatted_only_for_a_line_that_is_written(monkeypatch):
    monkeypatch.setattr(protocol, "pformat", protocol.pformat)
    monkeypatch.setattr(protocol.Timings, "__str__", protocol.Timings.__str__)
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
