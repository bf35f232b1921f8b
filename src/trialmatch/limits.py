"""Input limits: how large, how deep and how long anything read from a file or a request may be.

Every reader parses JSON through :func:`loads`, so a hostile value (an integer of thousands of digits, an array
nested a thousand deep, a string of a gigabyte) is one rejected record with a one-line reason, never a
traceback, and the other records are read. The limits are far above what real FHIR or CT.gov records hold.
"""

from __future__ import annotations

import codecs
import json
from typing import Any

from trialmatch.errors import RecordError

MAX_DEPTH = 100
"""Deepest nesting of JSON objects and arrays (FHIR resources nest a dozen levels, bundles of bundles a few more)."""
MAX_DIGITS = 100
"""Most characters in one JSON number (a decimal's 18 significant digits and an exponent fit many times)."""
MAX_STRING = 16 * 1024 * 1024
"""Longest JSON string, in characters (an attachment's base64 data included)."""
MAX_FILE = 1024 * 1024 * 1024
"""Largest file read whole into memory (a FHIR JSON bundle, a trial record); NDJSON is read line by line."""
MAX_LINE = 64 * 1024 * 1024
"""Longest NDJSON line (one resource)."""


class LimitError(RecordError):
    """A value beyond one of the limits above (the message names the limit)."""


def _number(text: str) -> int | float:
    if len(text) > MAX_DIGITS:
        raise LimitError(f"a number longer than {MAX_DIGITS} characters")
    return float(text) if any(c in text for c in ".eE") else int(text)


def _constant(name: str) -> float:
    raise LimitError(f"{name} is not a JSON number")


def loads(data: str | bytes) -> Any:
    """Parsed JSON within the limits; RecordError (or LimitError) saying what is wrong, without the value."""
    if len(data) > MAX_FILE:
        raise LimitError(f"larger than {MAX_FILE} bytes")
    data = data.removeprefix(codecs.BOM_UTF8) if isinstance(data, bytes) else data.removeprefix("\ufeff")
    try:
        value = json.loads(data, parse_int=_number, parse_float=_number, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise RecordError(f"not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    except UnicodeDecodeError:
        raise RecordError("not UTF-8 text") from None
    except RecursionError:
        raise LimitError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    check_shape(value)
    return value


def check_shape(value: Any) -> None:
    """LimitError when ``value`` nests deeper than ``MAX_DEPTH`` or holds a string longer than ``MAX_STRING``."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = [*item.keys(), *item.values()]
        elif isinstance(item, list):
            children = item
        else:
            if isinstance(item, str) and len(item) > MAX_STRING:
                raise LimitError(f"a string longer than {MAX_STRING} characters")
            continue
        if depth > MAX_DEPTH:
            raise LimitError(f"JSON nested deeper than {MAX_DEPTH} levels")
        stack.extend((child, depth + 1) for child in children)
