"""YAML with positions: read a document keeping each value's line and column, and write readable scalars.

Rule files are edited by hand, so every problem must point at the file's own line and column, including a
syntax error deep inside a rule written as a block scalar. PyYAML's composed node tree keeps those marks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import yaml

from trialmatch.yaml_loader import FAST_LOADER

Path = tuple[str | int, ...]


class YamlProblem(Exception):
    """The text is not well-formed YAML; 1-based position."""

    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.message = message


def compose(text: str) -> yaml.Node | None:
    """The document's node tree (None for an empty document); YamlProblem if it is not valid YAML."""
    try:
        return yaml.compose(text, Loader=FAST_LOADER)
    except yaml.YAMLError:
        pass
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise YamlProblem(line, column, f"invalid YAML: {error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise YamlProblem(1, 1, f"invalid YAML: {error}") from None


def construct(node: yaml.Node) -> object:
    """Plain Python data (dicts, lists, str, int ...) for a composed node."""
    return yaml.SafeLoader("").construct_document(node)


def duplicate_keys(node: yaml.Node) -> Iterator[tuple[int, int, str]]:
    """Keys given twice in a mapping, which PyYAML would otherwise silently let the last one win."""
    if isinstance(node, yaml.MappingNode):
        seen: set[object] = set()
        for key, value in node.value:
            if key.value in seen:
                yield key.start_mark.line + 1, key.start_mark.column + 1, f"duplicate key '{key.value}'"
            seen.add(key.value)
            yield from duplicate_keys(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from duplicate_keys(item)


def find(root: yaml.Node, path: Path) -> yaml.Node:
    """The deepest node along ``path`` (mapping keys and sequence indexes) that exists."""
    node = root
    for step in path:
        child = _child(node, step)
        if child is None:
            break
        node = child
    return node


def _child(node: yaml.Node, step: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        return next((value for key, value in node.value if key.value == step), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        child: yaml.Node = node.value[step]
        return child
    return None


def position(root: yaml.Node, path: Path) -> tuple[int, int]:
    """1-based line and column of the value at ``path`` (or of its nearest existing ancestor)."""
    mark = find(root, path).start_mark
    return mark.line + 1, mark.column + 1


def inner_position(node: yaml.ScalarNode, file_lines: list[str], line: int, column: int) -> tuple[int, int]:
    """Map a 1-based position inside a string scalar's value back to the file.

    Exact for literal block scalars (``rule: |``) and one-line scalars; for folded or multi-line flow scalars,
    whose line breaks YAML rewrites, the line is counted from the scalar's start.
    """
    start = node.start_mark
    if node.style == "|":
        first = start.line + 1  # content starts on the line after the indicator (0-based index)
        body = next((s for s in file_lines[first:] if s.strip()), "")
        return first + line, len(body) - len(body.lstrip(" ")) + column
    if line == 1:
        return start.line + 1, start.column + column + (1 if node.style in ('"', "'") else 0)
    return start.line + line, column


# -- writing -------------------------------------------------------------------------------------------------

# Characters YAML will not take raw inside a double-quoted scalar (or would treat as line breaks).
_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_./+-]*")
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def scalar(value: str | int | bool | None) -> str:
    """A YAML scalar: plain when unambiguous (``inc-1``, ``computable``), otherwise double-quoted."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if _PLAIN.fullmatch(value) and value.lower() not in _YAML_WORDS:
        return value
    return quoted(value)


def quoted(text: str) -> str:
    """A double-quoted YAML scalar (JSON escaping, which YAML reads), keeping readable non-ASCII text."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False))


def comment(text: str) -> str:
    """Text for a one-line ``#`` comment: whitespace folded, control characters shown as escapes."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", " ".join(text.split()))


def block(key: str, text: str, indent: str) -> list[str]:
    """``key: |`` followed by ``text`` indented one level deeper."""
    return [f"{indent}{key}: |", *(f"{indent}  {line}" for line in text.splitlines())]
