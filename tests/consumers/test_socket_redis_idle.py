"""An idle console on Redis still gets events: the production channel layer
keeps its Pub/Sub connection open past redis-py 8's 5 s socket_timeout (the
trap in DESIGN.md). Takes about 12 seconds."""

import asyncio
import copy

import pytest
from channels.layers import channel_layers

import chatserver.settings as production
from tests.conftest import require_or_skip
from tests.consumers.console_support import (
    connect,
    db,
    isolate_redis_layer,
    lead_number,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]

IDLE_SECONDS = 11


@pytest.fixture
def production_layer(settings):
    """The channel layer exactly as the server configures it from REDIS_URL."""
    if not production.REDIS_URL:
        require_or_skip("REDIS_URL is not set: no Redis to test against")
    settings.CHANNEL_LAYERS = copy.deepcopy(production.CHANNEL_LAYERS)
    isolate_redis_layer(settings)
    yield
    channel_layers.backends.clear()


async def test_an_idle_socket_on_redis_still_receives_events(
    production_layer, alice, text_in
):
    console = await connect(alice)
    await asyncio.sleep(IDLE_SECONDS)  # nothing at all happens meanwhile

    message = await db(text_in)(
        "Still there after a quiet spell?", from_number=lead_number()
    )

    created = await console.until("message.created", timeout=5)
    assert created["message"]["id"] == message.id
    await console.close()
