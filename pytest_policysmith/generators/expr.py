"""Expression trees for the offline generator: parse a ``return EXPR;`` body, render C back.

The grammar is the part of C that priority functions need: numbers, the template's
dotted inputs, ``+ - * /``, unary minus, calls, comparisons, ``&& ||`` and ``?:``.
Division renders as ``ps_div`` so evolved code never divides by zero.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Union

TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+\.\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?)"
    r"|(?P<name>[A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)?)"
    r"|(?P<op>&&|\|\||<=|>=|==|!=|[-+*/(),?:<>]))"
)
COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)


class ParseError(ValueError):
    """The body is not a single ``return EXPR;`` in the supported grammar."""


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Bin:
    op: str  # + - * / < <= > >= == != && ||
    left: "Node"
    right: "Node"


@dataclass(frozen=True)
class Neg:
    arg: "Node"


@dataclass(frozen=True)
class Call:
    fn: str
    args: tuple["Node", ...]


@dataclass(frozen=True)
class Cond:
    test: "Node"
    then: "Node"
    other: "Node"


Node = Union[Num, Var, Bin, Neg, Call, Cond]
PRECEDENCE = {"?": 1, "||": 2, "&&": 3, "==": 4, "!=": 4, "<": 5, "<=": 5, ">": 5, ">=": 5,
              "+": 6, "-": 6, "*": 7, "/": 7}
ARITH = ("+", "-", "*", "/")
COMPARE = ("<", "<=", ">", ">=")


def strip_comments(source: str) -> str:
    return COMMENT.sub("", source)


def parse_body(source: str) -> Node:
    """Parse ``return EXPR;`` (comments allowed around it)."""
    text = strip_comments(source).strip()
    m = re.fullmatch(r"return\b(.*);", text, re.S)
    if not m:
        raise ParseError("not a single 'return EXPR;' statement")
    return parse_expr(m.group(1))


def parse_expr(text: str) -> Node:
    tokens = _tokenize(text)
    parser = _Parser(tokens)
    node = parser.ternary()
    if parser.i != len(tokens):
        raise ParseError(f"unexpected {tokens[parser.i][1]!r}")
    return node


def _tokenize(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ParseError(f"cannot read {text[pos:pos + 10]!r}")
        kind = m.lastgroup or ""
        out.append((kind, re.sub(r"\s+", "", m.group(kind))))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.t, self.i = tokens, 0

    def peek(self) -> str | None:
        return self.t[self.i][1] if self.i < len(self.t) else None

    def take(self, expect: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.t):
            raise ParseError("unexpected end of expression")
        tok = self.t[self.i]
        if expect is not None and tok[1] != expect:
            raise ParseError(f"expected {expect!r}, got {tok[1]!r}")
        self.i += 1
        return tok

    def ternary(self) -> Node:
        test = self.binary(2)
        if self.peek() == "?":
            self.take("?")
            then = self.ternary()
            self.take(":")
            return Cond(test, then, self.ternary())
        return test

    def binary(self, level: int) -> Node:
        left = self.unary() if level > 7 else self.binary(level + 1)
        while level <= 7 and PRECEDENCE.get(self.peek() or "") == level:
            op = self.take()[1]
            right = self.binary(level + 1) if level < 7 else self.unary()
            left = Bin(op, left, right)
        return left

    def unary(self) -> Node:
        if self.peek() == "-":
            self.take()
            inner = self.unary()
            return Num(-inner.value) if isinstance(inner, Num) else Neg(inner)
        if self.peek() == "+":
            self.take()
            return self.unary()
        return self.atom()

    def atom(self) -> Node:
        kind, val = self.take()
        if kind == "num":
            return Num(float(val))
        if kind == "name":
            if self.peek() == "(":
                self.take("(")
                args: list[Node] = []
                if self.peek() != ")":
                    args.append(self.ternary())
                    while self.peek() == ",":
                        self.take(",")
                        args.append(self.ternary())
                self.take(")")
                if val == "ps_div" and len(args) == 2:
                    return Bin("/", args[0], args[1])
                return Call(val, tuple(args))
            return Var(val)
        if val == "(":
            node = self.ternary()
            self.take(")")
            return node
        raise ParseError(f"unexpected {val!r}")


def fmt_num(v: float) -> str:
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v)}.0"
    return f"{v:.4g}" if "e" not in f"{v:.4g}" else repr(v)


def render(node: Node, parent: int = 0) -> str:
    """C text with only the parentheses precedence needs."""
    if isinstance(node, Num):
        s = fmt_num(node.value)
        return f"({s})" if node.value < 0 and parent else s
    if isinstance(node, Var):
        return node.name
    if isinstance(node, Neg):
        return f"-{render(node.arg, 8)}"
    if isinstance(node, Call):
        return f"{node.fn}({', '.join(render(a) for a in node.args)})"
    if isinstance(node, Cond):
        s = f"{render(node.test, 2)} ? {render(node.then, 1)} : {render(node.other, 1)}"
        return f"({s})" if parent else s
    if node.op == "/":
        return f"ps_div({render(node.left)}, {render(node.right)})"
    prec = PRECEDENCE[node.op]
    s = f"{render(node.left, prec)} {node.op} {render(node.right, prec + 1)}"
    return f"({s})" if prec < parent else s


def render_body(node: Node, integer: bool = False) -> str:
    """``return EXPR;``; whole-number constants without ``.0`` for integer-only templates (BPF)."""
    text = f"return {render(node)};\n"
    return re.sub(r"\b(\d+)\.0\b", r"\1", text) if integer else text


def normalized_hash(source: str) -> str:
    """Hash that ignores comments and white space, so trivial rewrites count as duplicates."""
    text = re.sub(r"\s+", "", strip_comments(source))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def nodes(node: Node) -> list[tuple[Node, tuple[int, ...]]]:
    """Every subtree with its path (child indices from the root)."""
    out: list[tuple[Node, tuple[int, ...]]] = [(node, ())]
    for k, child in enumerate(children(node)):
        out.extend((n, (k, *p)) for n, p in nodes(child))
    return out


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Bin):
        return (node.left, node.right)
    if isinstance(node, Neg):
        return (node.arg,)
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Cond):
        return (node.test, node.then, node.other)
    return ()


def with_children(node: Node, kids: tuple[Node, ...]) -> Node:
    if isinstance(node, Bin):
        return Bin(node.op, *kids)
    if isinstance(node, Neg):
        return Neg(kids[0])
    if isinstance(node, Call):
        return Call(node.fn, tuple(kids))
    if isinstance(node, Cond):
        return Cond(*kids)
    return node


def replace_at(node: Node, path: tuple[int, ...], new: Node) -> Node:
    if not path:
        return new
    kids = list(children(node))
    kids[path[0]] = replace_at(kids[path[0]], path[1:], new)
    return with_children(node, tuple(kids))


def reads(node: Node) -> frozenset[str]:
    """The inputs an expression reads (a candidate's niche, a building block's needs)."""
    return frozenset(n.name for n, _ in nodes(node) if isinstance(n, Var))


def size(node: Node) -> int:
    return 1 + sum(size(c) for c in children(node))


def depth(node: Node) -> int:
    return 1 + max((depth(c) for c in children(node)), default=0)
