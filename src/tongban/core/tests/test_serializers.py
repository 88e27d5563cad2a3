"""PrototypeFields: the same validation as DRF's deep-copied fields, and no field shared between instances."""

import pytest
from rest_framework import serializers

from tongban.core.serializers import PrototypeFields


class Plain(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[("a", "A"), ("b", "B")], default="a")
    text = serializers.CharField(max_length=5, trim_whitespace=False)
    note = serializers.CharField(max_length=3, required=False, allow_blank=True, default="")
    count = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    files = serializers.ListField(child=serializers.CharField(max_length=2), required=False, default=list)


class Fast(PrototypeFields, Plain):
    pass


@pytest.mark.parametrize(
    "data",
    [
        {"text": "hello"},
        {"kind": "b", "text": "hi", "note": "abc", "count": 3, "files": ["x", "yy"]},
        {"kind": "c", "text": "too long", "note": "long", "count": 0, "files": ["xyz"]},
        {},
        {"text": None, "files": "nope"},
    ],
)
def test_the_same_answers_as_drf(data):
    ours, theirs = Fast(data=data), Plain(data=data)
    assert ours.is_valid() == theirs.is_valid()
    assert ours.errors == theirs.errors
    if not theirs.errors:
        assert ours.validated_data == theirs.validated_data


def test_each_instance_has_its_own_fields_bound_to_it():
    first, second = Fast(data={"text": "a"}), Fast(data={"text": "b"})
    for name in first.fields:
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first and second.fields[name].parent is second
    assert first.is_valid() and second.is_valid()
    assert (first.validated_data["text"], second.validated_data["text"]) == ("a", "b")
