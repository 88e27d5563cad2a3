"""The API's JSON renderer: DRF's output, written by ``orjson``.

DRF's ``JSONRenderer`` gives ``json.dumps`` a custom encoder class; a list page of 50 rows spent about a tenth of its
request's CPU there (docs/performance.md). This renderer writes the same bytes with ``orjson``: compact, UTF-8 (DRF's
``UNICODE_JSON``), U+2028 and U+2029 escaped as DRF does, and every value ``orjson`` does not write the way DRF does
— dates and times (DRF's ISO 8601 with ``Z``), decimals, lazy translations, anything else — handed to DRF's own
``JSONEncoder.default``. What ``orjson`` cannot write at all (an integer beyond 64 bits, an indented response for
``Accept: application/json; indent=4``) goes to DRF's renderer unchanged. One difference is kept on purpose: a
float that is not a number is written ``null`` where DRF's strict mode would fail the response with a 500.
"""

from __future__ import annotations

import orjson
from rest_framework import renderers
from rest_framework.utils import encoders

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_default = encoders.JSONEncoder().default


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if (
            self.ensure_ascii
            or not self.compact
            or self.get_indent(accepted_media_type, renderer_context or {}) is not None
        ):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            out = orjson.dumps(data, default=_default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        if b"\xe2\x80\xa8" in out or b"\xe2\x80\xa9" in out:
            out = out.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
        return out
