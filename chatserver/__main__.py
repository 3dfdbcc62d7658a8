"""The ``chatserver`` command: Django's manage.py under the project's name."""

import os
import sys

from django.core.exceptions import ImproperlyConfigured

from chatserver import localenv


def main() -> None:
    localenv.load()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatserver.settings")
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A misconfigured deployment: one line saying what to set, not a
        # traceback through Django's start-up.
        sys.exit(f"chatserver: {exc}")


if __name__ == "__main__":
    main()
