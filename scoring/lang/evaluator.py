"""Compile expression trees into Python closures, checking names and fields as it goes.

Compiling happens once per rulebook; evaluating a closure is a few dictionary lookups
and function calls, so rules stay cheap on a year of cases. A closure takes one argument,
the environment: a dict of the names an expression can see (see Scope). Sub-expressions
that depend only on the rulebook's parameters are computed at compile time, which both
saves work and turns a mistake such as `params.outcome_ponits` into an error before any
case is read.
"""
from __future__ import annotations

import datetime as dt
from contextvars import ContextVar
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable

from scoring.base.errors import closest
from scoring.domain.cases import Case, Event, Handler

from . import values as V
from .nodes import Arith, Attr, BoolOp, Call, Compare, Cond, Const, ExprError, Gen, Index, ListLit, Name, Node, Unary
from .syntax import AGGREGATES
from .visitor import NodeVisitor

Closure = Callable[[dict], Any]

EVENT_FIELDS = tuple(Event.model_fields)
CASE_FIELDS = tuple(name for name in Case.model_fields if name not in ("handlers", "events"))
HANDLER_FIELDS = tuple(Handler.model_fields)
# field -> static kind, per record kind; an event also has the role of its department in the case
FIELD_KINDS = {
    "event": {**dict.fromkeys(EVENT_FIELDS, "text"), "date": "date", "days": "number", "role": "text"},
    "case": {**dict.fromkeys(CASE_FIELDS, "text"), "key": "bool", "waived_f2f": "bool"},
    "handler": dict.fromkeys(HANDLER_FIELDS, "text"),
}
_DECLARED_KINDS = {"bool": "bool", "number": "number", "text": "text", "date": "date", "texts": "list", "numbers": "list"}


def department_field_kinds(declared: dict) -> dict[str, str]:
    """A department record's fields: its name, its case counts, and the rulebook's [department_fields]."""
    return {"name": "text", "cases": "number", "lead": "number", "split": "number", "co": "number",
            **{name: _DECLARED_KINDS[spec.kind] for name, spec in declared.items()}}


# rule-test coverage: (table, row index) of every row tier() picks while a list is set here
TIERS_PICKED: ContextVar[list | None] = ContextVar("tiers_picked", default=None)

# environment key of the handler's events grouped by type (not a name users can write)
BY_TYPE = "\x00by_type"


@dataclass
class Scope:
    """The names an expression may use, with their static types.

    Types: event, case, handler, events (a list of events), number, text, date, bool,
    list, map, any. `constants` are names whose value is known when compiling (params).
    """

    names: dict[str, str] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    event_types: frozenset[str] = frozenset()

    def with_names(self, **names: str) -> "Scope":
        return Scope({**self.names, **names}, self.constants, self.event_types)

    def known(self) -> list[str]:
        return sorted(set(self.names) | set(self.constants) | set(self.event_types))


