"""The OData expression language of ``$filter`` and ``$orderby`` (OData 4.0 URL
conventions §5.1.1, as profiled by SensorThings v1.1 §9.3.3.5): tokens, a syntax tree,
and a recursive-descent parser with the standard operator precedence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from klug.sensors.odata.errors import ODataError


@dataclass(frozen=True)
class Literal:
    value: Any
    kind: str  # number | string | bool | null | time | date | timeofday | duration | geometry
    # Where it starts in the text, so that errors found while compiling can point there.
    position: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Member:
    path: tuple[str, ...]
    position: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]
    position: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Unary:
    op: str  # "not" | "-"
    operand: Node


Node = Literal | Member | Call | Binary | Unary

COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}
ARITHMETIC = {"add", "sub", "mul", "div", "mod"}
KEYWORDS = COMPARISONS | ARITHMETIC | {"and", "or", "not", "asc", "desc"}

_TIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|z|[+-]\d{2}:?\d{2})"
_TOKEN = re.compile(
    rf"""
    (?P<space>\s+)
  | (?P<time>{_TIME}(?:/{_TIME})?)
  | (?P<date>\d{{4}}-\d{{2}}-\d{{2}}(?![\dT]))
  | (?P<timeofday>\d{{2}}:\d{{2}}(?::\d{{2}}(?:\.\d+)?)?(?![\d:]))
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.]))
  | (?P<typed>(?:duration|geography|geometry)'(?:[^']|'')*')
  | (?P<string>'(?:[^']|'')*')
  | (?P<name>[A-Za-z_@$][\w.@$:]*)
  | (?P<punct>[(),/-])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    position: int


def tokenize(text: str) -> list[Token]:
    if "\x00" in text:
        # PostgreSQL texts cannot hold NUL; no property or literal needs one.
        raise ODataError("NUL characters are not allowed", text=text, position=text.index("\x00"))
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ODataError(
                f"unexpected character {text[position]!r}", text=text, position=position
            )
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(Token(kind, match.group(), position))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


class Parser:
    """Precedence, lowest first: or, and, not, comparison, add/sub, mul/div/mod, unary -."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    # -- token helpers ------------------------------------------------------------------

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def error(self, message: str, token: Token | None = None) -> ODataError:
        token = token or self.current
        return ODataError(message, text=self.text, position=token.position)

    def at_keyword(self, *words: str) -> bool:
        token = self.current
        return token.kind == "name" and token.text in words

    def expect_punct(self, char: str) -> None:
        if self.current.kind != "punct" or self.current.text != char:
            found = repr(self.current.text) if self.current.text else "the end"
            raise self.error(f"expected {char!r}, found {found}")
        self.advance()

    def finish(self) -> None:
        if self.current.kind != "end":
            raise self.error(f"unexpected {self.current.text!r}")

    # -- grammar ------------------------------------------------------------------------

    def expression(self) -> Node:
        return self.or_expression()

    def or_expression(self) -> Node:
        node = self.and_expression()
        while self.at_keyword("or"):
            self.advance()
            node = Binary("or", node, self.and_expression())
        return node

    def and_expression(self) -> Node:
        node = self.not_expression()
        while self.at_keyword("and"):
            self.advance()
            node = Binary("and", node, self.not_expression())
        return node

    def not_expression(self) -> Node:
        if self.at_keyword("not"):
            self.advance()
            return Unary("not", self.not_expression())
        return self.comparison()

    def comparison(self) -> Node:
        node = self.additive()
        if self.current.kind == "name" and self.current.text in COMPARISONS:
            op = self.advance().text
            node = Binary(op, node, self.additive())
            if self.current.kind == "name" and self.current.text in COMPARISONS:
                raise self.error("comparisons cannot be chained; use 'and'")
        return node

    def additive(self) -> Node:
        node = self.multiplicative()
        while self.at_keyword("add", "sub"):
            op = self.advance().text
            node = Binary(op, node, self.multiplicative())
        return node

    def multiplicative(self) -> Node:
        node = self.unary()
        while self.at_keyword("mul", "div", "mod"):
            op = self.advance().text
            node = Binary(op, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.current.kind == "punct" and self.current.text == "-":
            self.advance()
            return Unary("-", self.unary())
        token = self.current
        if token.kind == "punct" and token.text == "(":
            self.advance()
            node = self.expression()
            self.expect_punct(")")
            return node
        return self.primary()

    def primary(self) -> Node:
        token = self.current
        if token.kind == "end":
            raise self.error("the expression ends too early")
        if token.kind == "number":
            self.advance()
            value: Any = (
                float(token.text) if any(c in token.text for c in ".eE") else int(token.text)
            )
            return Literal(value, "number")
        if token.kind == "string":
            self.advance()
            return Literal(token.text[1:-1].replace("''", "'"), "string")
        if token.kind == "time":
            self.advance()
            return Literal(token.text, "time", token.position)
        if token.kind == "date":
            self.advance()
            return Literal(token.text, "date", token.position)
        if token.kind == "timeofday":
            self.advance()
            return Literal(token.text, "timeofday", token.position)
        if token.kind == "typed":
            self.advance()
            prefix, _, rest = token.text.partition("'")
            value = rest[:-1].replace("''", "'")
            kind = "duration" if prefix == "duration" else "geometry"
            return Literal(value, kind, token.position)
        if token.kind == "name":
            return self.name_expression()
        raise self.error(f"unexpected {token.text!r}")

    def name_expression(self) -> Node:
        token = self.advance()
        word = token.text
        if word in ("true", "false"):
            return Literal(word == "true", "bool")
        if word == "null":
            return Literal(None, "null")
        if word in KEYWORDS:
            raise self.error(f"'{word}' needs an operand before it", token)
        if self.current.kind == "punct" and self.current.text == "(":
            self.advance()
            args: list[Node] = []
            if not (self.current.kind == "punct" and self.current.text == ")"):
                args.append(self.expression())
                while self.current.kind == "punct" and self.current.text == ",":
                    self.advance()
                    args.append(self.expression())
            self.expect_punct(")")
            return Call(word.lower(), tuple(args), token.position)
        path = [word]
        while self.current.kind == "punct" and self.current.text == "/":
            self.advance()
            segment = self.current
            if segment.kind not in ("name", "number"):
                raise self.error("expected a property name after '/'")
            path.append(self.advance().text)
        return Member(tuple(path), token.position)


def parse_expression(text: str) -> Node:
    if not text.strip():
        raise ODataError("the expression is empty", text=text, position=0)
    parser = Parser(text.replace("\u00a0", " "))
    node = parser.expression()
    parser.finish()
    return node


def parse_orderby(text: str) -> list[tuple[Node, bool]]:
    """``phenomenonTime desc, id`` → [(expression, descending)]."""
    if not text.strip():
        raise ODataError("$orderby is empty", text=text, position=0)
    parser = Parser(text)
    items: list[tuple[Node, bool]] = []
    while True:
        node = parser.expression()
        descending = False
        # Case-insensitive as in OData 4.01: clients (frost_sta_client) send "DESC".
        if parser.current.kind == "name" and parser.current.text.lower() in ("asc", "desc"):
            descending = parser.advance().text.lower() == "desc"
        items.append((node, descending))
        if parser.current.kind == "punct" and parser.current.text == ",":
            parser.advance()
            continue
        parser.finish()
        return items
