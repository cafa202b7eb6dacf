"""The API's JSON parser: DRF's, with nesting bounded.

DRF parses with the standard library, which raises RecursionError (a 500) a few
thousand levels down; and a document that parsed at a depth of 900 can still
exhaust the stack later, when it is validated, copied or stored. No request of this
API nests more than a few levels, so past MAX_JSON_DEPTH the body is a 400.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_JSON_DEPTH = 64
TOO_DEEP = f"JSON parse error - nested more than {MAX_JSON_DEPTH} levels deep."


def json_depth_exceeds(document: Any, limit: int) -> bool:
    """Whether arrays and objects nest deeper than `limit`; iterative, so it cannot recurse too deep itself."""
    pending = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        children: Iterable[Any]
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            document = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(TOO_DEEP) from None
        if json_depth_exceeds(document, MAX_JSON_DEPTH):
            raise ParseError(TOO_DEEP)
        return document
