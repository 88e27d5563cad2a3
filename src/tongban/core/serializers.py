"""A flat input serializer's fields copied from a per-class prototype, not deep-copied for every request.

DRF deep-copies a serializer's declared fields for every instance (``Serializer.get_fields``) so that one
instance may change its fields without touching the others'. For a form of a dozen fields with choices and
lazy translations that copy re-runs every field's ``__init__`` and costs about a millisecond a request — a tenth
of a 12345 ticket's intake. ``PrototypeFields`` deep-copies them once per class and gives each instance shallow
copies: each its own ``field_name``, ``parent`` and ``source`` (set by ``bind``), sharing what nothing changes
after construction (choices, validators, a list field's child).

Only for flat serializers of plain fields, whose validation needs no context (no nested serializer, no field
reading ``self.context``): a list field's child is shared and bound to the prototype, so its context is empty.
``core/tests/test_serializers.py`` holds the results equal to DRF's own.
"""

from __future__ import annotations

import copy


class PrototypeFields:
    """Mixin for a ``serializers.Serializer``: fields shallow-copied from a prototype made once per class."""

    def get_fields(self):
        cls = type(self)
        prototype = cls.__dict__.get("_prototype_fields")
        if prototype is None:
            prototype = copy.deepcopy(self._declared_fields)
            cls._prototype_fields = prototype
        return {name: copy.copy(field) for name, field in prototype.items()}
