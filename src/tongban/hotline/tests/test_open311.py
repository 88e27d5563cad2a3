"""Open311 GeoReport v2: discovery, services, POST and GET of requests, errors, and a flood from one client."""

import io
import json
import re
import sys
import types
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.core.management import call_command
from georeport import GeoReport

from tongban.core.audit import SYSTEM
from tongban.hotline.models import Open311Client, Open311Request, Ticket
from tongban.hotline.open311 import SERVICES, client_for_key, open311_client_create
from tongban.identity.tests.factories import login_verified

NOISE = "南京东路附近工地晚上十一点还在施工，噪音太大，睡不着觉"


@dataclass
class Prediction:
    department: str
    confidence: float
    top3: list


@pytest.fixture
def routing(monkeypatch):
    """A stand-in classifier, so these tests are about the endpoint, not the model."""
    module = types.ModuleType("tongban.hotline.routing")
    module.classify = lambda texts, districts=None: [Prediction("urban-management", 0.93, []) for _ in texts]
    monkeypatch.setitem(sys.modules, "tongban.hotline.routing", module)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_key(city):
    _client, key = open311_client_create(actor=SYSTEM, name="随申办")
    return key


def _xml(content):
    return ET.fromstring(content)  # noqa: S314 - our own server's answer


def _post(client, api_key=None, fmt="json", **fields):
    data = {"service_code": "noise-complaint", "description": NOISE, "attribute[district]": "310101"}
    data.update(fields)
    if api_key:
        data["api_key"] = api_key
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(f"/open311/v2/requests.{fmt}", data)


def test_discovery_in_json_and_xml(client):
    data = client.get("/open311/v2/discovery.json").json()
    assert data["endpoints"][0]["url"].endswith("/open311/v2/")
    root = _xml(client.get("/open311/v2/discovery.xml").content)
    assert root.tag == "discovery" and root.find("endpoints/endpoint/specification") is not None


def test_service_list_and_definition_in_json_and_xml(client):
    services = client.get("/open311/v2/services.json").json()
    codes = {s["service_code"] for s in services}
    assert {"noise-complaint", "sewer-help", "road-damage-report", "prepaid-card-consult"} <= codes
    noise = next(s for s in services if s["service_code"] == "noise-complaint")
    assert (
        noise["service_name"] == "噪声扰民投诉" and noise["type"] == "realtime" and noise["metadata"] is True
    )
    root = _xml(client.get("/open311/v2/services.xml").content)
    assert root.tag == "services" and len(root.findall("service")) == len(SERVICES)
    definition = client.get("/open311/v2/services/noise-complaint.json").json()
    district = next(a for a in definition["attributes"] if a["code"] == "district")
    assert district["datatype"] == "singlevaluelist" and len(district["values"]) == 16
    root = _xml(client.get("/open311/v2/services/noise-complaint.xml").content)
    assert root.tag == "service_definition"
    assert len(root.findall("attributes/attribute[code='district']/values/value")) == 16
    missing = client.get("/open311/v2/services/no-such-thing.json")
    assert missing.status_code == 404 and missing.json()[0]["code"] == 404


def test_a_post_without_or_with_a_wrong_api_key_is_forbidden(client, api_key):
    response = _post(client)
    assert response.status_code == 403 and response.json() == [
        {"code": 403, "description": "api_key is missing or invalid."}
    ]
    response = _post(client, api_key=api_key[:8] + "x" * 30, fmt="xml")
    assert response.status_code == 403
    assert _xml(response.content).find("error/code").text == "403"
    assert not Ticket.objects.exists()


def test_an_inactive_client_is_refused(api_key):
    Open311Client.objects.update(active=False)
    assert client_for_key(api_key) is None


def test_a_post_without_service_code_or_with_an_unknown_district_is_a_bad_request(client, api_key):
    response = _post(client, api_key=api_key, service_code=None)
    assert response.status_code == 400 and "service_code" in response.json()[0]["description"]
    response = _post(client, api_key=api_key, **{"attribute[district]": "319999"})
    assert response.status_code == 400 and "district" in response.json()[0]["description"]
    assert _post(client, api_key=api_key, service_code="nothing").status_code == 404
    assert not Ticket.objects.exists()


def test_a_good_post_takes_a_ticket_that_get_returns(client, api_key, routing):
    response = _post(client, api_key=api_key, first_name="明", last_name="李", phone="13812345678")
    assert response.status_code == 200
    [answer] = response.json()
    ticket = Ticket.objects.get(number=answer["service_request_id"])
    assert answer["account_id"] is None and ticket.number in answer["service_notice"]
    assert ticket.channel == "open311" and ticket.ticket_type == "complaint" and ticket.taken_by is None
    assert ticket.district.code == "310101" and ticket.contact_name == "李 明"
    assert ticket.open311.service_code == "noise-complaint"
    [item] = client.get(f"/open311/v2/requests/{ticket.number}.json").json()
    assert (
        item["status"] == "open"
        and item["service_code"] == "noise-complaint"
        and NOISE in item["description"]
    )
    root = _xml(client.get(f"/open311/v2/requests/{ticket.number}.xml").content)
    assert root.find("request/service_request_id").text == ticket.number
    [token] = client.get(f"/open311/v2/tokens/{ticket.number}.json").json()
    assert token["service_request_id"] == ticket.number
    assert client.get("/open311/v2/tokens/nothing.json").status_code == 404
    assert client.get("/open311/v2/requests/nothing.json").status_code == 404


