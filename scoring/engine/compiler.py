"""Compile a rulebook: expressions to closures, rule conditions to matching-engine rules.

A rule names events (`bind = { r = "first reply", p = "published" }`) and states a
condition (`when`). The condition is split at its top-level `and`s, and each part goes
where it can be decided:

* a part about no bound event (the case, the handler, lets): decided in Python, once per
  case and handler; the rule's context pattern carries the result as a flag;
* a part about one bound event: decided in Python for each event; the event carries a
  flag for the pattern it satisfies;
* a comparison between two bound events (`c.date <= r.date`): a join, done by the
  matching engine on values computed for each event;
* `exists(...)` / `not exists(...)` over events: a pattern (the earliest witness) or a
  negated pattern in the engine; `first`/`last` are negated patterns too ("no earlier
  reply").

So durable_rules does the matching (joins, absence, first/last), and Python computes the
per-fact values it matches on. Points and sentences are evaluated in Python on the events
of each match.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scoring.base.errors import InputError, Problem, closest
from scoring.base.i18n import N_, _, ngettext
from scoring.domain.fields import expression_schema
from scoring.domain.spec import Domain
from scoring.domain.workdays import WorkCalendar, parse_working_hours
from scoring.inputs.departments import Departments
from scoring.lang import values as V
from scoring.lang.evaluator import Closure, ExpressionCompiler, Scope
from scoring.lang.limits import MAX_LET_CHAIN
from scoring.lang.nodes import Arith, Attr, Call, Compare, Const, ExprError, Gen, Index, Name, Node, Unary, conjuncts
from scoring.lang.operators import FLIP, ORDERING
from scoring.lang.schema import FieldType, RecordType, Schema
from scoring.lang.syntax import parse
from scoring.lang.template import compile_template, parse_template
from scoring.lang.visitor import NodeTransformer
from scoring.rulebook.load import Rulebook
from scoring.rulebook.overlay import load_effective

from .durable import MAX_PROPERTIES, rule_problem
from .rules import Check, Pattern, Rule

ORDER_ATTR = "o"  # every event fact: its position in the handler's timeline
CONTEXT_ALIAS = "c"  # the pattern of the case-and-handler fact, first in every rule
# names that hold one record, with its kind in the expression schema (`rules validate` reads them too)
RECORD_NAMES = {"case": "case", "handler": "handler", "department": "department"}
# the date the cases are judged at: a self-check's date, a bulletin's month end, the closing date
AS_OF = "as_of"
# a department's place in the ranking, read by department items (per = "department") and gates, which
# are then scored after the ranking (scoring.engine.rollup)
RANKING = "ranking"
RANKING_RECORD = RecordType({
    "rank": FieldType("number", min=1),  # null: not ranked
    "of": FieldType("number", min=0),  # the departments ranked in its group
    "from_last": FieldType("number", min=1),  # 1 + those ranked below it (1: the last); null: not ranked
    "percentile": FieldType("number", min=0, max=1),  # the share of its group ranked below it; null: not ranked
}, extras=False)
# the names only some expressions read, and which (the README's table "What an expression can read"): an
# expression elsewhere that uses one is told where it can, not that the name is unknown
READ_ELSEWHERE = {
    "rate": N_("a rate's points and text"),
    "hits": N_("a rate's points and text, when it counts hits (a ratio of sums has numerator and denominator)"),
    "cases": N_("a rate's points and text"), "numerator": N_("a ratio of sums' points and text"),
    "denominator": N_("a ratio of sums' points and text"), "computed": N_("a scorer's score"),
    "total": N_("a gate's when and text"), "items": N_("department items' rules and a gate's when and text"),
    RANKING: N_("department items' rules and a gate's when and text"),
    "factor": N_("a multiplier's text"), "points": N_("a multiplier's text"),
    "case": N_("case rules and lets"), "handler": N_("case rules and lets"), "rubric": N_("case rules and lets"),
    "events": N_("case rules and lets"), "case_events": N_("case rules and lets"),
    "category": N_("case rules after the lets, and a department's expressions"),
}


@dataclass
class EventFlag:
    """A pattern's condition on one event: the event's fact for each slot gets slot_attr(attr, slot)=1 when it holds."""

    attr: str
    event_type: str | None  # None: any event
    var: str
    test: Closure | None  # None: the type alone decides
    slots: set[int] = field(default_factory=set)  # the slots of the patterns that test it (see _RulePatterns.build)


def slot_attr(attr: str, slot: int) -> str:
    """The flag's attribute on an event's copy for one slot: f3 in slot 0, f3_1 in slot 1, ..."""
    return attr if slot == 0 else f"{attr}_{slot}"


@dataclass
class EventValue:
    """A value computed for each event of a type, for the engine's joins."""

    attr: str
    event_type: str | None
    var: str
    expr: Closure
    ordering: bool  # compared with < <= > >= (numbers, dates) or with == != (any kind)
    expect: str  # static kind the other side of the join has ("any" if unknown)


@dataclass
class ContextFlag:
    attr: str
    test: Closure


@dataclass
class CompiledRule:
    id: str
    name: str  # its name in the engine
    criterion: CompiledCriterion
    evidence: tuple[str, ...]  # pattern aliases whose events are the evidence, in order
    variables: dict[str, str]  # alias -> variable name the points/text see
    points: Closure | None
    text: Callable[[dict], str] | None
    once: bool


@dataclass
class DepartmentRule:
    """A rule of an item scored once per department (per = "department"): on its record, not on events."""

    id: str
    each: tuple[str, Closure] | None  # (variable, list): one line per element the condition holds for
    when: Closure | None
    points: Closure
    text: Callable[[dict], str]
    evidence: tuple[str, ...]  # the record fields it reads, as "department.<field>"
    items_read: tuple[str, ...] = ()  # the other items whose points it reads (items.X): its line names them


@dataclass
class CompiledMultiply:
    by: Closure
    text: Callable[[dict], str]


@dataclass
class CompiledCategory:
    id: str
    title: str
    of: Closure
    weight: Any
    min: Any
    max: Any


