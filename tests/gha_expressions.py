"""GitHub Actions expressions (`${{ ... }}`), evaluated as the runner does, for the workflow walk.

Covers what the generated workflows use: contexts with `.` and `[...]`, literals, `!`, `==`, `!=`,
`<`, `<=`, `>`, `>=`, `&&`, `||` (which return an operand, as in JavaScript), parentheses and the
functions contains, startsWith, endsWith, format, join, toJSON and fromJSON. Semantics follow
https://docs.github.com/en/actions/reference/workflows-and-actions/expressions: strings compare
case-insensitively, other mixed types compare as numbers, and false, 0, '', null are falsy.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

TOKEN = re.compile(
    r"\s*(?:(?P<number>-?\d+(?:\.\d+)?)|(?P<string>'(?:[^']|'')*')"
    r"|(?P<op>==|!=|<=|>=|&&|\|\||[!<>()\[\].,*])|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


class ExpressionError(Exception):
    """An expression the walk cannot evaluate: a typo in a workflow, or a gap in this evaluator."""


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text.rstrip()):
        match = TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ExpressionError(f"cannot read {text[position:]!r} in {text!r}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def truthy(value: Any) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return False
    return value not in (None, False, 0, "")


def _number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip() or 0)
        except ValueError:
            return math.nan
    return math.nan


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    if type(left) is type(right) or (left is None and right is None):
        return bool(left == right)
    if isinstance(left, dict | list) or isinstance(right, dict | list):
        return left is right
    return _number(left) == _number(right)


def text(value: Any) -> str:
    """A value as the runner writes it into a string: '' for null, JSON for objects."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2)
    return str(value)


def _contains(haystack: Any, needle: Any) -> bool:
    if isinstance(haystack, list):
        return any(_equal(item, needle) for item in haystack)
    return text(needle).casefold() in text(haystack).casefold()


def _format(template: str, *values: Any) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) in ("{{", "}}"):
            return match.group(0)[0]
        return text(values[int(match.group(1))])

    return re.sub(r"\{\{|\}\}|\{(\d+)\}", replace, template)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "contains": _contains,
    "startswith": lambda s, p: text(s).casefold().startswith(text(p).casefold()),
    "endswith": lambda s, p: text(s).casefold().endswith(text(p).casefold()),
    "format": _format,
    "join": lambda items, sep=",": (
        text(sep).join(text(i) for i in items) if isinstance(items, list) else text(items)
    ),
    "tojson": lambda value: json.dumps(value, indent=2),
    "fromjson": lambda value: json.loads(text(value)),
}


class _Parser:
    """Recursive descent over the tokens; `status` answers success(), failure(), always()."""

    def __init__(
        self, source: str, context: Mapping[str, Any], status: Callable[[str], bool]
    ) -> None:
        self.source = source
        self.tokens = _tokens(source)
        self.position = 0
        self.context = context
        self.status = status

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise ExpressionError(f"expected {value or 'more'} in {self.source!r}")
        self.position += 1
        return token

    def parse(self) -> Any:
        value = self.disjunction()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()} in {self.source!r}")
        return value

    def disjunction(self) -> Any:
        value = self.conjunction()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.conjunction()
            value = value if truthy(value) else right
        return value

    def conjunction(self) -> Any:
        value = self.comparison()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.comparison()
            value = right if truthy(value) else value
        return value

    def comparison(self) -> Any:
        value = self.unary()
        while (token := self.peek()) and token[1] in ("==", "!=", "<", "<=", ">", ">="):
            operator = self.take()[1]
            right = self.unary()
            if operator in ("==", "!="):
                value = _equal(value, right) == (operator == "==")
            else:
                left_n, right_n = _number(value), _number(right)
                value = {
                    "<": left_n < right_n,
                    "<=": left_n <= right_n,
                    ">": left_n > right_n,
                    ">=": left_n >= right_n,
                }[operator]
        return value

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not truthy(self.unary())
        return self.postfix(self.primary())

    def primary(self) -> Any:
        kind, value = self.take()
        if kind == "number":
            return float(value) if "." in value else int(value)
        if kind == "string":
            return value[1:-1].replace("''", "'")
        if value == "(":
            inner = self.disjunction()
            self.take(")")
            return inner
        if kind != "name":
            raise ExpressionError(f"unexpected {value!r} in {self.source!r}")
        if value in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[value]
        if self.peek() == ("op", "("):
            return self.call(value.lower())
        if value not in self.context:
            raise ExpressionError(f"unknown context {value!r} in {self.source!r}")
        return self.context[value]

    def call(self, function: str) -> Any:
        self.take("(")
        arguments: list[Any] = []
        while self.peek() != ("op", ")"):
            arguments.append(self.disjunction())
            if self.peek() == ("op", ","):
                self.take()
        self.take(")")
        if function in ("success", "failure", "always", "cancelled"):
            return self.status(function)
        if function not in FUNCTIONS:
            raise ExpressionError(f"unknown function {function}() in {self.source!r}")
        return FUNCTIONS[function](*arguments)

    def postfix(self, value: Any) -> Any:
        while (token := self.peek()) and token[1] in (".", "["):
            self.take()
            if token[1] == ".":
                key: Any = self.take()[1]
            else:
                key = self.disjunction()
                self.take("]")
            value = _member(value, key)
        return value


def _member(value: Any, key: Any) -> Any:
    """A property that does not exist is null, as on GitHub."""
    if isinstance(value, dict):
        lowered = {str(k).lower(): v for k, v in value.items()}
        return lowered.get(str(key).lower())
    if isinstance(value, list) and isinstance(key, int | float):
        index = int(key)
        return value[index] if 0 <= index < len(value) else None
    return None


def evaluate(
    source: str, context: Mapping[str, Any], status: Callable[[str], bool] = lambda _: True
) -> Any:
    """The value of one expression (without the `${{ }}`)."""
    return _Parser(source, context, status).parse()


def substitute(value: Any, context: Mapping[str, Any]) -> Any:
    """A workflow value with its `${{ }}` replaced: typed when it is one whole expression."""
    if isinstance(value, dict):
        return {k: substitute(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, context) for v in value]
    if not isinstance(value, str):
        return value
    whole = EXPRESSION.fullmatch(value.strip())
    if whole and value.strip().count("${{") == 1:
        return evaluate(whole.group(1), context)
    return EXPRESSION.sub(lambda m: text(evaluate(m.group(1), context)), value)


def condition(
    source: str | bool | None, context: Mapping[str, Any], status: Callable[[str], bool]
) -> bool:
    """A job's or step's `if:`: success() unless it calls a status function itself."""
    if source is None:
        return status("success")
    if isinstance(source, bool):
        return source and status("success")
    expression = source.strip()
    whole = EXPRESSION.fullmatch(expression)
    if whole:
        expression = whole.group(1)
    uses_status = re.search(r"\b(success|failure|always|cancelled)\s*\(", expression)
    result = truthy(evaluate(expression, context, status))
    return result if uses_status else result and status("success")
