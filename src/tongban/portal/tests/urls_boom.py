"""The project's URLs plus a view that fails, to see the 500 handler at work."""

from django.urls import path

from tongban.urls import handler404, handler500, urlpatterns  # noqa: F401


def boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom), *urlpatterns]
