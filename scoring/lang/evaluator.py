"""Compile expression trees into Python closures, checking names and fields as it goes.

Compiling happens once per rulebook; evaluating a closure is a few dictionary lookups
and function calls, so rules stay cheap on a year of cases. A closure takes one argument,
the environment: a dict of the names an expression can see (see Scope). Sub-expressions
that depend only on the rulebook's parameters are computed at compile time, which both
saves work and turns a mistake such as `params.outcome_ponits` into an error before any
case is read.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from scoring.base.errors import closest
from scoring.base.i18n import N_, _

from . import values as V
from .builtins import BUILTINS, NOT_CONSTANT, UNKNOWN, Builtin
from .nodes import Arith, Attr, BoolOp, Call, Compare, Cond, Const, ExprError, Gen, Index, ListLit, Name, Node, Unary
from .operators import ORDERING
from .schema import Schema
from .visitor import NodeVisitor

Closure = Callable[[dict], Any]

# environment key of the handler's events grouped by type (not a name users can write)
BY_TYPE = "\x00by_type"


@dataclass
class Scope:
    """The names an expression may use, with their static types.

    Types: number, text, date, bool, list, map, any, event (an item of an event type),
    events (a list of events), and the other kinds of record of the compiler's schema.
    `constants` are names whose value is known when compiling (params).
    """

    names: dict[str, str] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    event_types: frozenset[str] = frozenset()
    # names other expressions may read, and where (a rate's `rate` in a case rule): said instead of "unknown"
    elsewhere: Mapping[str, str] = field(default_factory=dict)

    def with_names(self, **names: str) -> Scope:
        return Scope({**self.names, **names}, self.constants, self.event_types, self.elsewhere)

    def known(self) -> list[str]:
        return sorted(set(self.names) | set(self.constants) | set(self.event_types))


class ExpressionCompiler(NodeVisitor):
    def __init__(self, calendar, schema: Schema | None = None):
        self.calendar = calendar
        self.schema = schema or Schema()  # the records' fields (none: fields are not checked)
        self.functions = {name: b.implementation(calendar) for name, b in BUILTINS.items() if b.run is not None}
        self.params_used: set[str] = set()  # top-level params an expression read (for `rules validate`)
        self.names_used: set[str] = set()  # names of the scope an expression read

    def compile(self, node: Node, scope: Scope) -> Closure:
        fn, _type = self.visit(node, scope)
        return fn

    def compile_typed(self, node: Node, scope: Scope) -> tuple[Closure, str]:
        return self.visit(node, scope)

    def compile_condition(self, node: Node, scope: Scope) -> Closure:
        """A condition (`when`, a rate's `hit`, a category's `of`...): true or false, or null (false)."""
        return self._test(node, scope)

    def _test(self, node: Node, scope: Scope) -> Closure:
        """What decides: a value that is true or false. A number, a text, a date or a list is refused,
        since it would decide by being non-zero or non-empty, silently (count(x) where count(x) > 0 was meant)."""
        fn, kind = self.visit(node, scope)
        if kind in NOT_CONDITIONS:
            raise ExprError(_("a condition must be true or false, and this is a {kind}: {advice}").format(
                kind=kind, advice=_(NOT_CONDITIONS[kind])), node.col)
        return fn


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
            self.names_used.add(name)
            return (lambda env: env[name]), scope.names[name]
        if name in scope.constants:
            return self._const(scope.constants[name])
        if name in scope.event_types:
            raise ExprError(
                _('"{name}" is an event type; use it inside first({name}), last({name}), count({name}), '
                  "exists({name}) or a generator").format(name=name), node.col)
        if name in scope.elsewhere:
            raise ExprError(_('"{name}" cannot be read here; it is read in {where}').format(
                name=name, where=_(scope.elsewhere[name])), node.col)
        raise ExprError(_('unknown name "{name}"{hint}').format(name=name, hint=closest(name, scope.known())), node.col)

    def visit_Attr(self, node: Attr, scope: Scope):
        obj, obj_type = self.visit(node.obj, scope)
        name = node.name
        if hasattr(obj, "constant"):
            value = obj.constant
            if isinstance(node.obj, Name) and node.obj.id == "params":
                self.params_used.add(name)
            if isinstance(value, dict):
                if name not in value:
                    raise ExprError(_('no "{name}" in {where}{hint}').format(
                        name=name, where=_describe_const(node.obj), hint=closest(name, value)), node.col)
                return self._const(value[name])
            raise ExprError(_("{kind} has no field {name}").format(kind=V.kind(value), name=name), node.col)
        record = self.schema.records.get(obj_type)
        if record is not None and name not in record.fields:
            hint = closest(name, record.fields)
            message = (_('{kind} has no field "{name}"{hint}; its fields are {fields} (read an extra field with '
                         'extra(x, "{name}"))') if record.extras else
                       _('{kind} has no field "{name}"{hint}; its fields are {fields}'))
            raise ExprError(message.format(kind=obj_type, name=name, hint=hint, fields=", ".join(record.fields)), node.col)
        if obj_type in ("number", "date", "datetime", "text", "bool", "list"):
            raise ExprError(_("{kind} has no field {name}").format(kind=obj_type, name=name), node.col)
        result_type = record.fields[name].kind if record is not None else "any"

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
        if node.op == "not":
            operand = self._test(node.operand, scope)
            fn = lambda env: not V.truthy(operand(env))  # noqa: E731
            return self._maybe_fold(fn, [operand], "bool", node)
        operand, operand_type = self.visit(node.operand, scope)
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
            if not joins_text and self._no_arithmetic(side_type):
                raise ExprError(_("cannot use {kind} in arithmetic ({op})").format(kind=side_type, op=op), node.col)
        result_type = ("text" if joins_text else
                       "date" if "date" in (lt, rt) and not (lt == rt == "date") else
                       "number" if lt == rt == "date" or (lt == rt == "number") else
                       "text" if lt == rt == "text" else "any")
        if result_type == "date":
            days = right if lt == "date" else left
            if V.kind(getattr(days, "constant", None)) == "number" and abs(days.constant) > V.MAX_DAYS:
                raise ExprError(_("a date {op} {number} is past the calendar (years 1 to 9999) whatever the date").format(
                    op=op, number=V.format_value(days.constant)), node.col)
        fn = lambda env: V.arith(op, left(env), right(env))  # noqa: E731
        return self._maybe_fold(fn, [left, right], result_type, node)

    def _no_arithmetic(self, kind: str) -> bool:
        # records with extra fields (those of the case file) are refused here; a record
        # without them passes, and fails when run, as it always has
        record = self.schema.records.get(kind)
        # a date-time moves by working hours (add_workhours), not by arithmetic
        return kind in ("bool", "datetime", "event", "list", "map", "events") or (record is not None and record.extras)

    def visit_Compare(self, node: Compare, scope: Scope):
        left, lt = self.visit(node.left, scope)
        right, rt = self.visit(node.right, scope)
        op = node.op
        if op in ORDERING and "any" not in (lt, rt) and lt != rt:
            raise ExprError(_("cannot compare {left} with {right} using {op}").format(left=lt, right=rt, op=op), node.col)
        fn = lambda env: V.compare(op, left(env), right(env))  # noqa: E731
        return self._maybe_fold(fn, [left, right], "bool", node)

    def visit_BoolOp(self, node: BoolOp, scope: Scope):
        items = [self._test(item, scope) for item in node.items]
        if node.op == "and":
            fn = lambda env: all(V.truthy(item(env)) for item in items)  # noqa: E731
        else:
            fn = lambda env: any(V.truthy(item(env)) for item in items)  # noqa: E731
        return self._maybe_fold(fn, items, "bool", node)

    def visit_Cond(self, node: Cond, scope: Scope):
        test = self._test(node.test, scope)
        then, then_type = self.visit(node.then, scope)
        other, other_type = self.visit(node.other, scope)
        fn = lambda env: then(env) if V.truthy(test(env)) else other(env)  # noqa: E731
        return self._maybe_fold(fn, [test, then, other], then_type if then_type == other_type else "any", node)

    def visit_ListLit(self, node: ListLit, scope: Scope):
        items = [self.visit(item, scope)[0] for item in node.items]
        fn = lambda env: [item(env) for item in items]  # noqa: E731
        return self._maybe_fold(fn, items, "list", node)

    def visit_Gen(self, node: Gen, scope: Scope):
        raise ExprError(_("a generator can only be the argument of an aggregate"), node.col)

    def visit_Call(self, node: Call, scope: Scope):
        builtin = BUILTINS[node.func]
        if builtin.aggregate and len(node.args) == 1:
            return self._aggregate(node, builtin, scope)
        if builtin.constant is not None and (value := builtin.constant(node)) is not NOT_CONSTANT:
            return self._const(value)
        if builtin.check is not None:
            builtin.check(node)
        if builtin.hours and not getattr(self.calendar, "working_hours", ()):
            raise ExprError(_("{func}() counts working hours, and none are declared: add working_hours = "
                              '["09:00-12:00", "13:30-17:30"] (your hours) under [calendar]').format(func=node.func), node.col)
        compiled = [self.visit(arg, scope) for arg in node.args]
        args = [fn for fn, _ in compiled]
        for arg, (_fn, kind), kinds in zip(node.args, compiled, builtin.takes):
            if kind not in (*kinds, "any"):
                raise ExprError(_("{func}() takes {wanted}, not {kind}").format(
                    func=node.func, wanted=_(builtin.wanted), kind=kind), arg.col)
        if builtin.check_known is not None:
            try:
                builtin.check_known([getattr(fn, "constant", UNKNOWN) for fn in args])
            except V.EvalError as exc:
                raise ExprError(str(exc), node.col) from None
        impl = self.functions[node.func]
        result_type = compiled[0][1] if builtin.result == "same" else builtin.result
        fn = lambda env: impl(*[arg(env) for arg in args])  # noqa: E731
        return self._maybe_fold(fn, args, result_type, node)

    def _aggregate(self, node: Call, builtin: Builtin, scope: Scope):
        """An aggregate (exists, count, sum, first, last, min, max) over one source."""
        arg = node.args[0]
        if not isinstance(arg, Gen):
            if isinstance(arg, Name) and arg.id in scope.event_types and arg.id not in scope.names:
                arg = Gen(arg.id, arg, None, Name(arg.id, col=arg.col), col=arg.col)
            elif builtin.run is not None:  # min(x), max(x): the plain function (of a list: its extreme)
                fn, _ = self.visit(arg, scope)
                impl = self.functions[node.func]
                return self._maybe_fold(lambda env: impl(fn(env)), [fn], "any", node)
            else:
                arg = Gen("\x00item", arg, None, Name("\x00item", col=arg.col), col=arg.col)
        source, item_type = self._source(arg.source, scope)
        inner = scope.with_names(**{arg.var: item_type})
        cond = self._test(arg.cond, inner) if arg.cond is not None else None
        elt, elt_type = self.visit(arg.elt, inner)
        var = arg.var

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

        fold = builtin.fold
        return (lambda env: fold(items(env))), elt_type if builtin.result == "same" else builtin.result

    def _source(self, node: Node, scope: Scope) -> tuple[Closure, str]:
        if isinstance(node, Name) and node.id in scope.event_types and node.id not in scope.names:
            event_type = node.id
            return (lambda env: env[BY_TYPE].get(event_type, ())), "event"
        fn, source_type = self.visit(node, scope)
        if source_type == "events":
            return fn, "event"
        if source_type not in ("list", "any"):
            raise ExprError(_("cannot iterate over {kind}; iterate over an event type or events").format(kind=source_type),
                            node.col)

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
            except ValueError as exc:  # EvalError, or a date the calendar does not cover
                raise ExprError(str(exc), node.col) from None
        return fn, result_type


_MISSING = object()

# static kinds that cannot be a condition, with what to write instead
NOT_CONDITIONS = {"number": N_("compare it (count(x) > 0, x != 0)"), "text": N_("compare it (x == '...', x != '')"),
                  "date": N_("compare it (x.date <= due)"), "datetime": N_("compare it (x.at <= due)"),
                  "list": N_("ask exists(...) or compare len(...)"),
                  "map": N_("look up a value and compare it"), "events": N_("ask exists(...)")}


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
    return _("the map")
