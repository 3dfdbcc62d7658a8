"""The Django app: checks the gateways' settings once the settings are read."""

from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured

import carriers


class ChatserverConfig(AppConfig):
    name = "chatserver"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Rights changed by any path (the admin included) reach open consoles.
        # Imported here, as Django asks of signal handlers: models are ready.
        from chatserver.actions import agents  # noqa: F401 connects its signals

        try:
            carriers.offered()
        except carriers.HalfConfigured as exc:
            # Refuse to start rather than take webhooks we cannot check.
            raise ImproperlyConfigured(str(exc)) from None

