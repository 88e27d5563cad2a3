"""``core.rows``: list rows' dates and a list's filters as DRF gives them, without DRF's per-request machinery."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.http import QueryDict
from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from tongban.cases.api import CaseFilterSerializer
from tongban.core import rows
from tongban.supervision.api import WatchedCaseFilterSerializer
from tongban.workflow.api import TaskFilterSerializer

MOMENTS = [
    None,
    dt.datetime(2026, 12, 6, 17, 30, 5, 123456, tzinfo=dt.UTC),
    dt.datetime(2026, 12, 6, 17, 30, tzinfo=dt.UTC),
    dt.datetime(2026, 1, 1, 0, 0, tzinfo=ZoneInfo("America/New_York")),
    dt.datetime(2026, 6, 1, 8, 0),  # naive: DRF makes it aware
]


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC"])
def test_dates_and_times_are_what_drf_s_fields_give(zone):
    with timezone.override(ZoneInfo(zone)):
        text, field = rows.datetime_text(), serializers.DateTimeField()
        for moment in MOMENTS:
            assert text(moment) == field.to_representation(moment)
    day = rows.date_text()
    for value in (None, dt.date(2026, 12, 6)):
        assert day(value) == serializers.DateField().to_representation(value)


QUERIES = [
    "",
    "status=completed",
    "status=nonsense",
    "status=",
    "status=completed&status=rejected",
    "q=出生",
    "q=%20%20护照%20",
    "q=%20%20%20",
    "q=",
    "q=" + "x" * 64,
    "q=" + "x" * 65,
    "q=a%00b",
    "q=TB2026&status=accepted&cursor=abc&page_size=5",
    "state=ready",
    "state=done",
    "warning=red",
    "warning=blue",
    "department=public-security",
    "department=公安",
    "department=a%20b",
    "department=" + "d" * 65,
    "warning=yellow&department=health",
]


def _serializer_answer(serializer_class, params):
    serializer = serializer_class(data=params)
    try:
        serializer.is_valid(raise_exception=True)
    except ValidationError as exc:
        return ("error", exc.detail)
    return ("data", dict(serializer.validated_data))


@pytest.mark.parametrize(
    "serializer_class", [CaseFilterSerializer, TaskFilterSerializer, WatchedCaseFilterSerializer]
)
def test_a_list_s_filters_are_what_its_serializer_gives_or_the_same_error(serializer_class):
    assert rows._plain_spec(serializer_class) is not None  # the direct path is taken for these
    for query in QUERIES:
        params = QueryDict(query)
        try:
            answer = ("data", dict(rows.query_filters(serializer_class, params)))
        except ValidationError as exc:
            answer = ("error", exc.detail)
        assert answer == _serializer_answer(serializer_class, params), query


def test_a_serializer_with_rules_of_its_own_always_goes_through_drf():
    class Own(serializers.Serializer):
        q = serializers.CharField(required=False, max_length=8)

        def validate_q(self, value):
            raise serializers.ValidationError("never")

    assert rows._plain_spec(Own) is None
    with pytest.raises(ValidationError):
        rows.query_filters(Own, QueryDict("q=abc"))
