"""Static checks of rule expressions: the range of points an item can give, and conditions
that can never hold. Nothing here reads a case.

`bounds(node, env)` computes, by interval arithmetic over exact numbers, an interval that
contains every number the expression can give on any case: a sound over-approximation
(the true minimum and maximum are always inside it, never outside). Parameters fold to
their values; a map looked up with a key known only at run time (`params.points_by_kind
[r.outcome]`) gives the hull of the map's numbers; a row picked by `tier(x, table)` gives
the hull of that field over all rows. Names the caller declares bounded (`rate` in 0 … 1)
use that range, and fields the schema gives one theirs (`x.days` at least 0); `count(...)`
and `len(...)` are at least 0; every other field or name used in arithmetic is unbounded.
The facts of the rule's `when` make `days_between(a, b)` and `workdays_between(a, b)` at
least 0 when they say `b > a`, `b >= a`, `a < b` or `a <= b` (at most 0 for the reverse).

Where the interval is looser than the truth:
- each occurrence of a name varies on its own: with x in 0 … 1, `x - x` gives −1 … 1, not 0;
- the facts serve only the day-count rule above; `when = "x > 3"` does not narrow x (the
  test of `a if c else b` adds the facts of c for the `a` branch);
- a conditional gives the hull of both branches unless its test folds to a constant or
  can never hold; in each branch, a name with a range compared with a number in the test
  is narrowed (`0 if rate >= 0.98 else 3 * (rate - 0.98)`: rate ≤ 0.98 in the second),
  other sub-expressions are not; counts and sums over events have no upper bound;
- `round(x, p)` is exact when p is a constant, else widened by the largest possible step;
- null (no value: "there is none") is not tracked: the interval bounds the numbers the
  expression gives, and it may give null instead (an item then gives no points).

`never_true(node, env)` names a reason why a condition can never hold: it folds to false
(from parameters, or from intervals: `count(reply) < 0`); an `and` part compares a field
with a known set of values (an enum of the schema, or `env.enums`) to a value outside it;
two `and` parts on the same sub-expression contradict each other (`x == "A" and x == "B"`,
`n > 5 and n < 3`, `x.outcome != "A" and x.outcome in ["A"]`); every alternative of an `or`
is impossible; `exists(g)` where the generator's condition is impossible. It only reports
what it can prove: None means "not shown impossible", not "possible". Comparisons between
two fields (`a.date > b.date and b.date > a.date`) are not checked.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from scoring.base.errors import closest
from scoring.base.i18n import _

from . import abstract as A
from . import values as V
from .builtins import BUILTINS, Builtin
from .interval import Interval, format_interval, is_number
from .limits import MAX_LET_CHAIN
from .nodes import Arith, Attr, BoolOp, Call, Compare, Cond, Const, Gen, Index, ListLit, Name, Node, Unary
from .operators import FLIP, GREATER, LESS, NEGATION, ORDERING, PRECEDENCE
from .schema import FieldType, Schema
from .syntax import parse
from .visitor import NodeVisitor

__all__ = ["BoundsEnv", "bounds", "never_true", "source_text"]

_EVENT = "event"  # the kind of record an object the analysis cannot place is taken to be


@dataclass
class BoundsEnv:
    """What the analysis may assume about the names of an expression.

    constants: name -> value known before any case (e.g. {"params": {...}}).
    ranges:    name -> Interval (or (lo, hi)) of names known to be bounded (rate -> 0 … 1).
    facts:     conditions that hold when the expression is computed (the `and` parts of the
               rule's `when`; a whole `when` node is split into them).
    enums:     name -> allowed values of a plain name ("rubric"), or of a field: its key as
               for the schema's enum fields below.
    lets:      name -> expression of the rulebook's lets, analysed where they are used.
    schema:    the kinds of record and their fields (kinds, enum values, ranges).
    records:   name -> kind of the record it holds ("case" -> "case"). Any other object whose
               field an expression reads (a rule's binding, a generator's variable) is taken to
               be an "event"; so the schema's enum fields are keyed "case.kind" for a record a
               name holds, and by the field's name alone ("mode") for an event.
    """

    constants: Mapping[str, Any] = field(default_factory=dict)
    ranges: Mapping[str, Interval] = field(default_factory=dict)
    facts: Sequence[Node] = ()
    enums: Mapping[str, Collection] = field(default_factory=dict)
    lets: Mapping[str, Node] = field(default_factory=dict)
    schema: Schema = field(default_factory=Schema)
    records: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self):
        self.constants = {name: V.from_data(value) for name, value in dict(self.constants).items()}
        self.ranges = {name: r if isinstance(r, Interval) else Interval(*r) for name, r in dict(self.ranges).items()}
        self.facts = tuple(part for fact in self.facts
                           for part in _and_parts(parse(fact) if isinstance(fact, str) else fact))
        self.records = dict(self.records)
        # the schema's enum fields, keyed as the docstring says; the caller's enums come on top
        found = {name: field_type.values for name, field_type in self.fields(_EVENT).items()}
        for name, kind in self.records.items():
            found.update({f"{name}.{field_name}": field_type.values for field_name, field_type in self.fields(kind).items()})
        self.enums = {**{key: values for key, values in found.items() if values is not None},
                      **{key: tuple(allowed) for key, allowed in dict(self.enums).items()}}
        self.lets = {name: parse(node) if isinstance(node, str) else node for name, node in dict(self.lets).items()}

    def fields(self, kind: str) -> Mapping[str, FieldType]:
        record = self.schema.records.get(kind)
        return {} if record is None else record.fields


def _as_env(env) -> BoundsEnv:
    if env is None:
        return BoundsEnv()
    if isinstance(env, BoundsEnv):
        return env
    if isinstance(env, Mapping):
        return BoundsEnv(**env)
    raise TypeError(f"env must be a BoundsEnv or a dict, not {type(env).__name__}")


def bounds(node: Node | str, env: BoundsEnv | Mapping | None = None) -> Interval | None:
    """The interval holding every number `node` can give; None when it is not a number
    (a text, a date, a bool...) or nothing is known about it (a bare unknown name)."""
    node = parse(node) if isinstance(node, str) else node
    analysis = _Analysis(_as_env(env))
    found = analysis.visit(node, analysis.root)
    if isinstance(found, A.Unknown) and found.kind != "number":
        return None
    return A.to_number(found)


def never_true(node: Node | str, env: BoundsEnv | Mapping | None = None) -> str | None:
    """Why the condition can never hold, as a short sentence; None when not shown."""
    node = parse(node) if isinstance(node, str) else node
    analysis = _Analysis(_as_env(env))
    return analysis.never(node, analysis.root)


def _field_value(field_type: FieldType):
    """What a field of a record holds, before any case."""
    if field_type.kind == "number":
        return Interval(field_type.min, field_type.max)
    if field_type.kind == "list":
        return A.Unknown("list", Interval(field_type.min, field_type.max) if field_type.item == "number" else None)
    return A.Unknown(field_type.kind)


def _and_parts(node: Node) -> list[Node]:
    if isinstance(node, BoolOp) and node.op == "and":
        return [part for item in node.items for part in _and_parts(item)]
    return [node]


def _never_compares(op: str, a: Interval, b: Interval) -> bool:
    """True when no numbers in a and b make `a op b` true."""
    def gt(x, y):  # x > y, with None meaning "unbounded": never provably greater
        return x is not None and y is not None and x > y

    def ge(x, y):
        return x is not None and y is not None and x >= y
    if op == "<":
        return ge(a.lo, b.hi)
    if op == "<=":
        return gt(a.lo, b.hi)
    if op == ">":
        return ge(b.lo, a.hi)
    if op == ">=":
        return gt(b.lo, a.hi)
    if op == "==":
        return gt(a.lo, b.hi) or gt(b.lo, a.hi)
    if op == "!=":
        return a.is_point and b.is_point and a.lo == b.lo
    return False


@dataclass(frozen=True)
class _Scope:
    locals: Mapping[str, Any] = field(default_factory=dict)  # generator variables
    facts: tuple = ()
    expanding: frozenset = frozenset()  # lets being analysed (a cycle stops there)

    def bind(self, var: str, value) -> _Scope:
        # a fact about an outer variable of the same name says nothing about this one
        facts = tuple(f for f in self.facts if var not in f.free_names())
        return _Scope({**self.locals, var: value}, facts, self.expanding)


class _Analysis(NodeVisitor):
    def __init__(self, env: BoundsEnv):
        self.env = env
        self.root = _Scope({}, tuple(f for f in env.facts if isinstance(f, Compare)))
        self.lets_seen: dict[tuple, Any] = {}

    def generic_visit(self, node: Node, scope: _Scope):
        return A.ANY

    # ------------------------------------------------------------ nodes
    def visit_Const(self, node: Const, scope):
        return A.Known(node.value)

    def visit_Name(self, node: Name, scope: _Scope):
        name = node.id
        if name in scope.locals:
            return scope.locals[name]
        if name in self.env.ranges:
            return self.env.ranges[name]
        if name in self.env.constants:
            return A.Known(self.env.constants[name])
        if name in self.env.lets and name not in scope.expanding and len(scope.expanding) < MAX_LET_CHAIN:
            # a let sees lets and constants only, so only facts about those hold inside it
            visible = set(self.env.lets) | set(self.env.constants)
            facts = tuple(f for f in scope.facts if f.free_names() <= visible)
            # once per let and facts: lets that use a let twice, in a chain, would double the work at each step
            key = (name, facts, scope.expanding)
            if key not in self.lets_seen:
                self.lets_seen[key] = self.visit(self.env.lets[name], _Scope({}, facts, scope.expanding | {name}))
            return self.lets_seen[key]
        return A.ANY

    def visit_Attr(self, node: Attr, scope):
        obj = self.visit(node.obj, scope)
        found = A.constants(obj)
        if found is not None:
            return A.one_of([v[node.name] for v in found if isinstance(v, dict) and node.name in v])
        if isinstance(obj, A.Unknown) and obj.kind == "any":
            field_type = self.env.fields(self._record_kind(node.obj, scope)).get(node.name)
            return A.ANY if field_type is None else _field_value(field_type)
        return A.Unknown("opaque") if isinstance(obj, A.Unknown) and obj.kind == "opaque" else A.ANY

    def _record_kind(self, node: Node, scope: _Scope) -> str:
        """The kind of record `node` holds: the one `records` gives its name, else an event."""
        if isinstance(node, Name) and node.id not in scope.locals:
            return self.env.records.get(node.id, _EVENT)
        return _EVENT

    def visit_Index(self, node: Index, scope):
        containers = A.constants(self.visit(node.obj, scope))
        if containers is None:
            return A.ANY
        keys = A.constants(self.visit(node.key, scope))  # None: any key
        found = []
        for container in containers:
            if isinstance(container, dict):
                found += container.values() if keys is None else [container[k] for k in keys
                                                                  if isinstance(k, str) and k in container]
            elif isinstance(container, list):
                found += container if keys is None else [container[k] for k in keys
                                                         if type(k) is int and -len(container) <= k < len(container)]
        return A.one_of(found)

    def visit_Unary(self, node: Unary, scope):
        operand = self.visit(node.operand, scope)
        if node.op == "not":
            truth = A.truth(operand)
            return A.BOOL if truth is None else A.Known(not truth)
        if node.op == "+":
            return operand
        if isinstance(operand, A.Known):
            try:
                return A.Known(V.negate(operand.value))
            except V.EvalError:
                return A.ANY
        number = A.to_number(operand)
        return A.ANY if number is None else -number

    def visit_Arith(self, node: Arith, scope):
        return A.arith(node.op, self.visit(node.left, scope), self.visit(node.right, scope))

    def visit_Compare(self, node: Compare, scope):
        left, right = self.visit(node.left, scope), self.visit(node.right, scope)
        op = node.op
        if isinstance(left, A.Known) and isinstance(right, A.Known):
            result = A.satisfies(left.value, op, right.value)
            return A.BOOL if result is None else A.Known(result)
        if op in FLIP:
            a, b = A.to_number(left), A.to_number(right)
            if a is not None and b is not None and _never_compares(op, a, b):
                return A.Known(False)
        if op in ("==", "in"):
            lefts, rights = A.constants(left), A.constants(right)
            if lefts is not None and rights is not None and all(A.satisfies(x, op, y) is False
                                                                for x in lefts for y in rights):
                return A.Known(False)
            if op == "in" and isinstance(right, A.Known) and right.value in ([], {}):
                return A.Known(False)
        return A.BOOL

    def visit_BoolOp(self, node: BoolOp, scope):
        truths = [A.truth(self.visit(item, scope)) for item in node.items]
        decisive = node.op == "or"  # the value that settles an `or` (True) or an `and` (False)
        if decisive in truths:
            return A.Known(decisive)
        if all(t is not None for t in truths):
            return A.Known(not decisive)
        return A.BOOL

    def visit_Cond(self, node: Cond, scope: _Scope):
        truth = A.truth(self.visit(node.test, scope))
        if truth is True:
            return self.visit(node.then, scope)
        if truth is False or self.never(node.test, scope) is not None:
            return self.visit(node.other, scope)
        parts = _and_parts(node.test)
        then_scope = self._narrow(scope, parts, negate=False)
        if then_scope is None:  # the test pins a name outside its range
            return self.visit(node.other, scope)
        # when no number fails the test, `b` is still reached by a null: keep it, unnarrowed
        other_scope = (self._narrow(scope, parts, negate=True) if len(parts) == 1 else None) or scope
        facts = tuple(p for p in parts if isinstance(p, Compare))
        then = self.visit(node.then, replace(then_scope, facts=then_scope.facts + facts))
        return A.join(then, self.visit(node.other, other_scope))

    def _narrow(self, scope: _Scope, parts: list[Node], negate: bool) -> _Scope | None:
        """The scope of a branch of `a if test else b`: names compared with a number in the
        test narrowed to where the test holds (or fails, for `b`). None: that cannot be."""
        narrowed = dict(scope.locals)
        for part in parts:
            if not isinstance(part, Compare) or (part.op not in ORDERING and part.op != "=="):
                continue
            # where an ordering fails, its negation holds (up to the closed hull); where == fails, no interval
            op = NEGATION[part.op] if negate else part.op
            if op == "!=":
                continue
            for subject, other, side_op in ((part.left, part.right, op), (part.right, part.left, FLIP[op])):
                if not isinstance(subject, Name):
                    continue
                current = self.visit(subject, replace(scope, locals=narrowed))
                limit = self.visit(other, scope)
                if not (isinstance(current, Interval) and isinstance(limit, A.Known) and is_number(limit.value)):
                    continue
                c = limit.value
                found = current.intersect(Interval(c, c) if side_op == "==" else
                                          Interval(None, c) if side_op in LESS else Interval(c, None))
                if found is None:
                    return None
                narrowed[subject.id] = found
        return replace(scope, locals=narrowed)

    def visit_ListLit(self, node: ListLit, scope):
        items = [self.visit(item, scope) for item in node.items]
        if all(isinstance(item, A.Known) for item in items):
            return A.Known([item.value for item in items])
        return A.Unknown("list")

    # ------------------------------------------------------------ calls
    def visit_Call(self, node: Call, scope: _Scope):
        builtin = BUILTINS.get(node.func)
        if builtin is None:
            return A.ANY
        if builtin.items_bounds is not None and len(node.args) == 1:
            return self._over_items(builtin, node.args[0], scope)
        values = [self.visit(arg, scope) for arg in node.args]
        if builtin.bounds is not None:
            return builtin.bounds(node, values, scope.facts)
        return A.ANY if builtin.result == "same" else A.Unknown(builtin.result)

    # ------------------------------------------------------------ aggregates
    def _items(self, arg: Node, scope: _Scope):
        """The items of an aggregate's source, as (certain, value of the element) pairs
        when the source is a list known now, else (None, value of any element)."""
        gen = arg if isinstance(arg, Gen) else Gen("\x00item", arg, None, Name("\x00item"))
        if isinstance(gen.source, ListLit):
            sources = [self.visit(item, scope) for item in gen.source.items]
        else:
            source = self.visit(gen.source, scope)
            sources = ([A.Known(item) for item in source.value]
                       if isinstance(source, A.Known) and isinstance(source.value, list) else None)
            if sources is None:
                if isinstance(source, A.Unknown) and source.element is not None:
                    element = source.element
                else:
                    lists = A.constants(source)
                    rows = [row for value in lists or () if isinstance(value, list) for row in value]
                    element = A.one_of(rows) if lists and rows else A.ANY
                inner = scope.bind(gen.var, element)
                if gen.cond is not None and self._is_false(gen.cond, inner):
                    return [], None
                return None, self.visit(gen.elt, inner)
        items = []
        for item in sources:
            inner = scope.bind(gen.var, item)
            certain = True
            if gen.cond is not None:
                truth = A.truth(self.visit(gen.cond, inner))
                if truth is False or (truth is None and self._is_false(gen.cond, inner)):
                    continue
                certain = truth is True
            items.append((certain, self.visit(gen.elt, inner)))
        return items, None

    def _is_false(self, cond: Node, scope: _Scope) -> bool:
        return A.truth(self.visit(cond, scope)) is False or self.never(cond, scope) is not None

    def _over_items(self, builtin: Builtin, arg: Node, scope: _Scope):
        if builtin.aggregate and builtin.run is not None and not isinstance(arg, Gen):
            value = self.visit(arg, scope)
            if A.kind_of(value) == "number" or (isinstance(value, A.Known) and value.value is None):
                return value  # min(x) of one number is x
        return builtin.items_bounds(*self._items(arg, scope))

    # ------------------------------------------------------------ conditions
    def never(self, node: Node, scope: _Scope) -> str | None:
        parts = _and_parts(node)
        for part in parts:
            reason = self._part_never(part, scope)
            if reason:
                return reason
        return self._contradiction(parts, scope)

    def _part_never(self, part: Node, scope: _Scope) -> str | None:
        if isinstance(part, Compare):
            reason = self._enum_reason(part, scope)
            if reason:
                return reason
        if isinstance(part, BoolOp) and part.op == "or":
            reasons = [self.never(item, scope) for item in part.items]
            if all(reasons):
                return _("none of the alternatives can hold: {reasons}").format(reasons="; ".join(reasons))
        if isinstance(part, Call) and part.func == "exists" and isinstance(part.args[0], Gen):
            gen = part.args[0]
            if gen.cond is not None:
                inner = self.never(gen.cond, scope.bind(gen.var, A.ANY))
                if inner:
                    return _("{part} is always false: {reason}").format(part=source_text(part), reason=inner)
        value = self.visit(part, scope)
        if isinstance(value, A.Known) and not V.truthy(value.value):
            return _("{part} is always false{detail}").format(part=source_text(part), detail=self._detail(part, scope))
        return None

    def _detail(self, part: Node, scope: _Scope) -> str:
        if not isinstance(part, Compare):
            return ""
        shown = []
        for side in (part.left, part.right):
            if isinstance(side, Const):
                continue
            value = self.visit(side, scope)
            if isinstance(value, A.Known):
                shown.append(_("{side} is {value}").format(side=source_text(side), value=_literal(value.value)))
            elif A.to_number(value) is not None:
                shown.append(_("{side} is {value}").format(side=source_text(side),
                                                            value=format_interval(A.to_number(value))))
        return _(" ({details})").format(details=", ".join(shown)) if shown else ""

    def _field_key(self, node: Node, scope: _Scope) -> str | None:
        if isinstance(node, Name):
            known = scope.locals.keys() | self.env.constants.keys() | self.env.ranges.keys()
            return None if node.id in known else node.id
        if isinstance(node, Attr):
            if isinstance(node.obj, Name) and node.obj.id in self.env.records and node.obj.id not in scope.locals:
                return f"{node.obj.id}.{node.name}"
            obj = self.visit(node.obj, scope)
            return node.name if isinstance(obj, A.Unknown) and obj.kind == "any" else None
        return None

    def _enum_reason(self, part: Compare, scope: _Scope) -> str | None:
        if part.op not in ("==", "in"):
            return None
        sides = [(part.left, part.right)] + ([(part.right, part.left)] if part.op == "==" else [])
        for subject, other in sides:
            key = self._field_key(subject, scope)
            if key is None or key not in self.env.enums:
                continue
            allowed = self.env.enums[key]
            value = self.visit(other, scope)
            if not isinstance(value, A.Known):
                continue
            wanted = [value.value] if part.op == "==" else value.value
            if part.op == "in" and not isinstance(wanted, list):
                continue
            if any(A.satisfies(w, "==", a) for w in wanted for a in allowed):
                continue
            listed = ", ".join(str(a) for a in allowed)
            if len(wanted) == 1:
                hint = closest(str(wanted[0]), allowed).strip()
                hint = f"; {hint[1:-1]}" if hint else ""
                return _("{subject} is never {value} (it is one of: {allowed}{hint})").format(
                    subject=source_text(subject), value=_literal(wanted[0]), allowed=listed, hint=hint)
            return _("{subject} is never any of {values} (it is one of: {allowed})").format(
                subject=source_text(subject), values=", ".join(_literal(w) for w in wanted), allowed=listed)
        return None

    def _contradiction(self, parts: list[Node], scope: _Scope) -> str | None:
        """Parts comparing one sub-expression with values known now that cannot all hold."""
        constraints: dict[Node, list[tuple[str, Any, Node]]] = {}
        for part in parts:
            if not isinstance(part, Compare):
                continue
            left, right = self.visit(part.left, scope), self.visit(part.right, scope)
            if isinstance(right, A.Known) and not isinstance(left, A.Known):
                subject, op, value = part.left, part.op, right.value
            elif isinstance(left, A.Known) and not isinstance(right, A.Known) and part.op in FLIP:
                subject, op, value = part.right, FLIP[part.op], left.value
            else:
                continue
            if op in ("in", "not in") and not isinstance(value, list):
                continue  # text containment: not a set of values
            constraints.setdefault(subject, []).append((op, value, part))
        for subject, found in constraints.items():
            for i, first in enumerate(found):
                for second in found[i + 1:]:
                    if _clash(first[:2], second[:2]):
                        return _("{first} and {second} cannot both hold").format(first=source_text(first[2]),
                                                                                  second=source_text(second[2]))
            key = self._field_key(subject, scope)
            allowed = self.env.enums.get(key) if key else None
            candidates = list(allowed) if allowed is not None else next(
                ([value] if op == "==" else list(value) for op, value, _ in found if op in ("==", "in")), None)
            if candidates is None:
                continue
            if not any(all(A.satisfies(c, op, value) is not False for op, value, _ in found) for c in candidates):
                stated = " and ".join(source_text(part) for _, _, part in found)
                if allowed is not None:
                    return _("no value of {subject} satisfies {stated} (it is one of: {allowed})").format(
                        subject=source_text(subject), stated=stated, allowed=", ".join(str(a) for a in allowed))
                return _("{stated} cannot all hold").format(stated=stated)
        return None


def _clash(first: tuple[str, Any], second: tuple[str, Any]) -> bool:
    """True when `x op1 v1` and `x op2 v2` cannot both hold, for any x."""
    for (op1, v1), (op2, v2) in ((first, second), (second, first)):
        if op1 in ("==", "in"):
            candidates = [v1] if op1 == "==" else v1
            return all(A.satisfies(c, op2, v2) is False for c in candidates)
    for (op1, v1), (op2, v2) in ((first, second), (second, first)):
        if op1 in GREATER and op2 in LESS:
            above = A.satisfies(v1, ">", v2)
            if above:
                return True
            return above is False and A.satisfies(v1, "==", v2) and (op1 == ">" or op2 == "<")
    return False


def _literal(value) -> str:
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if is_number(value):
        return _number_text(value)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return V.format_value(value)


def _number_text(value) -> str:
    value = V.normal(value)
    if type(value) is int:
        return str(value)
    for places in range(1, 12):
        if Fraction(V.round_half_up(value, places)) == value:
            return V.format_number(value, places)
    return f"{value.numerator}/{value.denominator}"


def _precedence(node: Node) -> int:
    if isinstance(node, Cond):
        return 0
    if isinstance(node, BoolOp):
        return PRECEDENCE[node.op]
    if isinstance(node, Compare):
        return PRECEDENCE["compare"]
    if isinstance(node, Arith):
        return PRECEDENCE[node.op]
    if isinstance(node, Unary):
        return PRECEDENCE["not" if node.op == "not" else "neg"]
    return 9


class _Writer(NodeVisitor):
    """An expression written back as rule text, with the parentheses its precedence needs."""

    def wrap(self, node: Node, least: int) -> str:
        text = self.visit(node)
        return f"({text})" if _precedence(node) < least else text

    def visit_Const(self, node: Const) -> str:
        return _literal(node.value)

    def visit_Name(self, node: Name) -> str:
        return node.id

    def visit_Attr(self, node: Attr) -> str:
        return f"{self.wrap(node.obj, 9)}.{node.name}"

    def visit_Index(self, node: Index) -> str:
        return f"{self.wrap(node.obj, 9)}[{self.visit(node.key)}]"

    def visit_Unary(self, node: Unary) -> str:
        return f"not {self.wrap(node.operand, 3)}" if node.op == "not" else f"{node.op}{self.wrap(node.operand, 7)}"

    def visit_Arith(self, node: Arith) -> str:
        p = _precedence(node)
        return f"{self.wrap(node.left, p)} {node.op} {self.wrap(node.right, p + 1)}"

    def visit_Compare(self, node: Compare) -> str:
        return f"{self.wrap(node.left, 5)} {node.op} {self.wrap(node.right, 5)}"

    def visit_BoolOp(self, node: BoolOp) -> str:
        return f" {node.op} ".join(self.wrap(item, _precedence(node) + 1) for item in node.items)

    def visit_Cond(self, node: Cond) -> str:
        return f"{self.wrap(node.then, 1)} if {self.wrap(node.test, 1)} else {self.visit(node.other)}"

    def visit_ListLit(self, node: ListLit) -> str:
        return "[" + ", ".join(self.visit(item) for item in node.items) + "]"

    def visit_Gen(self, node: Gen) -> str:
        text = f"{self.wrap(node.elt, 1)} for {node.var} in {self.wrap(node.source, 1)}"
        return text + (f" if {self.wrap(node.cond, 1)}" if node.cond is not None else "")

    def visit_Call(self, node: Call) -> str:
        return f"{node.func}({', '.join(self.visit(arg) for arg in node.args)})"

    def generic_visit(self, node: Node) -> str:
        return type(node).__name__


def source_text(node: Node) -> str:
    """The expression written back as rule text (for messages)."""
    return _Writer().visit(node)