@dataclass
class CompiledGate:
    id: str
    title: str
    criterion: str | None
    when: Closure | None
    grade: str | None
    total: Any
    text: Callable[[dict], str]
    after_ranking: bool = False  # reads `ranking`: decided after the departments are ranked


@dataclass
class CompiledScorer:
    id: str
    title: str
    weight: Any
    score: Closure


@dataclass
class CompiledRate:
    of: Closure
    hit_rule: str | None  # engine rule name of the hit condition; None: a ratio of sums
    points: Closure
    text: Callable[[dict], str]
    empty: Callable[[dict], str] | None
    numerator: Closure | None = None  # a ratio of sums: per counted case, the numbers pooled
    denominator: Closure | None = None


@dataclass
class CompiledCriterion:
    id: str
    title: str
    level: str
    rubric: str | None
    max: Any
    min: Any
    hit: str
    otherwise: Callable[[dict], str] | None
    rules: list[CompiledRule] = field(default_factory=list)
    rate: CompiledRate | None = None
    due: Closure | None = None  # the item's deadline (a date, or null while it is not known)
    step: CompiledStep | None = None
    decided_by: str | None = None
    base: Any = None  # the points the item starts from
    per: str = "case"
    category: str | None = None
    multiply: CompiledMultiply | None = None
    department_rules: list[DepartmentRule] = field(default_factory=list)
    in_total: bool = True  # false: an indicator beside the total (its lines are not the total's)
    after_ranking: bool = False  # a department item that reads `ranking`: scored after the departments are ranked


@dataclass
class CompiledStep:
    """The event that completes an item, the condition for it to be still possible, and what is missing."""

    event: dict
    when: Closure | None
    missing: Callable[[dict], str] | None


@dataclass
class CompiledRubric:
    id: str
    title: str
    roles: tuple[str, ...]
    min: Any
    max: Any


@dataclass(frozen=True)
class DepartmentNumbers:
    """[department] base, min and max as numbers, once the params are known."""

    base: Any = None
    min: Any = None
    max: Any = None


@dataclass
class CompiledRulebook:
    book: Rulebook
    calendar: WorkCalendar
    lets: list[tuple[str, Closure]]
    rubrics: list[CompiledRubric]
    criteria: list[CompiledCriterion]
    rules: dict[str, CompiledRule]  # engine rule name -> rule
    engine_rules: list[Rule]
    event_flags: list[EventFlag]
    event_values: list[EventValue]
    context_flags: list[ContextFlag]
    texts: dict[str, str]
    categories: list[CompiledCategory] = field(default_factory=list)
    gates: list[CompiledGate] = field(default_factory=list)
    scorers: list[CompiledScorer] = field(default_factory=list)
    group: Closure | None = None  # the department's peer group, for ranking
    params_used: frozenset[str] = frozenset()  # top-level params some expression reads
    reads_as_of: bool = False  # some expression reads the date the cases are judged at
    department: DepartmentNumbers = field(default_factory=DepartmentNumbers)
    # the order the department's items are scored in: file order, but an item after the items it reads
    item_order: tuple[int, ...] = ()
    min_cases: int = 0  # [ranking] min_cases, once the params are known
    combine: Closure | None = None  # [combine] expression: a year's total from the periods' (totals)

    @property
    def reads_ranking(self) -> bool:
        """Some item or gate reads the department's place in the ranking (scored after it)."""
        return any(c.after_ranking for c in self.criteria) or any(g.after_ranking for g in self.gates)

    @property
    def domain(self) -> Domain:
        return self.book.domain

    @functools.cached_property
    def event_types(self) -> frozenset[str]:
        return frozenset(self.book.domain.events)

    def rubric_of(self, role: str) -> CompiledRubric | None:
        return next((r for r in self.rubrics if role in r.roles), None)

    @property
    def departments(self) -> Departments:
        """The departments the rulebook declares, as the case readers check them."""
        declared = self.book.spec.departments
        return Departments(tuple(declared.assessed), dict(declared.aliases))


def _cycle_from(start: str, reads: dict[str, set[str]]) -> list[str] | None:
    """A cycle of reads that starts and ends at `start` (["D3", "D4", "D3"]), or None."""
    stack = [(start, [start])]
    seen = set()
    while stack:
        item, path = stack.pop()
        for other in sorted(reads.get(item, ())):
            if other == start:
                return path + [start]
            if other not in seen:
                seen.add(other)
                stack.append((other, path + [other]))
    return None


def _named_items(nodes: list[Node]) -> set[str] | None:
    """The item ids these expressions read as items.X or items["X"]; None when one reads items otherwise
    (items[k] with a computed k, items as a whole)."""
    found: set[str] = set()
    named = set()  # the Name nodes read as items.X or items["X"]
    for node in nodes:
        for n in node.walk():
            by_name = isinstance(n, Attr) or (isinstance(n, Index) and isinstance(n.key, Const)
                                              and isinstance(n.key.value, str))
            if by_name and isinstance(n.obj, Name) and n.obj.id == "items":
                found.add(n.name if isinstance(n, Attr) else n.key.value)
                named.add(id(n.obj))
        if any(isinstance(n, Name) and n.id == "items" and id(n) not in named for n in node.walk()):
            return None
    return found


def _items_read(gate, every: set[str]) -> set[str]:
    """The item ids a gate's criterion, when and text read (all of `every` where it reads items otherwise)."""
    nodes = [parse(gate.when)] if gate.when else []
    nodes += [part[1][0] for part in parse_template(gate.text) if part[0] == "expr"]
    read = _named_items(nodes)
    return (every if read is None else read) | ({gate.criterion} if gate.criterion else set())


def compile_rulebook(book: Rulebook) -> CompiledRulebook:
    return _Compiler(book).run()


def load_compiled(rules: str | Path, overlays=(), sets=()) -> CompiledRulebook:
    """The rulebook file, with overlays and --set name=value applied when given, compiled."""
    return compile_rulebook(load_effective(rules, overlays, sets))


