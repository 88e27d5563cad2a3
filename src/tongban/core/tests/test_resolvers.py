import pytest
from django.http import HttpResponse
from django.urls import Resolver404, path, resolve
from django.urls.resolvers import RegexPattern, URLResolver

from tongban import urls as site_urls
from tongban.core.resolvers import CachedResolver


def view(request, **kwargs):
    return HttpResponse("ok")


def other(request):
    return HttpResponse("other")


def _root(limit=4096):
    cached = CachedResolver(
        [path("things/<int:pk>/", view, name="thing"), path("other/", other)], limit=limit
    )
    return cached, URLResolver(RegexPattern(r"^/"), [cached])


def test_a_path_is_resolved_once_and_then_remembered():
    cached, root = _root()
    first = root.resolve("/things/7/")
    assert first.func is view and first.kwargs == {"pk": 7} and first.url_name == "thing"
    assert "things/7/" in cached._resolved
    again = root.resolve("/things/7/")
    assert again.func is view and again.kwargs == {"pk": 7} and again.route == "things/<int:pk>/"


def test_a_request_changing_its_match_does_not_change_the_next_one():
    _cached, root = _root()
    first = root.resolve("/things/7/")
    first.kwargs["pk"] = 8
    first.kwargs["extra"] = "x"
    assert root.resolve("/things/7/").kwargs == {"pk": 7}


def test_a_path_that_does_not_resolve_is_not_remembered():
    cached, root = _root()
    with pytest.raises(Resolver404):
        root.resolve("/nowhere/")
    assert cached._resolved == {}


def test_memory_is_bounded():
    cached, root = _root(limit=2)
    root.resolve("/things/1/")
    root.resolve("/things/2/")
    root.resolve("/other/")  # the third path: start again empty, then keep it
    assert list(cached._resolved) == ["other/"]
    assert root.resolve("/things/1/").kwargs == {"pk": 1}


def test_the_site_resolves_through_it():
    assert len(site_urls.urlpatterns) == 1 and isinstance(site_urls.urlpatterns[0], CachedResolver)
    match = resolve("/api/v1/tasks/")
    assert match.view_name == "api:workflow-api:task-list"
    assert "api/v1/tasks/" in site_urls.urlpatterns[0]._resolved
    assert resolve("/api/v1/tasks/").view_name == "api:workflow-api:task-list"
