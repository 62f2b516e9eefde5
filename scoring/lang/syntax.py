"""Syntax of rule expressions: parsed by Python's `ast` under a whitelist, never evaluated by it.

The grammar is a small, side-effect-free subset of Python expressions:

    literals      3  2.5  "text"  true  false  null   [a, b]
    names         those of the caller's scope (a let, a rule binding, case, params, events...)
    access        x.field   x[key]
    operators     + - * /   == != < <= > >=  in  not in   and or not   a if c else b
    calls         the built-in functions only (see builtins.py)
    generators    count(c for c in contact if c.mode == "phone"), only as an aggregate's argument

Numbers are exact: 2.5 is the fraction 5/2, never a float. Anything else (lambdas,
comprehensions, ** and %, attribute names starting with "_", keyword arguments...) is
rejected with the column where it occurs. Limits on the length, the parts, the nesting and
the numbers written (limits.py) keep a hostile rule file from making parsing, or anything
after it, expensive.
"""
from __future__ import annotations

import ast
from fractions import Fraction

from scoring.base.errors import closest
from scoring.base.i18n import N_, _
from scoring.base.library_text import library_message

from .builtins import AGGREGATES, BUILTINS
from .limits import MAX_EXPRESSION_DEPTH, MAX_EXPRESSION_LENGTH, MAX_EXPRESSION_PARTS, number_problem
from .nodes import Arith, Attr, BoolOp, Call, Compare, Cond, Const, ExprError, Gen, Index, ListLit, Name, Node, Unary
from .operators import ARITHMETIC, COMPARISONS, UNARY

CONSTANT_NAMES = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}


_NOT_ALLOWED = {
    ast.Pow: N_("** is not part of the rule language"),
    ast.Mod: N_("% is not part of the rule language"),
    ast.FloorDiv: N_("// is not part of the rule language; use round()"),
    ast.Is: N_('"is" is not part of the rule language; use present(x)'),
    ast.IsNot: N_('"is not" is not part of the rule language; use present(x)'),
}


def parse(text: str) -> Node:
    """Parse one expression; raises ExprError naming the column."""
    if not isinstance(text, str):
        raise ExprError(_("an expression must be text, not {type}").format(type=type(text).__name__))
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExprError(_("expression longer than {n} characters").format(n=MAX_EXPRESSION_LENGTH))
    source = text.strip()
    offset = text.index(source) if source else 0
    if not source:
        raise ExprError(_("empty expression"))
    if "\n" in source or "\r" in source:
        # keeps every column meaningful in messages; TOML strings are one line anyway
        source = " ".join(source.split())
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        column = (exc.offset - 1 + offset) if exc.offset else None
        raise ExprError(_("syntax error: {reason}").format(reason=library_message(exc.msg)), column) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExprError(_("expression too deeply nested")) from None
    _check_size(tree)
    return _Converter(source, offset).visit(tree.body)


def _check_size(tree: ast.AST) -> None:
    """At most MAX_EXPRESSION_PARTS parts, nested at most MAX_EXPRESSION_DEPTH deep (everything
    after the parser walks the tree recursively)."""
    count = 0
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_EXPRESSION_PARTS:
            raise ExprError(_("expression has more than {n} parts").format(n=MAX_EXPRESSION_PARTS))
        if depth > MAX_EXPRESSION_DEPTH:
            raise ExprError(_("expression nested more than {n} deep").format(n=MAX_EXPRESSION_DEPTH),
                            getattr(node, "col_offset", None))
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


