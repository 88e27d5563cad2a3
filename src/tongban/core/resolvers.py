"""The site's URL patterns behind a resolver that remembers what it resolved.

Django resolves a request's path by trying each pattern in order, every time: the API's task list is the 58th
pattern tried (about 90 µs of CPU a request, the case list's 30 µs), and the lists are asked thousands of times a
minute by the same few paths. :class:`CachedResolver` holds the site's patterns as one ``include`` and keeps the
match of each path it resolved, so a path asked again costs a dictionary read. Resolving is a pure function of the
path for a given set of patterns (the patterns are fixed when the process starts), so the remembered match is the
one Django would find. What does not resolve (a 404) is not remembered. The root resolver wraps the remembered
match in a new ``ResolverMatch`` for each request (its own ``kwargs`` dict), so no request sees another's changes.
The memory is bounded: at ``limit`` paths (case and task pages carry their numbers) it starts again empty.
"""

from __future__ import annotations

from django.urls.resolvers import RoutePattern, URLResolver

PATHS_KEPT = 4096


class CachedResolver(URLResolver):
    """``path("", include(patterns))`` that remembers each path's match (at most ``limit`` paths)."""

    def __init__(self, patterns, limit: int = PATHS_KEPT):
        super().__init__(RoutePattern("", is_endpoint=False), patterns)
        self._resolved: dict[str, object] = {}
        self._limit = limit

    def resolve(self, path):
        path = str(path)
        match = self._resolved.get(path)
        if match is None:
            match = super().resolve(path)  # Resolver404 propagates, and is not remembered
            if len(self._resolved) >= self._limit:
                self._resolved.clear()
            self._resolved[path] = match
        return match

    def forget(self) -> None:
        """Drop every remembered match (tests that change the patterns)."""
        self._resolved.clear()