class ExpressionCompiler(NodeVisitor):
    def __init__(self, calendar, department_fields: dict | None = None):
        self.calendar = calendar
        self.functions = _functions(calendar)
        self.field_kinds = {**FIELD_KINDS, "department": department_field_kinds(department_fields or {})}
        self.params_used: set[str] = set()  # top-level params an expression read (for `rules validate`)

    def compile(self, node: Node, scope: Scope) -> Closure:
        fn, _type = self.visit(node, scope)
        return fn

    def compile_typed(self, node: Node, scope: Scope) -> tuple[Closure, str]:
        return self.visit(node, scope)


    def _const(self, value) -> tuple[Closure, str]:
        closure = lambda env, value=value: value  # noqa: E731
        closure.constant = value
        return closure, _static_kind(value)

    # Each visit_X returns (closure, static type); a closure with a `constant` is known now.
    def visit_Const(self, node: Const, scope):
        return self._const(node.value)

    def visit_Name(self, node: Name, scope: Scope):
        name = node.id
        if name in scope.names:
            return (lambda env: env[name]), scope.names[name]
        if name in scope.constants:
            return self._const(scope.constants[name])
        if name in scope.event_types:
            raise ExprError(
                f'"{name}" is an event type; use it inside first({name}), last({name}), count({name}), '
                f"exists({name}) or a generator", node.col)
        raise ExprError(f'unknown name "{name}"{closest(name, scope.known())}', node.col)

    def visit_Attr(self, node: Attr, scope: Scope):
        obj, obj_type = self.visit(node.obj, scope)
        name = node.name
        if hasattr(obj, "constant"):
            value = obj.constant
            if isinstance(node.obj, Name) and node.obj.id == "params":
                self.params_used.add(name)
            if isinstance(value, dict):
                if name not in value:
                    raise ExprError(f'no "{name}" in {_describe_const(node.obj)}{closest(name, value)}', node.col)
                return self._const(value[name])
            raise ExprError(f"{V.kind(value)} has no field {name}", node.col)
        fields = self.field_kinds.get(obj_type)
        if fields is not None and name not in fields:
            hint = closest(name, fields)
            extra = "" if obj_type == "department" else f' (read an extra field with extra(x, "{name}"))'
            raise ExprError(f'{obj_type} has no field "{name}"{hint}; its fields are {", ".join(fields)}{extra}', node.col)
        if obj_type in ("number", "date", "text", "bool", "list"):
            raise ExprError(f"{obj_type} has no field {name}", node.col)
        result_type = fields[name] if fields is not None else "any"

        def get_attr(env):
            value = obj(env)
            if value is None:
                return None
            if type(value) is V.Record:
                return value.fields.get(name)
            if isinstance(value, dict):
                if name not in value:
                    raise V.EvalError(f'no "{name}" in the map (keys: {", ".join(value)})')
                return value[name]
            raise V.EvalError(f"{V.kind(value)} has no field {name}")

        return get_attr, result_type

    def visit_Index(self, node: Index, scope: Scope):
        obj, _ = self.visit(node.obj, scope)
        key, _ = self.visit(node.key, scope)
        described = _describe_const(node.obj)

        def get_item(env):
            container, k = obj(env), key(env)
            if container is None or k is None:
                return None
            if isinstance(container, dict):
                if not isinstance(k, str) or k not in container:
                    raise V.EvalError(f'no "{V.format_value(k)}" in {described} (keys: {", ".join(container)})')
                return container[k]
            if isinstance(container, list):
                if V.kind(k) != "number" or isinstance(k, Fraction) or not -len(container) <= k < len(container):
                    raise V.EvalError(f"index {V.format_value(k)} is not in a list of {len(container)}")
                return container[k]
            raise V.EvalError(f"cannot index {V.kind(container)}")

        return self._maybe_fold(get_item, [obj, key], "any", node)

    def visit_Unary(self, node: Unary, scope: Scope):
        operand, operand_type = self.visit(node.operand, scope)
        if node.op == "not":
            fn = lambda env: not V.truthy(operand(env))  # noqa: E731
            return self._maybe_fold(fn, [operand], "bool", node)
        if node.op == "-":
            fn = lambda env: V.negate(operand(env))  # noqa: E731
            return self._maybe_fold(fn, [operand], "number", node)
        return operand, operand_type

    def visit_Arith(self, node: Arith, scope: Scope):
        left, lt = self.visit(node.left, scope)
        right, rt = self.visit(node.right, scope)
        op = node.op
        joins_text = op == "+" and "text" in (lt, rt)
        for side_type in (lt, rt):
            if not joins_text and side_type in ("bool", "event", "case", "handler", "list", "map", "events"):
                raise ExprError(f"cannot use {side_type} in arithmetic ({op})", node.col)
        result_type = ("text" if joins_text else
                       "date" if "date" in (lt, rt) and not (lt == rt == "date") else
                       "number" if lt == rt == "date" or (lt == rt == "number") else
                       "text" if lt == rt == "text" else "any")
        fn = lambda env: V.arith(op, left(env), right(env))  # noqa: E731
        return self._maybe_fold(fn, [left, right], result_type, node)

    def visit_Compare(self, node: Compare, scope: Scope):
        left, lt = self.visit(node.left, scope)
        right, rt = self.visit(node.right, scope)
        op = node.op
        if op not in ("in", "not in", "==", "!=") and "any" not in (lt, rt) and lt != rt:
            raise ExprError(f"cannot compare {lt} with {rt} using {op}", node.col)
        fn = lambda env: V.compare(op, left(env), right(env))  # noqa: E731
        return self._maybe_fold(fn, [left, right], "bool", node)

    def visit_BoolOp(self, node: BoolOp, scope: Scope):
        items = [self.visit(item, scope)[0] for item in node.items]
        if node.op == "and":
            fn = lambda env: all(V.truthy(item(env)) for item in items)  # noqa: E731
        else:
            fn = lambda env: any(V.truthy(item(env)) for item in items)  # noqa: E731
        return self._maybe_fold(fn, items, "bool", node)

    def visit_Cond(self, node: Cond, scope: Scope):
        test, _ = self.visit(node.test, scope)
        then, then_type = self.visit(node.then, scope)
        other, other_type = self.visit(node.other, scope)
        fn = lambda env: then(env) if V.truthy(test(env)) else other(env)  # noqa: E731
        return self._maybe_fold(fn, [test, then, other], then_type if then_type == other_type else "any", node)

    def visit_ListLit(self, node: ListLit, scope: Scope):
        items = [self.visit(item, scope)[0] for item in node.items]
        fn = lambda env: [item(env) for item in items]  # noqa: E731
        return self._maybe_fold(fn, items, "list", node)

    def visit_Gen(self, node: Gen, scope: Scope):
        raise ExprError("a generator can only be the argument of an aggregate", node.col)

    def visit_Call(self, node: Call, scope: Scope):
        if node.func in AGGREGATES and len(node.args) == 1:
            return self._aggregate(node, scope)
        if node.func == "date":
            arg = node.args[0]
            if not (isinstance(arg, Const) and isinstance(arg.value, str)):
                raise ExprError('date() takes a literal text such as date("2020-12-31")', node.col)
            try:
                return self._const(dt.date.fromisoformat(arg.value))
            except ValueError:
                raise ExprError(f'"{arg.value}" is not a date YYYY-MM-DD', arg.col) from None
        if node.func == "extra":
            key = node.args[1]
            if not (isinstance(key, Const) and isinstance(key.value, str)):
                raise ExprError('the field name of extra(x, "name") must be a literal text', node.col)
        compiled = [self.visit(arg, scope) for arg in node.args]
        args = [fn for fn, _ in compiled]
        impl, result_type = self.functions[node.func]
        if result_type == "same":
            result_type = compiled[0][1]
        fn = lambda env: impl(*[arg(env) for arg in args])  # noqa: E731
        return self._maybe_fold(fn, args, result_type, node)

    def _aggregate(self, node: Call, scope: Scope):
        """exists / count / sum / first / last / min / max over one source."""
        arg = node.args[0]
        if not isinstance(arg, Gen):
            if isinstance(arg, Name) and arg.id in scope.event_types and arg.id not in scope.names:
                arg = Gen(arg.id, arg, None, Name(arg.id, col=arg.col), col=arg.col)
            elif node.func in ("min", "max"):
                fn, arg_type = self.visit(arg, scope)
                impl, _ = self.functions[node.func]
                return self._maybe_fold(lambda env: impl(fn(env)), [fn], "any", node)
            else:
                arg = Gen("\x00item", arg, None, Name("\x00item", col=arg.col), col=arg.col)
        source, item_type = self._source(arg.source, scope)
        inner = scope.with_names(**{arg.var: item_type})
        cond = self.visit(arg.cond, inner)[0] if arg.cond is not None else None
        elt, elt_type = self.visit(arg.elt, inner)
        var = arg.var
        func = node.func

        def items(env):
            # bind the generator variable in env, restoring any outer value afterwards
            saved = env.get(var, _MISSING)
            try:
                for item in source(env):
                    env[var] = item
                    if cond is None or V.truthy(cond(env)):
                        yield item, elt(env)
            finally:
                if saved is _MISSING:
                    env.pop(var, None)
                else:
                    env[var] = saved

        if func == "exists":
            return (lambda env: any(True for _ in items(env))), "bool"
        if func == "count":
            return (lambda env: sum(1 for _ in items(env))), "number"
        if func == "sum":
            def total(env):
                result = 0
                for _, value in items(env):
                    if value is not None:
                        result = V.arith("+", result, value)
                return result
            return total, "number"
        if func in ("first", "last"):
            pick = min if func == "first" else max

            def first_or_last(env):
                found = [(item.order if isinstance(item, V.Record) else index, value)
                         for index, (item, value) in enumerate(items(env))]
                return pick(found, key=lambda pair: pair[0])[1] if found else None
            return first_or_last, elt_type
        pick = min if func == "min" else max

        def extreme(env):
            found = [value for _, value in items(env) if value is not None]
            return _same_kind_extreme(pick, found)
        return extreme, elt_type

    def _source(self, node: Node, scope: Scope) -> tuple[Closure, str]:
        if isinstance(node, Name) and node.id in scope.event_types and node.id not in scope.names:
            event_type = node.id
            return (lambda env: env[BY_TYPE].get(event_type, ())), "event"
        fn, source_type = self.visit(node, scope)
        if source_type == "events":
            return fn, "event"
        if source_type not in ("list", "any"):
            raise ExprError(f"cannot iterate over {source_type}; iterate over an event type or events", node.col)

        def checked(env):
            value = fn(env)
            if value is None:
                return ()
            if not isinstance(value, list):
                raise V.EvalError(f"cannot iterate over {V.kind(value)}")
            return value
        return checked, "any"

    def _maybe_fold(self, fn: Closure, parts: list[Closure], result_type: str, node: Node):
        """Evaluate now when every part is known now (params and literals only)."""
        if all(hasattr(part, "constant") for part in parts):
            try:
                return self._const(fn({}))
            except V.EvalError as exc:
                raise ExprError(str(exc), node.col) from None
        return fn, result_type


