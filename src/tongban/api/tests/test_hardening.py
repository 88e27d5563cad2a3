"""No input gets a 500 from the API: deep JSON nesting, TRACE and unknown methods are refused in the one error
shape, for anonymous callers and for signed-in citizens and staff, on every endpoint of the schema."""

import json
import re

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from tongban.identity.tests.fixtures import login_with_second_factor

pytestmark = pytest.mark.django_db

VERIFY = "/api/v1/licences/verify/"
DEEP = "[" * 50000 + "]" * 50000
ERROR_KEYS = {"status", "code", "detail", "errors"}


def _paths():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    # Any value for a path parameter: the refusals below come before any object is looked up.
    return sorted(
        re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", path) for path in schema["paths"]
    )


def _assert_error(response, status, code=None):
    assert response.status_code == status, (response.request["PATH_INFO"], response.content[:300])
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert body["status"] == status
    if code:
        assert body["code"] == code, body


def _clients(citizen, staff_user):
    anonymous = Client(headers={"accept-language": "en"})
    signed_in = Client(headers={"accept-language": "en"})
    signed_in.force_login(citizen)
    staff = login_with_second_factor(Client(headers={"accept-language": "en"}), staff_user)
    return {"anonymous": anonymous, "citizen": signed_in, "staff": staff}


@pytest.fixture(autouse=True)
def no_throttling(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}


def test_trace_and_unknown_methods_are_405_on_every_endpoint(citizen, staff_user):
    paths = _paths()
    assert len(paths) > 30
    for who, client in _clients(citizen, staff_user).items():
        for path in paths:
            for method in ("TRACE", "FOO"):
                response = client.generic(method, path)
                if who == "anonymous" and response.status_code in (401, 403):
                    continue  # refused before the method matters, still in the error shape
                _assert_error(response, 405, "method_not_allowed")


def test_options_and_head_get_no_server_error_on_any_endpoint(citizen, staff_user):
    """OPTIONS describes an endpoint to any signed-in caller; HEAD is a GET; neither needs a policy of its own
    (both were an ImproperlyConfigured 500 on endpoints that declare a policy per method)."""
    paths = _paths()
    for who, client in _clients(citizen, staff_user).items():
        for path in paths:
            for method in ("OPTIONS", "HEAD"):
                response = client.generic(method, path)
                assert response.status_code < 500, (who, method, path, response.status_code)
                if who != "anonymous" and method == "OPTIONS" and response.status_code == 200:
                    assert response.json()["name"], path


def test_deeply_nested_json_is_a_400_on_every_endpoint_that_takes_a_body(citizen, staff_user):
    clients = _clients(citizen, staff_user)
    schema = SchemaGenerator().get_schema(request=None, public=True)
    posted = 0
    for path, operations in schema["paths"].items():
        url = re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", path)
        for method in ("post", "put", "patch"):
            if method not in operations:
                continue
            for client in clients.values():
                response = client.generic(method.upper(), url, DEEP, content_type="application/json")
                assert response.status_code != 500, (method, url)
                assert set(response.json()) == ERROR_KEYS, (method, url, response.content[:200])
                posted += 1
    assert posted > 20


def test_deep_json_is_refused_as_a_parse_error_when_it_is_read(citizen):
    client = Client(headers={"accept-language": "en"})
    client.force_login(citizen)
    response = client.post("/api/v1/my/tickets/", DEEP, content_type="application/json")
    _assert_error(response, 400, "parse_error")
    assert "nests deeper than 32 levels" in response.json()["detail"]


def test_deep_json_to_the_open_licence_verification_is_a_400_without_signing_in():
    client = Client(headers={"accept-language": "en"})
    response = client.post(VERIFY, DEEP, content_type="application/json")
    _assert_error(response, 400, "parse_error")


def test_json_just_inside_the_depth_limit_is_parsed():
    from tongban.core.parsers import TooDeep, loads_limited

    inside = "[" * 32 + "]" * 32
    assert loads_limited(inside, limit=32) == json.loads(inside)
    with pytest.raises(TooDeep):
        loads_limited("[" * 33 + "]" * 33, limit=32)
    with pytest.raises(TooDeep):
        loads_limited(DEEP, limit=32)


def test_an_unknown_api_address_is_a_404_in_the_error_shape():
    response = Client(headers={"accept-language": "en"}).get("/api/v1/no-such-thing/")
    _assert_error(response, 404, "not_found")


def test_a_request_django_refuses_under_the_api_is_a_400_in_the_error_shape(settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    client = Client(headers={"accept-language": "en"})
    response = client.get("/api/v1/departments/?" + "&".join(f"f{i}=1" for i in range(10)))
    _assert_error(response, 400, "bad_request")