class _Compiler:
    def __init__(self, book: Rulebook):
        self.book = book
        self.spec = book.spec
        self.problems: list[Problem] = []
        try:
            years = {int(year): {"holidays": y.holidays, "workdays": y.workdays} for year, y in self.spec.calendar.years.items()}
            self.calendar = WorkCalendar(self.spec.calendar.extra_holidays, self.spec.calendar.extra_workdays, years,
                                         parse_working_hours(self.spec.calendar.working_hours))
        except ValueError as exc:
            raise InputError([book.problem(("calendar",), str(exc))]) from None
        self.domain = book.domain
        self.event_types = frozenset(self.domain.events)
        schema = expression_schema(self.domain, self.spec.department_fields)
        self.exprs = ExpressionCompiler(self.calendar, Schema({**schema.records, RANKING: RANKING_RECORD}))
        self.params = V.from_data(self.spec.params)
        self.event_flags: dict[tuple, EventFlag] = {}
        self.event_values: dict[tuple, EventValue] = {}
        self.context_flags: dict[tuple, ContextFlag] = {}
        self.engine_rules: list[Rule] = []
        self.rules: dict[str, CompiledRule] = {}

    # ------------------------------------------------------------------ entry
    def run(self) -> CompiledRulebook:
        base = Scope({**RECORD_NAMES, "rubric": "text", "events": "events", "case_events": "events", AS_OF: "date"},
                     {"params": self.params}, self.event_types, READ_ELSEWHERE)
        lets = self._lets(base)
        # a case's category is decided after the lets (a category's condition may use them)
        of_scope = base.with_names(**{name: kind for name, (_, kind) in lets.items()})
        self.scope = of_scope.with_names(category="text")
        self.department_scope = Scope({"department": "department", "category": "text", AS_OF: "date"},
                                      {"params": self.params}, elsewhere=READ_ELSEWHERE)
        rubrics = [CompiledRubric(r.id, r.title, tuple(r.roles), *self._clamp(("rubric", i), r.min, r.max))
                   for i, r in enumerate(self.spec.rubric)]
        categories = [CompiledCategory(c.id, c.title, self._condition(("category", i, "of"), c.of, of_scope), _number(c.weight),
                                       *self._clamp(("category", i), c.min, c.max)) for i, c in enumerate(self.spec.category)]
        department = DepartmentNumbers(self._constant(("department", "base"), self.spec.department.base),
                                       *self._clamp(("department",), self.spec.department.min, self.spec.department.max))
        criteria = [self._criterion(index, spec) for index, spec in enumerate(self.spec.criterion)]
        gates = [self._gate(index, spec) for index, spec in enumerate(self.spec.gate)]
        scorer_scope = self.department_scope.with_names(computed="number")
        scorers = [CompiledScorer(s.id, s.title, _number(s.weight), self._expr(("scorer", i, "score"), s.score, scorer_scope))
                   for i, s in enumerate(self.spec.scorer)]
        group = self.spec.ranking.group
        group_fn = None if group is None else self._expr(("ranking", "group"), group, self.department_scope)
        min_cases = self._min_cases()
        combine = self._combine()
        order = self._item_order(criteria)
        self._check_ranking_order(criteria, gates)
        if self.problems:
            raise InputError(self.problems, _("{file}: {n} problem(s) in the rulebook's expressions").format(
                file=self.book.path, n=len(self.problems)))
        return CompiledRulebook(
            self.book, self.calendar, [(name, fn) for name, (fn, _) in lets.items()], rubrics, criteria,
            self.rules, self.engine_rules, list(self.event_flags.values()), list(self.event_values.values()),
            list(self.context_flags.values()), self.spec.texts.model_dump(), categories, gates, scorers, group_fn,
            frozenset(self.exprs.params_used), AS_OF in self.exprs.names_used, department, order, min_cases,
            combine)

    def gate_scope(self) -> Scope:
        """A gate's condition sees the department, its total so far, its points per item and its place in the
        ranking (a gate that reads it is decided after the ranking)."""
        return self.department_scope.with_names(total="number", items="map", **{RANKING: RANKING})

    def _gate(self, index: int, spec) -> CompiledGate:
        path = ("gate", index)
        with self._reading(RANKING) as read:
            when = self._condition(path + ("when",), spec.when, self.gate_scope())
            text = self._template(path + ("text",), spec.text, self.gate_scope())
        return CompiledGate(spec.id, spec.title, spec.criterion, when, spec.grade,
                            self._constant(("gate", index, "total"), spec.total), text, read[0])

    def _fail(self, path: tuple, exc: ExprError | str, source: str | None = None) -> None:
        if isinstance(exc, ExprError):
            message = exc.message
            if source is not None:
                message += (_(' — in "{expression}" at column {column}').format(expression=source, column=exc.column + 1)
                            if exc.column is not None else _(' — in "{expression}"').format(expression=source))
        else:
            message = exc
        self.problems.append(self.book.problem(path, message))

    def _expr(self, path: tuple, source, scope: Scope) -> Closure | None:
        """Compile a number or an expression text; None (and a problem noted) if it fails."""
        if not isinstance(source, str):
            value = _number(source)
            return lambda env: value
        try:
            return self.exprs.compile(parse(source), scope)
        except ExprError as exc:
            self._fail(path, exc, source)
            return None

    def _condition(self, path: tuple, source: str | None, scope: Scope) -> Closure | None:
        """A condition: true or false (a number or a text is refused, see compile_condition)."""
        if source is None:
            return None
        try:
            return self.exprs.compile_condition(parse(source), scope)
        except ExprError as exc:
            self._fail(path, exc, source)
            return None

    def _template(self, path: tuple, source: str | None, scope: Scope):
        if source is None:
            return None
        try:
            return compile_template(source, self.exprs, scope)
        except ExprError as exc:
            self._fail(path, exc, source)
            return None

    def _clamp(self, path: tuple, low, high) -> tuple:
        """A min and a max (numbers, or expressions of params), the min not above the max."""
        low, high = self._constant(path + ("min",), low), self._constant(path + ("max",), high)
        if low is not None and high is not None and low > high:
            self._fail(path + ("min",), _("min {min} is above max {max}").format(
                min=V.format_value(low), max=V.format_value(high)))
        return low, high

    def _combine(self) -> Closure | None:
        """[combine] expression, of the department's period totals (`totals`, in period order) and params."""
        spec = self.spec.combine
        if spec is None or spec.expression is None:
            return None
        return self._expr(("combine", "expression"), spec.expression, Scope({"totals": "list"}, {"params": self.params}))

    def _min_cases(self) -> int:
        """[ranking] min_cases: a whole number, not negative (or an expression of params that gives one)."""
        path = ("ranking", "min_cases")
        value = self._constant(path, self.spec.ranking.min_cases)
        if value is None:
            return 0
        if value < 0 or value != int(value):
            self._fail(path, _("must be a whole number of cases, not negative (got {value})").format(
                value=V.format_value(value)))
            return 0
        return int(value)

    def _constant(self, path: tuple, source):
        """A number the rulebook gives (max/min/base of an item, a clamp, a gate's total): a number,
        or an expression of params only."""
        if source is None or not isinstance(source, str):
            return _number(source)
        fn = self._expr(path, source, Scope({}, {"params": self.params}, elsewhere=READ_ELSEWHERE))
        if fn is None:
            return None
        try:
            value = fn({})
        except V.EvalError as exc:
            self._fail(path, str(exc))
            return None
        if V.kind(value) != "number":
            self._fail(path, _("must be a number, not {kind}").format(kind=V.kind(value)))
            return None
        return value

    # ------------------------------------------------------------------ lets
    def _lets(self, base: Scope) -> dict[str, tuple[Closure, str]]:
        """Compile lets in dependency order (a let may use the lets it names), which is also the
        order they are computed in. A let known before any case (of params and literals only) is
        computed now, so that a mistake in it, or a value beyond the limits, is found here."""
        sources = dict(self.spec.let)
        parsed: dict[str, Node] = {}
        for name, source in sources.items():
            try:
                parsed[name] = parse(source)
            except ExprError as exc:
                self._fail(("let", name), exc, source)
        done: dict[str, tuple[Closure, str]] = {}
        failed: set[str] = set()  # reported once; what uses them is compiled as if they were of any kind
        visiting: list[str] = []
        position = {name: index for index, name in enumerate(parsed)}
        depth: dict[str, int] = {}  # the longest chain of lets a let builds on, itself included
        # what the next let sees: the lets done so far, by kind, and by value for those known now
        scope = Scope(dict(base.names), dict(base.constants), base.event_types, base.elsewhere)

        def fail(name: str):
            failed.add(name)
            scope.names[name] = "any"
            depth[name] = 0  # what uses it is not held to account for it

        def visit(name: str):
            if name in done or name in failed or name not in parsed:
                return
            if name in visiting:
                cycle = " -> ".join(visiting[visiting.index(name):] + [name])
                raise ExprError(_("lets refer to each other in a circle: {cycle}").format(cycle=cycle))
            visiting.append(name)
            uses = sorted(parsed[name].free_names() & parsed.keys(), key=position.get)
            if len(visiting) <= MAX_LET_CHAIN:  # deeper, the chain is too long anyway: see below
                for used in uses:
                    visit(used)
            visiting.pop()
            depth[name] = 1 + max((depth.get(used, MAX_LET_CHAIN) for used in uses), default=0)
            if depth[name] > MAX_LET_CHAIN:
                self._fail(("let", name), _("lets build on each other more than {n} deep "
                                            "(this one on {uses}, which build on others ...)").format(
                    n=MAX_LET_CHAIN, uses=", ".join(uses)))
                fail(name)
                return
            try:
                fn, kind = done[name] = self.exprs.compile_typed(parsed[name], scope)
            except ExprError as exc:
                self._fail(("let", name), exc, sources[name])
                fail(name)
                return
            if hasattr(fn, "constant"):
                scope.constants[name] = fn.constant
            else:
                scope.names[name] = kind

        for name in list(parsed):
            try:
                visit(name)
            except ExprError as exc:  # a circle, or a chain too long: named once, at the let that starts it
                self._fail(("let", name), exc, sources[name])
                for stuck in [*visiting, name]:
                    fail(stuck)
                visiting.clear()
        return done

    # ------------------------------------------------------------------ criteria
    def _criterion(self, index: int, spec) -> CompiledCriterion:
        path = ("criterion", index)
        # a department item's sentences see the department, not a case
        otherwise_scope = self.scope if spec.level == "case" else self.department_scope
        low, high = self._clamp(path, spec.min, spec.max)
        criterion = CompiledCriterion(
            spec.id, spec.title, spec.level, spec.rubric, high, low,
            spec.hit, self._template(path + ("otherwise",), spec.otherwise, otherwise_scope),
            base=self._constant(path + ("base",), spec.base), per=spec.per, category=spec.category,
            in_total=spec.in_total)
        if spec.multiply is not None:
            multiply_scope = self.scope.with_names(factor="number", points="number")
            by = self._expr(path + ("multiply", "by"), spec.multiply.by, self.scope)
            text = self._template(path + ("multiply", "text"), spec.multiply.text, multiply_scope)
            criterion.multiply = CompiledMultiply(by, text) if by is not None and text is not None else None
        if spec.per == "department":
            with self._reading(RANKING) as read:
                for rule_index, rule in enumerate(spec.rule):
                    compiled_rule = self._department_rule(path + ("rule", rule_index), rule)
                    if compiled_rule is not None:
                        criterion.department_rules.append(compiled_rule)
            criterion.after_ranking = read[0]
            return criterion
        for rule_index, rule in enumerate(spec.rule):
            compiled = self._rule(path + ("rule", rule_index), rule.id, rule.bind, rule.when, criterion)
            if compiled is None:
                continue
            rule_scope = self.scope.with_names(**dict.fromkeys(compiled.variables.values(), "event"))
            compiled.points = self._expr(path + ("rule", rule_index, "points"), rule.points, rule_scope)
            compiled.text = self._template(path + ("rule", rule_index, "text"), rule.text, rule_scope)
            compiled.once = rule.once
            criterion.rules.append(compiled)
        if spec.rate is not None:
            criterion.rate = self._rate(path + ("rate",), spec.rate, criterion)
        if spec.due is not None:
            criterion.due = self._date(path + ("due",), spec.due)
        if spec.step is not None:
            step = spec.step
            when = self._condition(path + ("step", "when"), step.when, self.scope)
            missing = self._template(path + ("step", "missing"), step.missing, self.scope)
            criterion.step = CompiledStep(dict(step.event), when, missing)
        criterion.decided_by = spec.decided_by
        return criterion

    def _item_order(self, criteria: list[CompiledCriterion]) -> tuple[int, ...]:
        """File order, each item after the items it reads (items.X); a name that is no item, or items that read
        each other in a cycle, are refused with the line. An item that reads one decided after the ranking is
        decided after it too."""
        ids = [c.id for c in criteria]
        reads: dict[str, set[str]] = {}
        for index, criterion in enumerate(self.spec.criterion):
            reads[criterion.id] = set()
            if criterion.per != "department":
                continue
            for rule_index, rule in enumerate(criteria[index].department_rules):
                for item in rule.items_read:
                    if item not in ids:
                        self._fail(("criterion", index, "rule", rule_index),
                                   _('reads items.{item}, but there is no item "{item}"{hint}').format(
                                       item=item, hint=closest(item, ids)))
                    else:
                        reads[criterion.id].add(item)
        reported: set[str] = set()
        for index, item in enumerate(ids):
            cycle = _cycle_from(item, reads)
            if cycle and not reported & set(cycle):
                reported |= set(cycle)
                self._fail(("criterion", index), _("items read each other in a cycle: {cycle} "
                                                   "(an item is scored after the items it reads)").format(
                    cycle=" → ".join(cycle)))
        if reported:
            return tuple(range(len(criteria)))
        changed = True
        while changed:  # reading an item decided after the ranking puts the reader after it too
            changed = False
            for criterion in criteria:
                if not criterion.after_ranking and any(other.after_ranking for other in criteria
                                                       if other.id in reads[criterion.id]):
                    criterion.after_ranking = changed = True
        order: list[int] = []
        while len(order) < len(criteria):
            done = {ids[i] for i in order}
            order.append(next(i for i, item in enumerate(ids) if item not in done and reads[item] <= done))
        return tuple(order)

    def _check_ranking_order(self, criteria: list[CompiledCriterion], gates: list[CompiledGate]) -> None:
        """Items and gates that read the ranking are decided after it: nothing the ranking is made of may
        depend on them (a cycle), and with categories there is no one place to add them."""
        after = [c.id for c in criteria if c.after_ranking]
        if not after and not any(g.after_ranking for g in gates):
            return
        first = next(i for i, c in enumerate(criteria) if c.after_ranking) if after else None
        if self.spec.category:
            where = ("criterion", first) if first is not None else ("gate", next(i for i, g in enumerate(gates)
                                                                              if g.after_ranking))
            self._fail(where, _("items and gates that read the ranking are not supported with [[category]]"))
        if self.spec.ranking.by in after:
            self._fail(("ranking", "by"), _('the ranking cannot be by "{item}", which reads the ranking '
                                            "(a cycle: ranking → item → ranking)").format(item=self.spec.ranking.by))
        for index, (spec, gate) in enumerate(zip(self.spec.gate, gates)):
            if gate.after_ranking:
                continue
            read = sorted(set(after) & _items_read(spec, set(after)))
            if read:
                self._fail(("gate", index), ngettext(
                    'gate "{gate}" is decided before the ranking, but reads {items}, which reads the ranking '
                    "(a cycle: ranking → item → gate → total → ranking); let the gate read "
                    "the ranking too, so that it is decided after it",
                    'gate "{gate}" is decided before the ranking, but reads {items}, which read the ranking '
                    "(a cycle: ranking → item → gate → total → ranking); let the gate read "
                    "the ranking too, so that it is decided after it", len(read)).format(gate=gate.id, items=", ".join(read)))

    @contextlib.contextmanager
    def _reading(self, name: str):
        """Whether the expressions compiled inside read `name`: yields a list whose one item is set after."""
        before = set(self.exprs.names_used)
        self.exprs.names_used.clear()
        found = [False]
        try:
            yield found
        finally:
            found[0] = name in self.exprs.names_used
            self.exprs.names_used |= before

    def _department_rule(self, path: tuple, rule) -> DepartmentRule | None:
        scope = self.department_scope.with_names(**{RANKING: RANKING, "items": "map"})
        each = None
        nodes = []
        if rule.each is not None:
            parts = rule.each_parts()
            if parts is None or parts[0] in scope.names:
                self._fail(path + ("each",), _('write each as "x in <list>", with a new name x, not "{each}"').format(
                    each=rule.each))
                return None
            var, source = parts
            items = self._expr(path + ("each",), source, scope)
            if items is None:
                return None
            each = (var, items)
            nodes.append(parse(source))
            scope = scope.with_names(**{var: "any"})
        when = self._condition(path + ("when",), rule.when, scope)
        points = self._expr(path + ("points",), rule.points, scope)
        text = self._template(path + ("text",), rule.text, scope)
        if (rule.when is not None and when is None) or points is None or text is None:
            return None
        for source in (rule.when, rule.points):
            if isinstance(source, str):
                nodes.append(parse(source))
        used = sorted({n.name for node in nodes for n in node.walk()
                       if isinstance(n, Attr) and isinstance(n.obj, Name) and n.obj.id == "department"})
        text_nodes = [part[1][0] for part in parse_template(rule.text) if part[0] == "expr"]
        read = _named_items(nodes + text_nodes)
        if read is None:
            self._fail(path, _("an item reads other items by name (items.X or items[\"X\"]), so that the order in "
                               "which the items are scored is known"))
            return None
        return DepartmentRule(rule.id, each, when, points, text, tuple(f"department.{name}" for name in used),
                              tuple(sorted(read)))

    def _date(self, path: tuple, source: str) -> Closure | None:
        """An expression over the case that must give a date (or null)."""
        try:
            fn, kind = self.exprs.compile_typed(parse(source), self.scope)
        except ExprError as exc:
            self._fail(path, exc, source)
            return None
        if kind not in ("date", "any"):
            self._fail(path, _("must give a date, but gives {kind}").format(kind=kind), source)
            return None
        return fn

    def _rate(self, path: tuple, spec, criterion: CompiledCriterion) -> CompiledRate | None:
        of = self._condition(path + ("of",), spec.of, self.scope)
        empty = self._template(path + ("empty",), spec.empty or None, self.department_scope)
        if spec.hit is None:  # a ratio of sums: two numbers per counted case (load.py checks that both are there)
            numerator = self._number(path + ("numerator",), spec.numerator)
            denominator = self._number(path + ("denominator",), spec.denominator)
            ratio_scope = self.department_scope.with_names(rate="number", numerator="number", denominator="number",
                                                           cases="number")
            points = self._expr(path + ("points",), spec.points, ratio_scope)
            text = self._template(path + ("text",), spec.text, ratio_scope)
            if None in (of, numerator, denominator, points, text):
                return None
            return CompiledRate(of, None, points, text, empty, numerator, denominator)
        hit = self._rule(path, f"{criterion.id}.hit", {}, spec.hit, criterion, path_of_when=path + ("hit",))
        rate_scope = self.department_scope.with_names(rate="number", hits="number", cases="number")
        points = self._expr(path + ("points",), spec.points, rate_scope)
        text = self._template(path + ("text",), spec.text, rate_scope)
        if hit is None or of is None or points is None or text is None:
            return None
        return CompiledRate(of, hit.name, points, text, empty)

    def _number(self, path: tuple, source: str | None) -> Closure | None:
        """An expression over the case that must give a number (a ratio's numerator or denominator)."""
        if source is None:
            return None
        try:
            fn, kind = self.exprs.compile_typed(parse(source), self.scope)
        except ExprError as exc:
            self._fail(path, exc, source)
            return None
        if kind not in ("number", "any"):
            self._fail(path, _("must give a number, but gives {kind}").format(kind=kind), source)
            return None
        return fn

    # ------------------------------------------------------------------ rules
    def _rule(self, path: tuple, rule_id: str, bind: dict, when: str | None, criterion,
              path_of_when: tuple | None = None) -> CompiledRule | None:
        when_path = path_of_when or path + ("when",)
        patterns = _RulePatterns(self, rule_id, criterion)
        for var, spec in bind.items():
            try:
                patterns.bind(var, spec)
            except ExprError as exc:
                self._fail(path + ("bind", var), exc, spec)
                return None
        if when is not None:
            try:
                node = parse(when)
                self.exprs.compile_condition(node, patterns.scope())  # true or false, as a whole and in its parts
                for part in conjuncts(node):
                    patterns.add_condition(part)
            except ExprError as exc:
                self._fail(when_path, exc, when)
                return None
        try:
            engine_rule = patterns.build()
        except ExprError as exc:
            self._fail(when_path, exc, when)
            return None
        beyond = rule_problem(engine_rule)
        if beyond:
            self._fail(path if path_of_when is None else when_path, beyond)
            return None
        self.engine_rules.append(engine_rule)
        compiled = CompiledRule(rule_id, engine_rule.name, criterion, patterns.evidence(), patterns.variables(),
                                None, None, False)
        self.rules[engine_rule.name] = compiled
        return compiled

    # flags and values are shared between rules that need the same thing
    def _room_on(self, event_type: str | None) -> None:
        """An event's fact takes one property per flag and value of its type, and its order: at most
        MAX_PROPERTIES (durable.py). Raised at the rule that would add one too many."""
        types = self.event_types if event_type is None else (event_type,)
        found = [v.event_type for v in (*self.event_flags.values(), *self.event_values.values())]
        if max(sum(1 for t in found if t in (kind, None)) for kind in types) + 1 >= MAX_PROPERTIES:
            raise ExprError(_("the rulebook's conditions on {type} events and the values compared "
                              "between them are more than the engine takes ({n}); share or simplify some").format(
                type=event_type or "any", n=MAX_PROPERTIES - 1))

    def event_flag(self, event_type: str | None, var: str, parts: list[Node], scope: Scope, slot: int) -> str:
        key = (event_type, tuple(_rename(part, var, "\x00self") for part in parts))
        if key not in self.event_flags:
            self._room_on(event_type)
            test = None
            if parts:
                fns = [self.exprs.compile(part, scope) for part in parts]
                test = fns[0] if len(fns) == 1 else (lambda env, fns=fns: all(V.truthy(fn(env)) for fn in fns))
            self.event_flags[key] = EventFlag(f"f{len(self.event_flags)}", event_type, var, test)
        flag = self.event_flags[key]
        flag.slots.add(slot)
        return slot_attr(flag.attr, slot)

    def event_value(self, event_type: str | None, var: str, node: Node, scope: Scope, ordering: bool, expect: str) -> str:
        if isinstance(node, Attr) and isinstance(node.obj, Name) and node.obj.id == var and node.name == "order":
            return ORDER_ATTR
        key = (event_type, _rename(node, var, "\x00self"), ordering, expect)
        if key not in self.event_values:
            self._room_on(event_type)
            fn = self.exprs.compile(node, scope)
            self.event_values[key] = EventValue(f"v{len(self.event_values)}", event_type, var, fn, ordering, expect)
        return self.event_values[key].attr

    def context_flag(self, parts: list[Node], criterion: CompiledCriterion) -> str:
        key = (criterion.level, criterion.rubric, tuple(parts))
        if key not in self.context_flags:
            if len(self.context_flags) >= MAX_PROPERTIES:
                raise ExprError(_("the rulebook's conditions on the case are more than the engine takes ({n}); "
                                  "share or simplify some").format(n=MAX_PROPERTIES))
            fns = [self.exprs.compile(part, self.scope) for part in parts]
            rubric = criterion.rubric
            applies = (lambda env: env["rubric"] == rubric) if rubric is not None else (lambda env: True)

            def test(env, fns=fns, applies=applies):
                return applies(env) and all(V.truthy(fn(env)) for fn in fns)
            self.context_flags[key] = ContextFlag(f"k{len(self.context_flags)}", test)
        return self.context_flags[key].attr


