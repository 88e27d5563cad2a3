"""NUL bytes never reach a lookup (PostgreSQL would refuse the query): a path holding one is a 400, query and form
values lose theirs."""

import pytest


@pytest.mark.parametrize(
    "url", ["/workbench/hotline/tickets/1234%00/", "/open311/v2/requests/12%00.json", "/12345/1%00/"]
)
def test_a_nul_in_the_path_is_a_bad_request(client, url):
    assert client.get(url).status_code == 400


def test_a_nul_in_a_query_value_is_dropped(client, db):
    response = client.get(
        "/open311/v2/requests.json", {"service_code": "noise\x00-complaint", "status": "op\x00en"}
    )
    assert response.status_code == 200  # read as noise-complaint and open


def test_a_nul_in_a_form_field_is_dropped(client, db):
    response = client.post("/accounts/login/", {"username": "li\x00ming", "password": "x"})
    assert response.status_code == 200  # the login page again, with its message
    assert response.context["form"].data["username"] == "liming"
