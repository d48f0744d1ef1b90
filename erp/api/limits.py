"""How deeply a JSON body may nest, checked before anything parses it.

Python's ``json.loads`` recurses once per ``[`` or ``{``: a body of 50,000 ``[`` (50 kB,
well under the size limit) raised RecursionError in the parser, a 500. No record of
ours nests more than a few levels, so the API refuses bodies nested deeper than
:data:`MAX_JSON_DEPTH` with a 400 ``malformed_body``, from a scan that does not recurse
and stops at the first bracket too many.
"""

from __future__ import annotations

import re

from flask import request

from .errors import abort

MAX_JSON_DEPTH = 32

# A JSON string, escapes included: its brackets are text, not nesting.
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


def json_too_deep(data: bytes | str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``data`` (JSON text, valid or not) opens more than ``limit`` nested
    arrays/objects at some point."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if data.count(b"[") + data.count(b"{") <= limit:
        return False  # the usual case: not even that many brackets
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKET)
    depth = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def check_json_body() -> None:
    """before_request for the API: a JSON body nested too deeply is a 400, unparsed.

    The body was bounded by the API's size limit first (API_MAX_BODY_BYTES)."""
    if (request.is_json and request.content_length != 0
            and json_too_deep(request.get_data(cache=True))):
        abort(400, f"The JSON body nests more than {MAX_JSON_DEPTH} levels deep.",
              code="malformed_body")
