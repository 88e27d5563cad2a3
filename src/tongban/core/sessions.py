"""Django's database sessions, each request's read in one hand-written statement (``core.db.fast``).

Every signed-in request reads its session first; through the ORM that read cost more to build than to run (about
0.3 ms of CPU a request). Same table, same rows, same expiry rule: a drop-in for
``django.contrib.sessions.backends.db`` (``SESSION_ENGINE = "tongban.core.sessions"``).
"""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils import timezone

from tongban.core.db import fast


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self):
        model = self.model
        found = fast.first(
            model,
            "t.session_key = %s AND t.expire_date > %s",
            [self.session_key, fast.prep(model, "expire_date", timezone.now())],
        )
        if found is None:
            self._session_key = None
        return found
