"""The common forms of Home Assistant's `value_template`, without a Jinja engine.

Discovery payloads in the wild use a handful of shapes: `{{ value }}`,
`{{ value_json.x }}`, `{{ value_json['x']['y'] }}`, `{{ value_json.x[0] }}`, each
optionally piped through `float`, `int`, `round(n)`, `default(x)`, `lower`, `upper`,
`trim`, `string` or `is_defined`. Those are evaluated here; anything else (arithmetic,
conditionals) is UnsupportedTemplate, and the bridge logs the entity as unreadable
rather than storing a guess. Running the owner's templates in a real Jinja sandbox
would be more complete, but would run code chosen by whoever can publish on the broker.
"""

from __future__ import annotations

import math
import re
from typing import Any

import orjson

_WHOLE = re.compile(r"^\s*\{\{-?\s*(?P<expression>.*?)\s*-?\}\}\s*$", re.DOTALL)
_SOURCE = re.compile(r"^(?P<name>value_json|value)(?P<path>(?:\s*(?:\.[A-Za-z_]\w*|\[[^\]]*\]))*)\s*$")
_STEP = re.compile(
    r"\.(?P<attr>[A-Za-z_]\w*)|\[\s*(?:'(?P<single>[^']*)'|\"(?P<double>[^\"]*)\"|(?P<index>-?\d+))\s*\]"
)
_FILTER = re.compile(r"^(?P<name>[a-z_]+)\s*(?:\((?P<args>[^()]*)\))?$")


class UnsupportedTemplate(Exception):
    pass


class Undefined(Exception):
    """The template names a key the message does not hold: nothing to store."""


def render(template: str, payload: bytes) -> Any:
    """The template's value for a state message (a Python value, as Jinja would hold it)."""
    text = payload.decode("utf-8", errors="replace")
    if not template.strip():
        return text
    whole = _WHOLE.match(template)
    if whole is None:
        raise UnsupportedTemplate(template)
    source, *filters = _split_pipes(whole["expression"])
    value = _source(source, text)
    for expression in filters:
        value = _filter(expression.strip(), value)
    return value


def as_text(value: Any) -> str:
    """How Jinja prints a value: Python's str (True, None, 21.5)."""
    return str(value)


def _split_pipes(expression: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth, quote = 0, ""
    for char in expression:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts]


def _source(source: str, text: str) -> Any:
    match = _SOURCE.match(source.strip("() "))
    if match is None:
        raise UnsupportedTemplate(source)
    if match["name"] == "value":
        if match["path"].strip():
            raise UnsupportedTemplate(source)
        return text
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise Undefined("the message is not JSON") from None
    path = match["path"]
    position = 0
    for step in _STEP.finditer(path):
        if path[position : step.start()].strip():
            raise UnsupportedTemplate(source)
        position = step.end()
        value = _step(value, step)
    return value


def _step(value: Any, step: re.Match) -> Any:
    if step["index"] is not None:
        if not isinstance(value, list):
            raise Undefined(step.group(0))
        try:
            return value[int(step["index"])]
        except IndexError:
            raise Undefined(step.group(0)) from None
    key = step["attr"] or step["single"] if step["double"] is None else step["double"]
    if not isinstance(value, dict) or key not in value:
        raise Undefined(step.group(0))
    return value[key]


def _filter(expression: str, value: Any) -> Any:
    match = _FILTER.match(expression)
    if match is None:
        raise UnsupportedTemplate(expression)
    name = match["name"]
    args = [argument.strip() for argument in (match["args"] or "").split(",") if argument.strip()]
    if name in ("float", "int"):
        return _number(value, name, default=_literal(args[0]) if args else None)
    if name == "round":
        digits = int(_literal(args[0])) if args else 0
        number = _number(value, "float", default=None)
        return round(number, digits)
    if name == "default":
        return value
    if name in ("lower", "upper", "trim", "string"):
        text = as_text(value)
        if name == "lower":
            return text.lower()
        if name == "upper":
            return text.upper()
        return text.strip() if name == "trim" else text
    if name == "is_defined":
        return value
    raise UnsupportedTemplate(expression)


def _number(value: Any, kind: str, *, default: Any) -> float | int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        if default is None:
            # Home Assistant refuses to render `float` of a non-number without a default.
            raise Undefined(f"{kind} of {str(value)[:40]!r}") from None
        return default
    if kind == "int":
        return int(number) if math.isfinite(number) else 0
    return number


def _literal(raw: str) -> Any:
    try:
        return orjson.loads(raw.replace("'", '"'))
    except orjson.JSONDecodeError:
        raise UnsupportedTemplate(raw) from None
