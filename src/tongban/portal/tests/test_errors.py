"""The 500 handler: no ``db`` mark in this module, so any database query would fail these tests."""

import json
import re

from django.test import RequestFactory

from tongban.portal import views


def test_server_error_page_renders_without_the_database_and_gives_a_reference():
    response = views.server_error(RequestFactory().get("/some/page/"))
    html = response.content.decode()
    assert response.status_code == 500
    reference = response["X-Tongban-Reference"]
    assert re.fullmatch(r"[0-9a-f]{12}", reference)
    assert reference in html
    assert "12345" in html
    assert 'href="/"' in html


def test_server_error_under_the_api_answers_json_in_the_api_error_shape():
    response = views.server_error(RequestFactory().get("/api/v1/anything/"))
    body = json.loads(response.content)
    assert response.status_code == 500
    assert body["code"] == "server_error"
    assert body["errors"] == {}
    assert body["reference"] == response["X-Tongban-Reference"]


def test_server_error_page_falls_back_to_plain_html_when_its_template_fails():
    response = views.server_error(RequestFactory().get("/"), template_name="no-such-template.html")
    assert response.status_code == 500
    assert response["X-Tongban-Reference"] in response.content.decode()


def test_a_connection_lost_outside_a_view_is_a_503_to_retry_under_the_api():
    """A lost connection in a middleware (the session's or the user's read) never reaches the API's exception
    handler: the 500 handler answers what that handler would, 503 ``database_unavailable`` with Retry-After."""
    from django.db import InterfaceError, OperationalError

    for lost in (InterfaceError("connection already closed"), OperationalError("database is locked")):
        try:
            raise lost
        except type(lost):
            response = views.server_error(RequestFactory().get("/api/v1/cases/"))
        body = json.loads(response.content)
        assert response.status_code == 503 and response["Retry-After"] == "1"
        assert body["code"] == "database_unavailable" and body["errors"] == {}
    try:  # another error under the API stays a 500
        raise ValueError("a bug")
    except ValueError:
        assert views.server_error(RequestFactory().get("/api/v1/cases/")).status_code == 500


def test_a_page_whose_database_is_unavailable_says_so_and_asks_to_try_again():
    """A page meeting a lost connection answers 503 with Retry-After and the "briefly unavailable" page (in the
    visitor's language), not the 500 page that asks to report a bug; any other error keeps the 500 page."""
    from django.db import InterfaceError
    from django.utils import translation

    try:
        raise InterfaceError("connection already closed")
    except InterfaceError:
        with translation.override("zh-hans"):
            response = views.server_error(RequestFactory().get("/cases/"))
    html = response.content.decode()
    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert "503" in html and "服务暂时不可用" in html and response["X-Tongban-Reference"] in html
    assert "Something went wrong" not in html and "系统出现错误" not in html
    try:
        raise ValueError("a bug")
    except ValueError:
        response = views.server_error(RequestFactory().get("/cases/"))
    assert response.status_code == 500 and "Retry-After" not in response
