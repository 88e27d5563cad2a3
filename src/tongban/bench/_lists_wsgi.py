"""The WSGI application ``tongban bench lists --through http`` serves with gunicorn: the platform's own, with API
throttling off as in the bench's other mode (a user asking without pause would be answered 429; the rate limiter is
not what is measured). Never served otherwise. Its name starts with ``_`` so that ``benchmarks_load`` does not import
it: importing ``tongban.wsgi`` starts the warm-up thread, and a process that forks its users must not have one."""

from tongban.wsgi import application


def _throttling_off():
    from rest_framework.views import APIView  # after tongban.wsgi, which sets Django up

    APIView.throttle_classes = ()


_throttling_off()

__all__ = ["application"]
