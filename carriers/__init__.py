"""Gateway adapters, chosen per sender number by the carrier's name."""

from functools import cache

from carriers.base import CarrierAdapter

CARRIER_NAMES = ("twilio", "simulator")


@cache
def get_adapter(name: str) -> CarrierAdapter:
    """The adapter for a carrier name; LookupError for an unknown one."""
    if name == "twilio":
        from carriers.twilio import TwilioAdapter

        return TwilioAdapter()
    if name == "simulator":
        from carriers.simulator import SimulatorAdapter

        return SimulatorAdapter()
    raise LookupError(f"unknown carrier: {name!r}")