class _Converter(ast.NodeVisitor):
    """Python's tree of the expression -> the language's (nodes.py); a node without a visit_ method is refused."""

    def __init__(self, source: str, offset: int):
        self.source = source
        self.offset = offset

    def col(self, node: ast.AST) -> int:
        return getattr(node, "col_offset", 0) + self.offset

    def fail(self, node: ast.AST, message: str):
        raise ExprError(message, self.col(node))

    def generic_visit(self, node: ast.AST):
        self.fail(node, _("{what} is not allowed in rule expressions").format(what=_describe(node)))

    def visit_Constant(self, node: ast.Constant) -> Node:
        value = node.value
        if isinstance(value, int) and not isinstance(value, bool):
            problem = number_problem(value)
            if problem:
                self.fail(node, problem)
        if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
            return Const(value, col=self.col(node))
        if isinstance(value, float):
            # exact decimal from the literal's text, not from the binary float (nor expanded before it is checked)
            text = (ast.get_source_segment(self.source, node) or repr(value)).replace("_", "")
            problem = number_problem(text)
            if problem:
                self.fail(node, problem)
            return Const(_normal(Fraction(text)), col=self.col(node))
        self.fail(node, _("{type} literals are not allowed").format(type=type(value).__name__))

    def visit_Name(self, node: ast.Name) -> Node:
        if node.id in CONSTANT_NAMES:
            return Const(CONSTANT_NAMES[node.id], col=self.col(node))
        if node.id.startswith("_"):
            self.fail(node, _('names starting with "_" are not allowed: {name}').format(name=node.id))
        return Name(node.id, col=self.col(node))

    def visit_Attribute(self, node: ast.Attribute) -> Node:
        if node.attr.startswith("_"):
            self.fail(node, _('field names starting with "_" are not allowed: {name}').format(name=node.attr))
        return Attr(self.visit(node.value), node.attr, col=self.col(node))

    def visit_Subscript(self, node: ast.Subscript) -> Node:
        if isinstance(node.slice, ast.Slice):
            self.fail(node, _("slices are not allowed"))
        return Index(self.visit(node.value), self.visit(node.slice), col=self.col(node))

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Node:
        op = UNARY.get(type(node.op))
        if op is None:
            self.fail(node, _("the ~ operator is not allowed"))
        operand = self.visit(node.operand)
        if op == "-" and isinstance(operand, Const) and _is_number(operand.value):
            return Const(-operand.value, col=self.col(node))
        return Unary(op, operand, col=self.col(node))

    def visit_BinOp(self, node: ast.BinOp) -> Node:
        op = ARITHMETIC.get(type(node.op))
        if op is None:
            self.fail(node, _(_NOT_ALLOWED[type(node.op)]) if type(node.op) in _NOT_ALLOWED else
                      _("operator {name} is not allowed").format(name=type(node.op).__name__))
        return Arith(op, self.visit(node.left), self.visit(node.right), col=self.col(node))

    def visit_BoolOp(self, node: ast.BoolOp) -> Node:
        op = "and" if isinstance(node.op, ast.And) else "or"
        items: list[Node] = []
        for value in node.values:
            item = self.visit(value)
            # flatten a and (b and c) so the compiler sees every conjunct
            items.extend(item.items if isinstance(item, BoolOp) and item.op == op else [item])
        return BoolOp(op, tuple(items), col=self.col(node))

    def visit_Compare(self, node: ast.Compare) -> Node:
        parts: list[Node] = []
        left = self.visit(node.left)
        for op_node, right_node in zip(node.ops, node.comparators):
            op = COMPARISONS.get(type(op_node))
            if op is None:
                self.fail(node, _(_NOT_ALLOWED.get(type(op_node), N_("this comparison is not allowed"))))
            right = self.visit(right_node)
            for side in (left, right):
                if isinstance(side, Const) and side.value is None and op in ("==", "!="):
                    self.fail(node, _("a comparison with null is never true; write present(x) or not present(x)"))
            parts.append(Compare(op, left, right, col=self.col(node)))
            left = right
        # 0 < x <= 10 means (0 < x) and (x <= 10), as in Python
        return parts[0] if len(parts) == 1 else BoolOp("and", tuple(parts), col=self.col(node))

    def visit_IfExp(self, node: ast.IfExp) -> Node:
        return Cond(self.visit(node.test), self.visit(node.body), self.visit(node.orelse), col=self.col(node))

    def visit_List(self, node) -> Node:
        return ListLit(tuple(self.visit(item) for item in node.elts), col=self.col(node))

    visit_Tuple = visit_List

    def visit_Call(self, node: ast.Call) -> Node:
        if not isinstance(node.func, ast.Name):
            self.fail(node, _("only the rule language's functions can be called"))
        name = node.func.id
        builtin = BUILTINS.get(name)
        if builtin is None:
            self.fail(node, _('unknown function "{name}"{hint}').format(name=name, hint=closest(name, BUILTINS)))
        if node.keywords:
            self.fail(node, _("{name}() takes no keyword arguments").format(name=name))
        low, high = builtin.min_args, builtin.max_args
        count = len(node.args)
        if count < low or (high is not None and count > high):
            message = (_("{name}() takes {low} argument(s), got {count}") if low == high else
                       _("{name}() takes {low} or more argument(s), got {count}") if high is None else
                       _("{name}() takes {low} to {high} argument(s), got {count}"))
            self.fail(node, message.format(name=name, low=low, high=high, count=count))
        args = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                self.fail(arg, _("* arguments are not allowed"))
            if isinstance(arg, ast.GeneratorExp):
                if not builtin.aggregate or count != 1:
                    self.fail(arg, _("a generator can only be the single argument of {functions}").format(
                        functions=", ".join(AGGREGATES)))
                args.append(self._generator(arg))
            else:
                args.append(self.visit(arg))
        return Call(name, tuple(args), col=self.col(node))

    def _generator(self, node: ast.GeneratorExp) -> Gen:
        if len(node.generators) != 1:
            self.fail(node, _("a generator may have only one 'for'"))
        comp = node.generators[0]
        if comp.is_async or not isinstance(comp.target, ast.Name):
            self.fail(node, _("write the generator as: x for x in <event type> if <condition>"))
        var = comp.target.id
        if var.startswith("_") or var in CONSTANT_NAMES:
            self.fail(comp.target, _("{name} cannot name a generator variable").format(name=var))
        conds = [self.visit(cond) for cond in comp.ifs]
        cond = None if not conds else conds[0] if len(conds) == 1 else BoolOp("and", tuple(conds), col=self.col(node))
        return Gen(var, self.visit(comp.iter), cond, self.visit(node.elt), col=self.col(node))


def _describe(node: ast.AST) -> str:
    names = {
        "Lambda": N_("a lambda"), "ListComp": N_("a list comprehension"), "SetComp": N_("a set comprehension"),
        "DictComp": N_("a dict comprehension"), "GeneratorExp": N_("a generator outside an aggregate"),
        "NamedExpr": N_("the := operator"), "JoinedStr": N_("an f-string"), "Dict": N_("a dict literal"),
        "Set": N_("a set literal"), "Starred": N_("a * expression"), "Slice": N_("a slice"),
    }
    name = type(node).__name__
    return _(names[name]) if name in names else {"Await": "await", "Yield": "yield"}.get(name, name)


def _is_number(value) -> bool:
    return isinstance(value, (int, Fraction)) and not isinstance(value, bool)


def _normal(value: Fraction):
    return value.numerator if value.denominator == 1 else value
