"""Every operation of the OpenAPI schema documents the refusals it can answer, each in the one error shape."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tongban.identity.tests.fixtures import login_with_second_factor

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def _resolve(schema, node):
    if "$ref" in node:
        return schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def test_every_operation_lists_its_error_responses_in_the_error_shape(schema):
    checked = 0
    for path, method, operation in _operations(schema):
        responses = operation["responses"]
        where = f"{method.upper()} {path}"
        assert any(code.startswith("2") for code in responses), where
        errors = {code for code in responses if code.startswith("4")}
        assert errors, f"{where} documents no error"
        if "{" in path:
            assert "404" in errors, where
        assert "503" in responses, f"{where} does not document a lost database connection"
        if method != "get":
            assert {"400", "409", "413"} <= errors, where
        security = operation.get("security", [])
        if security and {} not in security:  # signing in is required
            assert "403" in errors, where
        for code in errors:
            body = _resolve(schema, responses[code]["content"]["application/json"]["schema"])
            assert {"status", "code", "detail", "errors"} <= set(body["properties"]), (where, code)
            assert {"status", "code", "detail", "errors"} <= set(body.get("required", [])), (where, code)
        checked += 1
    assert checked > 60


def test_a_lookup_refused_by_the_permission_class_matches_its_documented_403(schema, citizen):
    documented = _resolve(
        schema,
        schema["paths"]["/api/v1/data/lookups/"]["post"]["responses"]["403"]["content"]["application/json"][
            "schema"
        ],
    )
    client = APIClient()
    client.force_login(citizen)
    response = client.post("/api/v1/data/lookups/", {}, format="json")
    assert response.status_code == 403
    assert set(documented["required"]) <= set(response.json())
    assert set(response.json()) <= set(documented["properties"])


def test_staff_lookups_without_a_grant_name_the_missing_grant(staff_user):
    client = login_with_second_factor(APIClient(), staff_user)
    response = client.post(
        "/api/v1/data/lookups/",
        {"resource": "no-such-resource", "subject": "x", "purpose": "test"},
        format="json",
    )
    assert response.status_code in (400, 403, 404)
    assert set(response.json()) >= {"status", "code", "detail", "errors"}
