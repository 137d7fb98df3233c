"""Request body parsing with a nesting limit: a JSON body nested hundreds deep made Python's
decoder (and anything walking the result) hit the recursion limit, a 500 instead of a 400."""

import io
import re

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Strings first (a bracket inside one is text), then the brackets themselves.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def json_depth(text: str) -> int:
    """How deep the arrays and objects of a JSON text nest (0 for a scalar)."""
    depth = deepest = 0
    for match in _TOKENS.finditer(text):
        part = match.group()
        if part in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif part in "]}":
            depth -= 1
    return deepest


class DepthLimitedJSONParser(JSONParser):
    """DRF's JSON parser, refusing bodies nested deeper than JSON_MAX_DEPTH (a 400)."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        if json_depth(text) > settings.JSON_MAX_DEPTH:
            raise ParseError(f"JSON nested deeper than {settings.JSON_MAX_DEPTH} levels.")
        return super().parse(io.BytesIO(raw), media_type, parser_context)
