"""A socket's browser frames and channel-layer messages are read by two
long-lived tasks whose handlers take turns (``consumers.turns``): one
handler at a time, each source in order, no task per message."""

from __future__ import annotations

import asyncio

import pytest
from channels.exceptions import StopConsumer

from chatserver import events
from consumers.turns import read_in_turn
from tests.consumers.console_support import connect

pytestmark = pytest.mark.django_db(transaction=True)


async def test_handlers_never_overlap_and_each_source_keeps_its_order():
    browser, layer = asyncio.Queue(), asyncio.Queue()
    running, seen = [], []

    async def dispatch(message):
        running.append(message)
        assert len(running) == 1, f"{running} ran at once"
        await asyncio.sleep(0.001 if message[0] == "b" else 0)
        seen.append(message)
        running.remove(message)
        if message == "stop":
            raise StopConsumer

    for n in range(20):
        browser.put_nowait(f"b{n}")
        layer.put_nowait(f"l{n}")
    reading = asyncio.ensure_future(read_in_turn([browser.get, layer.get], dispatch))
    await asyncio.sleep(0.2)
    browser.put_nowait("stop")
    with pytest.raises(StopConsumer):
        await asyncio.wait_for(reading, 5)
    assert [m for m in seen if m[0] == "b"] == [f"b{n}" for n in range(20)]
    assert [m for m in seen if m[0] == "l"] == [f"l{n}" for n in range(20)]


async def test_a_failing_handler_ends_both_readers_with_its_error():
    browser, layer = asyncio.Queue(), asyncio.Queue()

    async def dispatch(message):
        raise ValueError(message)

    reading = asyncio.ensure_future(read_in_turn([browser.get, layer.get], dispatch))
    layer.put_nowait("broken")
    with pytest.raises(ValueError, match="broken"):
        await asyncio.wait_for(reading, 5)
    await asyncio.sleep(0)
    browser.put_nowait("after")  # nobody reads it any more
    await asyncio.sleep(0.05)
    assert browser.qsize() == 1


async def test_a_console_relays_events_without_a_task_per_event(alice, sender):
    """Channels' own loop started a task for every message of every socket."""
    console = await connect(alice)
    loop = asyncio.get_running_loop()
    created = []
    factory = loop.get_task_factory()

    def counting(loop_, coro, **kwargs):
        created.append(coro)
        if factory is not None:
            return factory(loop_, coro, **kwargs)
        return asyncio.Task(coro, loop=loop_, **kwargs)

    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    group = events.agent_group(alice.id)
    loop.set_task_factory(counting)
    try:
        for n in range(20):
            text = f'{{"type":"note.ping","cursor":{1_000_000 + n}}}'
            await layer.group_send(
                group, {"type": "note.ping", "cursor": 1_000_000 + n, "text": text}
            )
        for n in range(20):
            await console.until("note.ping", cursor=1_000_000 + n)
    finally:
        loop.set_task_factory(factory)
    # Channels' loop made a task of each receive; the layer's own sends aside.
    assert [c for c in created if "receive" in c.__qualname__] == []
    await console.close()


async def test_a_failing_source_ends_the_reading_with_its_error():
    browser = asyncio.Queue()

    async def broken():
        raise ConnectionError("the layer is gone")

    async def dispatch(message):
        pass

    with pytest.raises(ConnectionError, match="the layer is gone"):
        await asyncio.wait_for(read_in_turn([browser.get, broken], dispatch), 5)


async def test_a_reader_is_cancelled_only_while_it_waits_on_its_source():
    """The channel layer forgets a channel when its receive is cancelled:
    a handler still running when the socket stops must not stand in its way."""
    cancelled_in_receive = []
    layer = asyncio.Queue()

    async def receive():
        try:
            return await layer.get()
        except asyncio.CancelledError:
            cancelled_in_receive.append(True)
            raise

    async def dispatch(message):
        if message == "slow":
            await asyncio.sleep(10)

    reading = asyncio.ensure_future(read_in_turn([receive], dispatch))
    layer.put_nowait("slow")
    await asyncio.sleep(0.05)
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    assert cancelled_in_receive == [True]
