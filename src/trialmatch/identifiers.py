"""One policy for every identifier that becomes a file name, a path or a key: trial ids, aliases, patient ids
and the names of pages written for them.

An identifier is *accepted* when it is 1 to ``MAX_LENGTH`` characters of printable text (no control or
format characters, no line breaks) with at least one letter or digit: ``.``, ``..``, an empty string or an id
holding an escape sequence is refused with a reason. A file name made from an accepted id is *encoded*: every
character outside ``[A-Za-z0-9_-]`` (and a dot that would lead the name) becomes ``%XX`` of its UTF-8 bytes.
The encoding is one-to-one, so two ids never share a file, and no id can name ``.``, ``..``, a sub-folder or
an absolute path. Every path built under a root is resolved and refused when it would leave that root (a
symbolic link pointing out included).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from trialmatch.errors import InputError

MAX_LENGTH = 128
"""Longest identifier accepted: registry ids and sponsor protocol numbers are far shorter."""
MAX_ENCODED = 200
"""Longest file-name form accepted (file systems allow 255 bytes, and suffixes are added)."""

_FILE_SAFE = re.compile(r"[A-Za-z0-9_-]")
_HAS_WORD = re.compile(r"[^\W_]")


class IdentifierError(InputError):
    """An identifier that cannot be used as a name (the message says why, with the value escaped)."""


class PathEscapeError(IdentifierError):
    """A path built from an identifier would lie outside the folder it belongs in."""


def shown(value: str, limit: int = 60) -> str:
    """A value as safe to print: control and format characters escaped, long values cut."""
    text = "".join(_escape(c) for c in value[:limit])
    return text + ("…" if len(value) > limit else "")


def _escape(char: str) -> str:
    if unicodedata.category(char)[0] in "CZ" and char != " ":
        return char.encode("unicode_escape").decode("ascii")
    return char


def problem(value: str) -> str | None:
    """Why ``value`` is not an acceptable identifier, or None when it is."""
    if not value or not value.strip():
        return "it is empty"
    if len(value) > MAX_LENGTH:
        return f"it is longer than {MAX_LENGTH} characters"
    if any(_escape(c) != c for c in value):
        return "it holds control characters or line breaks"
    if value != value.strip():
        return "it starts or ends with a space"
    if not _HAS_WORD.search(value):
        return "it has no letter or digit"
    if len(_encoded(value)) > MAX_ENCODED:
        return "it is too long to name a file"
    return None


def check(value: str, kind: str) -> str:
    """``value`` when it is an acceptable identifier; else IdentifierError naming ``kind`` (e.g. ``trial id``)."""
    reason = problem(value)
    if reason is not None:
        raise IdentifierError(f"{kind} {shown(value)!r} is not allowed: {reason}")
    return value


def file_stem(value: str) -> str:
    """The file-name form of an accepted identifier (one-to-one; never ``.``, ``..`` or a path)."""
    check(value, "identifier")
    return _encoded(value)


def _encoded(value: str) -> str:
    return "".join(_encode(c, first=n == 0) for n, c in enumerate(value))


def _encode(char: str, *, first: bool) -> str:
    if _FILE_SAFE.fullmatch(char) or (char == "." and not first):
        return char
    return "".join(f"%{b:02X}" for b in char.encode("utf-8"))


def within(root: Path, *parts: str) -> Path:
    """``root`` joined with ``parts``, resolved; PathEscapeError when the result is not inside ``root``."""
    base = root.resolve()
    target = base.joinpath(*parts).resolve()
    if target == base or not target.is_relative_to(base):
        raise PathEscapeError(f"a name leads outside its folder ({shown('/'.join(parts))!r}); refused")
    return target
