"""The Django app: checks the gateways' settings once the settings are read."""

from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class ChatserverConfig(AppConfig):
    name = "chatserver"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import carriers

        # Rights changed by any path (the admin included) reach open consoles.
        from chatserver.actions import agents  # noqa: F401 connects its signals

        try:
            carriers.offered(lambda name: getattr(settings, name, ""))
        except carriers.HalfConfigured as exc:
            # Refuse to start rather than take webhooks we cannot check.
            raise ImproperlyConfigured(str(exc)) from None


def load_offered_carriers() -> list[str]:
    """Import the adapters (and SDKs) of the configured gateways now: some
    SDKs take seconds to import, which the first webhook after a start must
    not wait for (Telnyx gives up after 2 s)."""
    import carriers

    names = carriers.offered(lambda name: getattr(settings, name, ""))
    for name in names:
        carriers.get_adapter(name)
    return names
