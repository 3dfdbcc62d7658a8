"""Django's database sessions (``SESSION_ENGINE``), read by a query compiled
once per process.

Every page and every console socket reads its session; after a restart
2,000 consoles read theirs at once, and Django compiles the same ORM query
for each (docs/performance.md, "storm"). The rows, their encoding and every
other operation are Django's own: sessions stored before stay valid.
"""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore as DatabaseStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from chatserver.models.prepared import Prepared

_BY_KEY = Prepared(lambda key: Session.objects.filter(session_key=key), str)


class SessionStore(DatabaseStore):
    """Django's database session store; the expiry is checked as Django's
    query checks it (a session expiring now is gone)."""

    def _get_session_from_db(self):
        found = _BY_KEY(self.session_key)
        if found and found[0].expire_date > timezone.now():
            return found[0]
        self._session_key = None
        return None