def test_a_too_long_description_is_a_bad_request(client, api_key, routing):
    response = _post(client, api_key=api_key, description="噪" * 10_001)
    assert response.status_code == 400 and response.json()[0]["code"] == 400
    assert not Ticket.objects.exists()


def test_a_flood_from_one_client_is_limited_and_nothing_is_lost(client, api_key, routing, settings):
    settings.TONGBAN_OPEN311_POSTS_PER_MINUTE = 5
    answers = [_post(client, api_key=api_key) for _ in range(8)]
    accepted = [r.json()[0]["service_request_id"] for r in answers if r.status_code == 200]
    refused = [r for r in answers if r.status_code == 429]
    assert len(accepted) == 5 and len(refused) == 3
    assert all(r.json()[0]["code"] == 429 for r in refused)
    assert set(Ticket.objects.values_list("number", flat=True)) == set(accepted)
    assert Open311Request.objects.count() == 5
    _other, other_key = open311_client_create(actor=SYSTEM, name="另一个客户端")
    assert _post(client, api_key=other_key).status_code == 200  # the limit is per api_key


def _urlopen_post(url, fields):
    body = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - the live server
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.django_db(transaction=True)
def test_a_real_client_over_http(live_server, city, api_key, routing):
    root = f"{live_server.url}/open311/v2"
    status, body = _urlopen_post(f"{root}/requests.json", {"service_code": "sewer-help"})
    assert status == 403 and body[0]["code"] == 403
    numbers = []
    for code in ("noise-complaint", "sewer-help"):
        status, body = _urlopen_post(
            f"{root}/requests.json",
            {
                "api_key": api_key,
                "service_code": code,
                "description": "小区门口下水道堵塞，污水漫到路上" if code == "sewer-help" else NOISE,
                "lat": "31.2304",
                "long": "121.4737",
            },
        )
        assert status == 200
        numbers.append(body[0]["service_request_id"])

    for fmt in ("json", "xml"):
        georeport = GeoReport(root, output_format=fmt)
        services = georeport.get_service_list()
        assert any(s["service_code"] == "noise-complaint" for s in services)
        definition = georeport.get_service_definition("sewer-help")
        assert definition["service_code"] == "sewer-help"
        found = georeport.get_service_requests(service_code="sewer-help", status="open")
        found = found if isinstance(found, list) else [found]  # xmltodict gives a dict for one element
        assert [r["service_request_id"] for r in found] == [numbers[1]]
        both = georeport.get_service_requests(service_request_id=",".join(numbers))
        assert {r["service_request_id"] for r in both} == set(numbers)
        one = georeport.get_service_request(numbers[0])
        assert one["service_code"] == "noise-complaint" and float(one["lat"]) == pytest.approx(31.2304)
    assert GeoReport(root).get_service_requests(status="closed") == []


def test_a_key_is_made_in_the_admin_and_shown_once(client, admin_user, city):
    login_verified(client, admin_user)
    response = client.post(
        "/admin/hotline/open311client/add/", {"name": "网格化平台", "active": "on"}, follow=True
    )
    assert response.status_code == 200
    shown = next(str(m) for m in response.context["messages"] if "api_key" in str(m))
    key = re.search(r"[A-Za-z0-9_.-]{20,}", shown).group(0)  # the message may be in zh-Hans or English
    stored = Open311Client.objects.get(name="网格化平台")
    assert key not in (stored.key_hash, stored.key_prefix) and client_for_key(key) == stored


def test_the_command_prints_a_working_key(city):
    out = io.StringIO()
    call_command("hotline", "open311-key", "街道热线", stdout=out)
    key = out.getvalue().strip().split(": ")[1]
    assert client_for_key(key).name == "街道热线"


@pytest.mark.parametrize("value", ["yesterday", "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z"])
def test_a_bad_or_impossible_start_date_is_a_bad_request(client, city, value):
    response = client.get("/open311/v2/requests.json", {"start_date": value})
    assert response.status_code == 400
    assert "start_date" in response.json()[0]["description"]


def test_impossible_coordinates_and_far_dates_are_bad_requests(client, api_key, routing):
    for lat, long in (("nan", "121.4"), ("31.2", "inf"), ("91", "121.4"), ("31.2", "-181")):
        response = _post(client, api_key=api_key, lat=lat, long=long)
        assert response.status_code == 400, (lat, long)
    assert not Ticket.objects.exists()
    for query in ("end_date=0001-01-01T00:00:00Z", "start_date=9999-12-31T00:00:00Z"):
        response = client.get(f"/open311/v2/requests.json?{query}")
        assert response.status_code == 400 and response.json()[0]["code"] == 400, query
