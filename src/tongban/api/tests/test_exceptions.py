"""The API answers every expected failure with the same error shape and the right status, never a 500."""

import pytest
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tongban.api.tests.urls_errors")]


@pytest.fixture
def client():
    """A client that chose English (the default language would be zh-Hans).

    These test endpoints live outside /api/, where only the language cookie counts.
    """
    client = Client()
    client.cookies["django_language"] = "en"
    return client


def assert_api_error(response, status, code, errors=None):
    """The one helper to check an API error: status, shape, machine code and field messages."""
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == {"status", "code", "detail", "errors"}, body
    assert body["status"] == status
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["errors"] == (errors or {})
    return body


def test_django_validation_error_gives_400_with_field_messages(client):
    assert_api_error(
        client.get("/field-errors/"),
        400,
        "invalid",
        {"resident_id": ["The check digit is wrong."], "non_field_errors": ["Nothing matches."]},
    )


def test_validation_error_without_fields_is_a_non_field_message(client):
    assert_api_error(
        client.get("/plain-error/"), 400, "invalid", {"non_field_errors": ["The date is malformed."]}
    )


def test_serializer_errors_have_the_same_shape(client):
    body = assert_api_error(
        client.post("/things/", {"name": "far too long", "size": 0}, content_type="application/json"),
        400,
        "invalid",
        {
            "name": ["Ensure this field has no more than 5 characters."],
            "size": ["Ensure this value is greater than or equal to 1."],
        },
    )
    assert body["detail"] == "The request has invalid data; see the messages for each field."


def test_malformed_json_is_a_400_not_a_500(client):
    response = client.post("/things/", "{not json", content_type="application/json")
    assert_api_error(response, 400, "parse_error")


def test_permission_denied_gives_403_with_its_message(client):
    body = assert_api_error(client.get("/denied/"), 403, "permission_denied")
    assert body["detail"] == "You may not do this."


def test_http404_gives_404_without_internal_details(client):
    body = assert_api_error(client.get("/missing/"), 404, "not_found")
    assert "Case" not in body["detail"]


def test_domain_conflict_gives_409_with_its_code(client):
    body = assert_api_error(client.get("/conflict/"), 409, "case_already_accepted")
    assert body["detail"] == "The case was already accepted."


def test_other_domain_errors_give_400(client):
    assert_api_error(client.get("/rule/"), 400, "domain_error")


def test_a_lost_database_connection_gives_503_with_retry_after_not_a_500(client):
    response = client.get("/database-gone/")
    body = assert_api_error(response, 503, "database_unavailable")
    assert response["Retry-After"] == "1"
    assert "closed" not in body["detail"]  # no internals
    assert_api_error(client.get("/database-locked/"), 503, "database_unavailable")
