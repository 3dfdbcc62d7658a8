"""Gateway adapters, chosen per sender number by the carrier's name.

Adding a gateway is one module (``carriers/<name>.py``, a ``CarrierAdapter``)
and one line in ``ADAPTERS`` (docs/carriers.md has the checklist). A gateway
whose settings are all unset is not offered; one with some of them set and
others missing refuses to start (``offered``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, NamedTuple

from django.conf import settings
from django.utils.module_loading import import_string

from carriers.base import CarrierAdapter


class Registration(NamedTuple):
    """Where a gateway's adapter is, and the settings it cannot work without
    (named here, so that checking them imports no gateway's SDK)."""

    adapter: str
    required_settings: tuple[str, ...]


ADAPTERS = {
    "twilio": Registration(
        "carriers.twilio.TwilioAdapter", ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
    ),
    "telnyx": Registration(
        "carriers.telnyx.TelnyxAdapter", ("TELNYX_API_KEY", "TELNYX_PUBLIC_KEY")
    ),
    "bandwidth": Registration(
        "carriers.bandwidth.BandwidthAdapter",
        (
            "BANDWIDTH_ACCOUNT_ID",
            "BANDWIDTH_USERNAME",
            "BANDWIDTH_PASSWORD",
            "BANDWIDTH_APPLICATION_ID",
            "BANDWIDTH_CALLBACK_USERNAME",
            "BANDWIDTH_CALLBACK_PASSWORD",
        ),
    ),
    "plivo": Registration(
        "carriers.plivo.PlivoAdapter", ("PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN")
    ),
    "vonage": Registration(
        "carriers.vonage.VonageAdapter",
        ("VONAGE_APPLICATION_ID", "VONAGE_PRIVATE_KEY", "VONAGE_SIGNATURE_SECRET"),
    ),
    "simulator": Registration("carriers.simulator.SimulatorAdapter", ()),
}
CARRIER_NAMES = tuple(ADAPTERS)


class HalfConfigured(Exception):
    """A gateway with some of its required settings set and others missing."""


@cache
def get_adapter(name: str) -> CarrierAdapter:
    """The adapter for a carrier name; LookupError for an unknown one."""
    try:
        registration = ADAPTERS[name]
    except KeyError:
        raise LookupError(f"unknown carrier: {name!r}") from None
    return import_string(registration.adapter)()


def setting(name: str) -> Any:
    """A Django setting by name ('' when absent): where gateways' settings
    are read from unless a caller says otherwise."""
    return getattr(settings, name, "")


def missing_settings(name: str, read: Callable[[str], Any] = setting) -> tuple[str, ...]:
    """Which of a gateway's required settings ``read`` finds empty."""
    return tuple(s for s in ADAPTERS[name].required_settings if not read(s))


def offered(read: Callable[[str], Any] = setting) -> list[str]:
    """The gateways whose required settings are all set; HalfConfigured, in
    one line naming what to set, for a gateway with some but not all."""
    names = []
    for name, registration in ADAPTERS.items():
        missing = missing_settings(name, read)
        if not missing:
            names.append(name)
        elif len(missing) < len(registration.required_settings):
            have = [s for s in registration.required_settings if s not in missing]
            raise HalfConfigured(
                f"{name} is half configured: set {', '.join(missing)} "
                f"(or unset {', '.join(have)})"
            )
    return names


def load_offered(read: Callable[[str], Any] = setting) -> list[str]:
    """Import the adapters (and SDKs) of the configured gateways now: some
    SDKs take seconds to import, which the first webhook after a start must
    not wait for (Telnyx gives up after 2 s). Returns their names."""
    names = offered(read)
    for name in names:
        get_adapter(name)
    return names
