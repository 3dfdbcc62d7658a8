"""The settings ``make run`` chose, for every command run beside it.

``make run`` writes ``var/local.env`` (``DEBUG=true``): the ``chatserver``
command and the ASGI application read it before the settings, for each
variable the environment does not set, so a newcomer who ran ``make run``
can run every command the README shows, as printed. A production host has no
such file, and a setting it lacks still refuses to start, in one line
(``chatserver.__main__``).
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
NAME = "local.env"


def path() -> Path:
    """Where ``make run`` keeps it (``CHATSERVER_VAR_DIR``, as the settings)."""
    return Path(os.environ.get("CHATSERVER_VAR_DIR", BASE_DIR / "var")) / NAME


def load() -> None:
    """Set each ``NAME=value`` line of the file the environment does not."""
    try:
        lines = path().read_text().splitlines()
    except OSError:
        return
    for line in lines:
        name, sep, value = line.strip().partition("=")
        if sep and name and not name.startswith("#"):
            os.environ.setdefault(name.strip(), value.strip())