@dataclass
class _Var:
    alias: str
    name: str  # the name rules use (None for hidden witnesses)
    event_type: str | None
    local: list[Node] = field(default_factory=list)  # conditions on this event alone
    joins: list[Check] = field(default_factory=list)
    negated: bool = False
    hidden: bool = False  # an exists() witness: evidence, but not a name for points/text


class _RulePatterns:
    """Collects one rule's bound events and conditions, then builds its engine rule."""

    def __init__(self, compiler: _Compiler, rule_id: str, criterion: CompiledCriterion):
        self.c = compiler
        self.rule_id = rule_id
        self.criterion = criterion
        self.vars: list[_Var] = []  # positive, in join order
        self.negations: list[_Var] = []
        self.context: list[Node] = []
        self.qualifiers: list[tuple[_Var, str]] = []

    def scope(self, extra: dict[str, str] | None = None) -> Scope:
        names = {v.name: "event" for v in self.vars if not v.hidden}
        return self.c.scope.with_names(**{**names, **(extra or {})})

    def bind(self, var: str, spec: str) -> None:
        words = spec.split()
        qualifier = words[0] if len(words) == 2 and words[0] in ("first", "last") else None
        event_type = words[-1] if words else ""
        if len(words) not in (1, 2) or (len(words) == 2 and qualifier is None):
            raise ExprError(_('write an event as "<type>", "first <type>" or "last <type>", not "{spec}"').format(spec=spec))
        if event_type not in self.c.event_types:
            raise ExprError(_('unknown event type "{type}"{hint}').format(
                type=event_type, hint=closest(event_type, self.c.event_types)))
        if var in self.c.scope.names:
            raise ExprError(_('"{name}" is already a name (a let or a built-in)').format(name=var))
        v = _Var(f"a{len(self.vars)}", var, event_type)
        self.vars.append(v)
        if qualifier:
            self.qualifiers.append((v, qualifier))

    def variables(self) -> dict[str, str]:
        return {v.alias: v.name for v in self.vars if not v.hidden}

    def evidence(self) -> tuple[str, ...]:
        return tuple(v.alias for v in self.vars)

    def add_condition(self, node: Node) -> None:
        negated = isinstance(node, Unary) and node.op == "not" and _is_event_exists(node.operand, self.scope())
        if negated or _is_event_exists(node, self.scope()):
            self._exists(node.operand if negated else node, negated)
            return
        used = [v for v in self.vars if not v.hidden and v.name in node.free_names()]
        self.c.exprs.compile(node, self.scope())  # check names and fields now, with the column
        if not used:
            self.context.append(node)
        elif len(used) == 1:
            used[0].local.append(node)
        else:
            self._join(node, used)

    def _exists(self, call: Call, negated: bool) -> None:
        gen = call.args[0]
        if not isinstance(gen, Gen):  # exists(contact), exists(events): a variable no rule can name
            var = "\x00" + gen.id
            gen = Gen(var, gen, None, Name(var, col=gen.col), col=gen.col)
        event_type = None if isinstance(gen.source, Name) and gen.source.id == "events" else gen.source.id
        if gen.var in {v.name for v in self.vars if not v.hidden} or gen.var in self.c.scope.names:
            raise ExprError(_('"{name}" is already a name; choose another for the generator').format(name=gen.var), gen.col)
        alias = f"{'n' if negated else 'w'}{len(self.negations) + len(self.vars)}"
        v = _Var(alias, gen.var, event_type, negated=negated)
        inner = self.scope({gen.var: "event"})
        for part in conjuncts(gen.cond) if gen.cond is not None else []:
            if _mentions_exists(part, inner):
                raise ExprError(_("exists() inside exists() cannot be matched; compute the inner part in a let"), part.col)
            self.c.exprs.compile(part, inner)
            free = part.free_names()
            if gen.var not in free:
                raise ExprError(_("every condition inside exists() must be about {name}").format(name=gen.var), part.col)
            others = [x for x in self.vars if not x.hidden and x.name in free]
            if not others:
                v.local.append(part)
            elif len(others) == 1:
                v.joins.append(self._join_test(part, v, others[0], inner))
            else:
                raise ExprError(_("a condition inside exists() may compare {name} with one other event").format(name=gen.var),
                                part.col)
        if negated:
            self.negations.append(v)
        else:
            # the earliest witness: one match per combination of the rule's events
            v.hidden = True
            self.vars.append(v)
            earlier = _Var(f"n{len(self.negations) + len(self.vars)}", gen.var, event_type, list(v.local),
                           list(v.joins) + [Check(ORDER_ATTR, "<", ref=(v.alias, ORDER_ATTR))], negated=True)
            self.negations.append(earlier)

    def _join(self, node: Node, used: list[_Var]) -> None:
        if len(used) > 2:
            raise ExprError(_("a condition may compare two events at most; this one uses {names}").format(
                names=", ".join(v.name for v in used)), node.col)
        later = max(used, key=self.vars.index)
        earlier = min(used, key=self.vars.index)
        later.joins.append(self._join_test(node, later, earlier, self.scope()))

    def _join_test(self, node: Node, this: _Var, other: _Var, scope: Scope) -> Check:
        """`this.x <op> other.y` as an engine test on this (the later pattern)."""
        if not isinstance(node, Compare) or node.op in ("in", "not in"):
            raise ExprError((_("a condition about two events ({this} and {other}) must be one comparison such as "
                               "c.date <= r.date; split it or use a let") if this.name else
                             _("a condition about two events (the generator variable and {other}) must be one "
                               "comparison such as c.date <= r.date; split it or use a let")).format(
                this=this.name, other=other.name), node.col)
        left, right, op = node.left, node.right, node.op
        if other.name in left.free_names() and this.name not in left.free_names():
            left, right, op = right, left, FLIP[op]
        if other.name in left.free_names() or this.name in right.free_names():
            raise ExprError(_("put {this}'s part on one side of the comparison and {other}'s on the other").format(
                this=this.name, other=other.name), node.col)
        ordering = op in ORDERING
        this_type = self.c.exprs.compile_typed(left, scope)[1]
        other_type = self.c.exprs.compile_typed(right, scope)[1]
        if ordering and (this_type == other_type == "any"):
            raise ExprError(_("comparing two values of unknown kind between events; compare dates or numbers"), node.col)
        if ordering and "any" not in (this_type, other_type) and this_type != other_type:
            raise ExprError(_("cannot compare {left} with {right} using {op}").format(
                left=this_type, right=other_type, op=op), node.col)
        for kind in (this_type, other_type):
            if ordering and kind not in ("date", "datetime", "number", "any"):
                raise ExprError(_("{op} compares dates or numbers, not {kind}").format(op=op, kind=kind), node.col)
        this_attr = self.c.event_value(this.event_type, this.name, left, scope, ordering, other_type)
        other_attr = self.c.event_value(other.event_type, other.name, right, scope, ordering, this_type)
        # an event whose own side is null fails the comparison, so it cannot take this pattern; the
        # engine must not see it try (a join test on a null field of its own fact fails the whole
        # assertion), so the pattern's flag requires the value. The other side may be null: the
        # engine compares a null it refers to as false.
        this.local.append(Call("present", (left,), col=left.col))
        if not _never_null(right, other, self.c.domain.required_fields):
            if not this.negated:
                # a null never joins; and a null the engine refers to is "different" (!=) from anything
                other.local.append(Call("present", (right,), col=right.col))
            elif op == "!=":
                raise ExprError(_("{name}'s side of this != can be null, and inside not exists() the matching engine "
                                  "would count a null as different; compare values that are never null "
                                  "(coalesce(x, default)) or test present(...) in a let").format(name=other.name), node.col)
        return Check(this_attr, op, ref=(other.alias, other_attr))

    def build(self) -> Rule:
        for v, qualifier in self.qualifiers:
            # first reply: no reply earlier than it (last: none later)
            self.negations.append(_Var(f"q{len(self.negations)}", v.name, v.event_type, [], [
                Check(ORDER_ATTR, "<" if qualifier == "first" else ">", ref=(v.alias, ORDER_ATTR))], negated=True))
        ctx_attr = self.c.context_flag(self.context, self.criterion)
        patterns = [Pattern(CONTEXT_ALIAS, (Check(ctx_attr, "==", 1),))]
        slots = _slots(self.vars + self.negations)
        for v in self.vars + self.negations:
            flag = self.c.event_flag(v.event_type, v.name, v.local, self.scope({v.name: "event"}), slots[v.alias])
            patterns.append(Pattern(v.alias, (Check(flag, "==", 1),) + tuple(v.joins), negated=v.negated))
        return Rule(f"r{len(self.c.engine_rules)}", tuple(patterns))