_MISSING = object()


def _static_kind(value) -> str:
    kind = V.kind(value)
    return "any" if kind == "null" else kind


def _describe_const(node: Node) -> str:
    parts = []
    while isinstance(node, Attr):
        parts.append(node.name)
        node = node.obj
    if isinstance(node, Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return "the map"


def _same_kind_extreme(pick, found: list):
    if not found:
        return None
    kinds = {V.kind(value) for value in found}
    if len(kinds) > 1 or kinds - {"number", "date", "text"}:
        raise V.EvalError(f"cannot compare {' and '.join(sorted(kinds))} in {pick.__name__}()")
    return pick(found)


def _functions(calendar) -> dict[str, tuple[Callable, str]]:
    """name -> (implementation, static result type); "same" = the first argument's type."""

    def need(value, wanted: str, func: str):
        if V.kind(value) != wanted:
            raise V.EvalError(f"{func}() needs a {wanted}, got {V.kind(value)} ({V.format_value(value)})")

    def whole(value, func: str) -> int:
        need(value, "number", func)
        if isinstance(value, Fraction):
            raise V.EvalError(f"{func}() needs a whole number, got {V.format_value(value)}")
        return value

    def nullsafe(fn):
        def wrapper(*args):
            return None if any(arg is None for arg in args) else fn(*args)
        wrapper.__name__ = fn.__name__
        return wrapper

    @nullsafe
    def add_days(day, days):
        need(day, "date", "add_days")
        return V.arith("+", day, whole(days, "add_days"))

    @nullsafe
    def days_between(a, b):
        need(a, "date", "days_between")
        need(b, "date", "days_between")
        return (b - a).days

    @nullsafe
    def add_workdays(day, n):
        need(day, "date", "add_workdays")
        return calendar.add_workdays(day, whole(n, "add_workdays"))

    @nullsafe
    def workdays_between(a, b):
        need(a, "date", "workdays_between")
        need(b, "date", "workdays_between")
        return calendar.workdays_between(a, b)

    @nullsafe
    def next_workday(day):
        need(day, "date", "next_workday")
        return calendar.next_workday(day)

    @nullsafe
    def is_workday(day):
        need(day, "date", "is_workday")
        return calendar.is_workday(day)

    @nullsafe
    def add_months(day, n):
        need(day, "date", "add_months")
        return V.add_months(day, whole(n, "add_months"))

    def scalar_extreme(pick):
        def fn(*args):
            if len(args) == 1 and isinstance(args[0], list):
                return _same_kind_extreme(pick, [a for a in args[0] if a is not None])
            if any(arg is None for arg in args):
                return None
            return _same_kind_extreme(pick, list(args))
        return fn

    @nullsafe
    def absolute(x):
        need(x, "number", "abs")
        return abs(x)

    @nullsafe
    def clamp(x, low, high):
        for value in (x, low, high):
            need(value, "number", "clamp")
        return min(max(x, low), high)

    def round_(x, places=0):
        if x is None:
            return None
        need(x, "number", "round")
        return V.normal(Fraction(V.round_half_up(x, whole(places, "round"))))

    def coalesce(*args):
        return next((arg for arg in args if arg is not None), None)

    def extra(record, name):
        if record is None:
            return None
        if not isinstance(record, V.Record):
            raise V.EvalError(f"extra() reads a field of an event, the case or the handler, not of {V.kind(record)}")
        return record.extras.get(name)

    def percent(x, places=2):
        if x is None:
            return None
        need(x, "number", "percent")
        return V.format_number(Fraction(x) * 100, whole(places, "percent")) + "%"

    def length(x):
        if x is None:
            return 0
        if isinstance(x, (list, str, dict)):
            return len(x)
        raise V.EvalError(f"len() of {V.kind(x)}")

    def mean(values):
        if values is None:
            return None
        if not isinstance(values, list):
            raise V.EvalError(f"mean() takes a list of numbers, not {V.kind(values)}")
        numbers = [v for v in values if v is not None]
        for v in numbers:
            need(v, "number", "mean")
        return V.normal(Fraction(sum(numbers, 0), len(numbers))) if numbers else None

    def tier(value, table):
        """The entry of a tier table (tables with from/below, half-open) that holds value; null if none does."""
        if value is None:
            return None
        if not isinstance(table, list) or not all(isinstance(t, dict) for t in table):
            raise V.EvalError("tier() takes a list of tables with from/below, such as params.workload_tiers")
        for index, entry in enumerate(table):
            low, high = entry.get("from"), entry.get("below")
            if (low is None or not V.compare("<", value, low)) and (high is None or V.compare("<", value, high)):
                picked = TIERS_PICKED.get()
                if picked is not None:
                    picked.append((table, index))
                return entry
        return None

    return {
        "mean": (mean, "number"),
        "tier": (tier, "map"),
        "add_days": (add_days, "date"),
        "days_between": (days_between, "number"),
        "add_workdays": (add_workdays, "date"),
        "workdays_between": (workdays_between, "number"),
        "next_workday": (next_workday, "date"),
        "is_workday": (is_workday, "bool"),
        "add_months": (add_months, "date"),
        "min": (scalar_extreme(min), "same"),
        "max": (scalar_extreme(max), "same"),
        "abs": (absolute, "number"),
        "clamp": (clamp, "number"),
        "round": (round_, "number"),
        "coalesce": (coalesce, "same"),
        "present": (lambda x: x is not None, "bool"),
        "extra": (extra, "any"),
        "percent": (percent, "text"),
        "len": (length, "number"),
    }
