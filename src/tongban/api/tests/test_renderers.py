"""The API's JSON renderer writes what DRF's writes (api.renderers), and the API uses it."""

import datetime as dt
import decimal
import uuid
import zoneinfo

import pytest
from django.utils.translation import gettext_lazy
from rest_framework import renderers as drf
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from tongban.api.renderers import JSONRenderer

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")

SAMPLES = [
    {"id": uuid.UUID("01a2508c-e32c-7788-a1c4-b80f5085504f"), "n": 3, "ok": True, "none": None},
    {
        "at": dt.datetime(2026, 12, 7, 4, 5, 6, 789, tzinfo=dt.UTC),
        "local": dt.datetime(2026, 12, 7, 12, 0, tzinfo=SHANGHAI),
    },
    {"naive": dt.datetime(2026, 12, 7, 4, 5, 6), "day": dt.date(2026, 12, 7), "time": dt.time(9, 30, 1, 5)},
    {"amount": decimal.Decimal("12.50"), "ratio": 0.1, "big": 1e16, "neg": -0.0},
    {"label": gettext_lazy("All services"), "中文": "办件 \u2028 line \u2029 para", "quote": 'a"b\\c\n'},
    {1: "int key", "nested": [{"a": (1, 2)}, [], {}], "empty": ""},
    ReturnDict({"results": ReturnList([{"x": 1}], serializer=None), "next": None}, serializer=None),
    ["a", 1, None, [dt.date(2026, 1, 1)]],
]


@pytest.mark.parametrize("data", SAMPLES)
def test_the_renderer_writes_drf_s_bytes(data):
    assert JSONRenderer().render(data, "application/json") == drf.JSONRenderer().render(
        data, "application/json"
    )


def test_what_orjson_cannot_write_goes_to_drf_s_renderer():
    big = {"n": 2**70}
    assert JSONRenderer().render(big) == drf.JSONRenderer().render(big) == b'{"n":1180591620717411303424}'
    indented = JSONRenderer().render({"a": [1]}, "application/json; indent=2")
    assert (
        indented == drf.JSONRenderer().render({"a": [1]}, "application/json; indent=2") and b"\n" in indented
    )
    with pytest.raises(TypeError):
        JSONRenderer().render({"x": object()})
    assert JSONRenderer().render(None) == b""


@pytest.mark.django_db
def test_the_api_answers_through_it(client, citizen):
    """A citizen's list of cases is written by this renderer, and its bytes are what DRF's would be."""
    client.force_login(citizen)
    response = client.get("/api/v1/cases/")
    assert response.status_code == 200
    assert type(response.accepted_renderer) is JSONRenderer
    assert response.content == drf.JSONRenderer().render(response.data, "application/json")