def _slots(patterns: list[_Var]) -> dict[str, int]:
    """A slot for each pattern of a rule, different for any two patterns that one event could satisfy.

    The engine never puts one fact in two patterns of a rule: a fact bound to a positive pattern
    neither takes a second one (bind a = "contact", b = "contact" would miss a = b) nor blocks a
    negated one (`exists(published) and not exists(p for p in published if p.date > a.date)` would
    fire with the one published event after a). So every event is asserted once per slot its flags
    are tested in, and the patterns that could take the same event test their flags in different
    slots. Two patterns of different types share a slot, and so do a pattern and one that is
    strictly earlier or later than it (first/last, the earliest exists() witness): no event is both.
    """
    found: dict[str, int] = {}
    for index, v in enumerate(patterns):
        taken = {found[w.alias] for w in patterns[:index] if _may_share_an_event(v, w)}
        found[v.alias] = next(slot for slot in itertools.count() if slot not in taken)
    return found


def _may_share_an_event(v: _Var, w: _Var) -> bool:
    if v.event_type is not None and w.event_type is not None and v.event_type != w.event_type:
        return False
    for this, other in ((v, w), (w, v)):
        if any(check.attr == ORDER_ATTR and check.op in ("<", ">") and check.ref == (other.alias, ORDER_ATTR)
               for check in this.joins):
            return False
    return True


