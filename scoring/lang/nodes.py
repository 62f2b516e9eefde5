"""The tree of a rule expression: what the parser (syntax.py) gives and every other module reads."""
from __future__ import annotations

from dataclasses import dataclass, field, fields


class ExprError(ValueError):
    """A problem in one expression; `column` is 0-based within the expression text."""

    def __init__(self, message: str, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.column = column


@dataclass(frozen=True)
class Node:
    col: int = field(default=0, compare=False, kw_only=True)

    def children(self) -> tuple[Node, ...]:
        """The sub-expressions, in the order of the fields."""
        found: list[Node] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Node):
                found.append(value)
            elif isinstance(value, tuple):
                found.extend(item for item in value if isinstance(item, Node))
        return tuple(found)

    def walk(self):
        yield self
        for child in self.children():
            yield from child.walk()

    def free_names(self) -> set[str]:
        names: set[str] = set()
        for child in self.children():
            names |= child.free_names()
        return names


@dataclass(frozen=True)
class Const(Node):
    value: object


@dataclass(frozen=True)
class Name(Node):
    id: str

    def free_names(self):
        return {self.id}


@dataclass(frozen=True)
class Attr(Node):
    obj: Node
    name: str


@dataclass(frozen=True)
class Index(Node):
    obj: Node
    key: Node


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "-", "+", "not"
    operand: Node


@dataclass(frozen=True)
class Arith(Node):
    op: str  # "+", "-", "*", "/"
    left: Node
    right: Node


@dataclass(frozen=True)
class Compare(Node):
    op: str  # "==", "!=", "<", "<=", ">", ">=", "in", "not in"
    left: Node
    right: Node


@dataclass(frozen=True)
class BoolOp(Node):
    op: str  # "and", "or"
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Cond(Node):
    test: Node
    then: Node
    other: Node


@dataclass(frozen=True)
class ListLit(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Gen(Node):
    """`elt for var in source if cond`; `count(reply)` is Gen(var=reply, source=Name(reply), elt=var)."""

    var: str
    source: Node
    cond: Node | None
    elt: Node

    def free_names(self):
        inner = set()
        for node in (self.cond, self.elt):
            if node is not None:
                inner |= node.free_names()
        return self.source.free_names() | (inner - {self.var})


@dataclass(frozen=True)
class Call(Node):
    func: str
    args: tuple[Node, ...]


def conjuncts(node: Node) -> list[Node]:
    """The top-level parts of an `and`."""
    return list(node.items) if isinstance(node, BoolOp) and node.op == "and" else [node]