def _is_event_exists(node: Node, scope: Scope) -> bool:
    """exists(<event type>) or exists(x for x in <event type or events> ...)."""
    if not (isinstance(node, Call) and node.func == "exists" and len(node.args) == 1):
        return False
    arg = node.args[0]
    source = arg.source if isinstance(arg, Gen) else arg
    return isinstance(source, Name) and (
        source.id == "events" or (source.id in scope.event_types and source.id not in scope.names))


def _never_null(node: Node, v: _Var, required: dict[str, str]) -> bool:
    """Whether an expression about one event surely has a value: its required fields, and dates and numbers
    computed from them and from literals (a conservative answer: False when unsure)."""
    if isinstance(node, Const):
        return node.value is not None
    if isinstance(node, Attr) and isinstance(node.obj, Name) and node.obj.id == v.name:
        return node.name in ("id", "type", "date", "at", "department") or (
            v.event_type is not None and required.get(v.event_type) == node.name)
    if isinstance(node, Arith):
        return _never_null(node.left, v, required) and _never_null(node.right, v, required)
    if isinstance(node, Unary) and node.op == "-":
        return _never_null(node.operand, v, required)
    if isinstance(node, Call) and node.func in ("add_days", "add_months", "add_workdays", "next_workday", "days_between",
                                                "workdays_between", "add_workhours", "workhours_between", "abs"):
        return all(_never_null(arg, v, required) for arg in node.args)
    if isinstance(node, Call) and node.func == "coalesce":
        return _never_null(node.args[-1], v, required)
    return False


def _mentions_exists(node: Node, scope: Scope) -> bool:
    return any(_is_event_exists(n, scope) for n in node.walk())


class _Renamed(NodeTransformer):
    """The same expression with a variable renamed: a key for sharing flags and values."""

    def __init__(self, old: str, new: str):
        self.old = old
        self.new = new

    def visit_Name(self, node: Name) -> Node:
        return Name(self.new, col=0) if node.id == self.old else node

    def visit_Gen(self, node: Gen) -> Node:
        if node.var == self.old:  # the generator's own variable: only its source sees the outer one
            return dataclasses.replace(node, source=self.visit(node.source))
        return self.generic_visit(node)


def _rename(node: Node, old: str, new: str) -> Node:
    return _Renamed(old, new).visit(node)


def _number(value):
    if value is None:
        return None
    return V.from_data(value)
