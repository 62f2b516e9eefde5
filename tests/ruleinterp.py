"""An independent interpreter of rulebooks: scores a case file by direct enumeration.

The differential tester (scripts/difftest.py, tests/test_difftest.py) scores random rulebooks
with the product and with this module and compares the results. It shares the parsed syntax
tree (scoring.lang.syntax), the values and operators (scoring.lang.values) and the built-in
functions' implementations with the product, and nothing else of the engine: no splitting of
conditions into flags, joins and patterns, no durable_rules. Every rule is decided the way
the README states it:

* a rule fires once for every combination of its bound events (every event of the type;
  `first`/`last`: the earliest/latest by date, then by id in natural order) for which the
  whole `when` holds, evaluated as one expression;
* each top-level `exists(...)` over events adds its earliest witness to the evidence;
* `once` keeps the earliest firing, `hit = "first"` the first rule that fires, then the
  base, the cap or floor, the multiplier, `otherwise`, the rubric's clamp;
* departments: the base from the rubric means, department items (per case, per department,
  rates), categories, the clamp, scorers, gates, grades and ranks; items outside the total
  (`in_total = false`) beside it, and the ranking by an item (`[ranking] by`); a rate as a
  ratio of sums (numerator and denominator per counted case, pooled); items and gates that
  read `ranking`, decided after a first ranking, then ranked again; items that read other items
  (`items.X`), each scored after the items it reads.

Results are plain tuples and dicts (see `handler_view` and `department_view`), so that the
product's results can be put in the same shape and compared with ==.
"""
from __future__ import annotations

import datetime as dt
import functools
import itertools
from dataclasses import dataclass, field
from fractions import Fraction

from scoring.domain.cases import Case, natural_key
from scoring.domain.workdays import WorkCalendar
from scoring.lang import values as V
from scoring.lang.builtins import BUILTINS
from scoring.lang.nodes import Arith, Attr, BoolOp, Call, Compare, Cond, Const, Gen, Index, ListLit, Name, Node, Unary, conjuncts
from scoring.lang.syntax import parse as parse_text
from scoring.lang.template import parse_template as parse_template_text

EVENT_TYPES = ("assigned", "signed", "returned", "contact", "extension", "reply", "feedback", "published", "co_reply",
               "urged")
EVENT_FIELDS = ("id", "type", "date", "department", "mode", "days", "outcome", "rating")
CASE_FIELDS = ("id", "kind", "title", "proposer", "key", "waived_f2f")
ROLES = ("lead", "split", "co")


# the same texts are read for every case: parse each once
parse = functools.lru_cache(maxsize=1 << 14)(parse_text)
parse_template = functools.lru_cache(maxsize=1 << 12)(parse_template_text)


class InterpError(Exception):
    """A rule failed on a case's data (the product raises a CaseError or a RollupError there)."""


# ------------------------------------------------------------------ expressions

class Evaluator:
    """Evaluates a syntax tree on an environment of plain values, by walking it."""

    def __init__(self, calendar, params: dict):
        self.params = params
        self.functions = {name: b.implementation(calendar) for name, b in BUILTINS.items() if b.run is not None}

    def __call__(self, node: Node, env: dict):
        return getattr(self, "e_" + type(node).__name__)(node, env)

    def e_Const(self, node: Const, env):
        return node.value

    def e_Name(self, node: Name, env):
        if node.id in env:
            return env[node.id]
        if node.id == "params":
            return self.params
        raise KeyError(node.id)

    def e_Attr(self, node: Attr, env):
        value = self(node.obj, env)
        if value is None:
            return None
        if isinstance(value, V.Record):
            return value.fields.get(node.name)
        if isinstance(value, dict):
            if node.name not in value:
                raise V.EvalError(f"no {node.name}")
            return value[node.name]
        raise V.EvalError(f"{V.kind(value)} has no field {node.name}")

    def e_Index(self, node: Index, env):
        container, key = self(node.obj, env), self(node.key, env)
        if container is None or key is None:
            return None
        if isinstance(container, dict):
            if not isinstance(key, str) or key not in container:
                raise V.EvalError("no such key")
            return container[key]
        if isinstance(container, list):
            if V.kind(key) != "number" or isinstance(key, Fraction) or not -len(container) <= key < len(container):
                raise V.EvalError("index out of range")
            return container[key]
        raise V.EvalError("cannot index")

    def e_Unary(self, node: Unary, env):
        value = self(node.operand, env)
        if node.op == "not":
            return not V.truthy(value)
        return V.negate(value) if node.op == "-" else value

    def e_Arith(self, node: Arith, env):
        return V.arith(node.op, self(node.left, env), self(node.right, env))

    def e_Compare(self, node: Compare, env):
        return V.compare(node.op, self(node.left, env), self(node.right, env))

    def e_BoolOp(self, node: BoolOp, env):
        if node.op == "and":
            return all(V.truthy(self(item, env)) for item in node.items)
        return any(V.truthy(self(item, env)) for item in node.items)

    def e_Cond(self, node: Cond, env):
        return self(node.then, env) if V.truthy(self(node.test, env)) else self(node.other, env)

    def e_ListLit(self, node: ListLit, env):
        return [self(item, env) for item in node.items]

    def e_Call(self, node: Call, env):
        builtin = BUILTINS[node.func]
        if builtin.aggregate and len(node.args) == 1:
            arg = node.args[0]
            if not isinstance(arg, Gen) and not self.is_event_type(arg, env) and builtin.run is not None:
                return self.functions[node.func](self(arg, env))  # min(list), max(list)
            return self.aggregate(node.func, arg, env)
        if node.func == "date":
            return dt.date.fromisoformat(node.args[0].value)
        return self.functions[node.func](*[self(arg, env) for arg in node.args])

    @staticmethod
    def is_event_type(node: Node, env) -> bool:
        return isinstance(node, Name) and node.id in EVENT_TYPES and node.id not in env

    def items(self, gen_or_source: Node, env) -> list[tuple[object, object]]:
        """(item, value) of every item of a source or generator whose condition holds."""
        if isinstance(gen_or_source, Gen):
            var, source, cond, elt = gen_or_source.var, gen_or_source.source, gen_or_source.cond, gen_or_source.elt
        else:
            var, source, cond, elt = "\x00item", gen_or_source, None, None
        if self.is_event_type(source, env):
            pool = env["\x00by_type"].get(source.id, [])
        else:
            pool = self(source, env)
            if pool is None:
                pool = []
            if not isinstance(pool, list):
                raise V.EvalError(f"cannot iterate over {V.kind(pool)}")
        found = []
        inner = dict(env)
        for item in pool:
            inner[var] = item
            if cond is None or V.truthy(self(cond, inner)):
                found.append((item, item if elt is None else self(elt, inner)))
        return found

    def aggregate(self, func: str, arg: Node, env):
        pairs = self.items(arg, env)
        if func == "exists":
            return bool(pairs)
        if func == "count":
            return len(pairs)
        if func == "sum":
            total = 0
            for _, value in pairs:
                if value is not None:
                    total = V.arith("+", total, value)
            return total
        if func in ("first", "last"):
            if not pairs:
                return None
            keyed = [(timeline_key(item) if isinstance(item, V.Record) else (index,), value)
                     for index, (item, value) in enumerate(pairs)]
            pick = min if func == "first" else max
            return pick(keyed, key=lambda pair: pair[0])[1]
        values = [value for _, value in pairs if value is not None]  # min, max
        if not values:
            return None
        kinds = {V.kind(value) for value in values}
        if len(kinds) > 1 or kinds - {"number", "date", "text"}:
            raise V.EvalError(f"cannot compare {kinds} in {func}()")
        return min(values) if func == "min" else max(values)

    def text(self, template: list, env) -> str:
        return "".join(value if kind == "text" else V.format_value(self(value[0], env)) for kind, value in template)


def timeline_key(record: V.Record) -> tuple:
    return (record.fields["date"], natural_key(record.fields["id"]))


def is_event_exists(node: Node, env) -> bool:
    """A top-level exists() over an event type or `events`: its earliest witness is evidence."""
    if not (isinstance(node, Call) and node.func == "exists" and len(node.args) == 1):
        return False
    source = node.args[0].source if isinstance(node.args[0], Gen) else node.args[0]
    return isinstance(source, Name) and source.id not in ("case_events",) and (
        source.id == "events" or source.id in EVENT_TYPES) and (source.id == "events" or source.id not in env)


# ------------------------------------------------------------------ results

@dataclass
class HandlerOut:
    case: str
    department: str
    role: str
    rubric: str | None
    category: str | None
    total: object
    lines: list = field(default_factory=list)  # (criterion, rule, points, evidence, text, kind)
    department_lines: list = field(default_factory=list)  # (criterion, rule, points, evidence, text, kind, case)
    rates: dict = field(default_factory=dict)  # criterion -> (eligible, hit, evidence)


def _line(criterion, rule, points, evidence, text, kind="rule", case=None, category=None) -> dict:
    return {"criterion": criterion, "rule": rule, "points": V.normal(Fraction(points)), "evidence": tuple(evidence),
            "text": text, "kind": kind, "case": case, "category": category}


class Interpreter:
    def __init__(self, book):
        self.spec = spec = book.spec
        years = {int(y): {"holidays": v.holidays, "workdays": v.workdays} for y, v in spec.calendar.years.items()}
        self.calendar = WorkCalendar(spec.calendar.extra_holidays, spec.calendar.extra_workdays, years)
        self.params = V.from_data(spec.params)
        self.ev = Evaluator(self.calendar, self.params)
        self.texts = spec.texts.model_dump()
        self.lets = self._let_order({name: parse(source) for name, source in spec.let.items()})
        self.as_of = None  # the date the cases are judged at, set by score()

    @staticmethod
    def _let_order(lets: dict) -> list:
        done, order = set(), []

        def visit(name):
            if name in done:
                return
            done.add(name)
            for used in sorted(lets[name].free_names() & set(lets)):
                visit(used)
            order.append((name, lets[name]))
        for name in lets:
            visit(name)
        return order

    def expr(self, source, env):
        """A number written in the TOML, or an expression."""
        if source is None:
            return None
        if not isinstance(source, str):
            return V.from_data(source)
        return self.ev(parse(source), env)

    def const(self, source):
        return self.expr(source, {})

    def text(self, source, env) -> str:
        return self.ev.text(parse_template(source), env)

    # -------------------------------------------------------------- one case
    def rubric_of(self, role: str):
        return next((r for r in self.spec.rubric if role in r.roles), None)

    def case_results(self, case: Case, departments: dict) -> list[HandlerOut]:
        roles = {h.department: h.role for h in case.handlers}
        ordered = sorted(case.events, key=lambda e: (e.date, natural_key(e.id)))
        case_events = []
        for position, event in enumerate(ordered):
            fields = {name: getattr(event, name) for name in EVENT_FIELDS}
            fields["role"] = roles.get(event.department)
            case_events.append(V.Record("event", fields, V.from_data(event.model_extra or {}), position))
        case_record = V.Record("case", {name: getattr(case, name) for name in CASE_FIELDS}, V.from_data(case.model_extra or {}))
        return [self.handler(case, case_record, case_events, h, departments)
                for h in sorted(case.handlers, key=lambda h: h.department)]

    def handler(self, case, case_record, case_events, handler, departments) -> HandlerOut:
        own = [e for e in case_events if e.fields["department"] == handler.department]
        own = [V.Record("event", e.fields, e.extras, i) for i, e in enumerate(own)]
        by_type: dict[str, list] = {}
        for record in own:
            by_type.setdefault(record.fields["type"], []).append(record)
        rubric = self.rubric_of(handler.role)
        department = departments.get(handler.department) or {"name": handler.department}
        env = {"\x00by_type": by_type, "events": own, "case_events": case_events, "case": case_record,
               "rubric": rubric.id if rubric else None, "category": None, "as_of": self.as_of,
               "department": V.Record("department", department),
               "handler": V.Record("handler", {"department": handler.department, "role": handler.role},
                                   V.from_data(handler.model_extra or {}))}
        for name, node in self.lets:
            env[name] = self.ev(node, env)
        for category in self.spec.category:
            if V.truthy(self.expr(category.of, env)):
                env["category"] = category.id
                break
        out = HandlerOut(case.id, handler.department, handler.role, env["rubric"], env["category"], None)
        for criterion in self.spec.criterion:
            if criterion.rate is not None:
                eligible = V.truthy(self.expr(criterion.rate.of, env))
                if criterion.rate.hit is None:  # a ratio of sums: the case's two numbers, when it is counted
                    numbers = self.ratio_numbers(criterion.rate, env) if eligible else (None, None)
                    out.rates[criterion.id] = (eligible, False, (), *numbers)
                    continue
                hit, evidence = False, ()
                if criterion.rubric is None or criterion.rubric == env["rubric"]:
                    firings = self.firings({}, criterion.rate.hit, env)
                    if firings:
                        hit, evidence = True, firings[0][1]
                out.rates[criterion.id] = (eligible, hit, evidence, None, None)
        case_lines = []
        for criterion in self.spec.criterion:
            if (criterion.rate is not None or criterion.per == "department"
                    or (criterion.rubric is not None and criterion.rubric != env["rubric"])
                    or (criterion.category is not None and criterion.category != env["category"])):
                continue
            if criterion.level == "department":
                lines = self.rule_lines(criterion, env, otherwise=False)
                lines += self.multiplier(criterion, lines, env)
                out.department_lines += [{**line, "case": case.id} for line in lines]
            else:
                lines = self.base_lines(criterion) + self.rule_lines(criterion, env, otherwise=True)
                lines += self.cap_lines(criterion, lines)
                case_lines += lines + self.multiplier(criterion, lines, env)
        if rubric is not None:
            total = _sum(case_lines)
            low, high = self.const(rubric.min), self.const(rubric.max)
            clamped = _clamp(total, low, high)
            if clamped != total:
                text = self.texts["case_clamp"].format(min=V.format_value(low), max=V.format_value(high))
                case_lines.append(_line(None, None, clamped - total, (), text, "clamp"))
            out.lines = case_lines
            out.total = _sum(case_lines)
        return out

    def ratio_numbers(self, rate, env) -> tuple:
        numerator, denominator = self.expr(rate.numerator, env), self.expr(rate.denominator, env)
        for value in (numerator, denominator):
            if V.kind(value) != "number" or value < 0:
                raise InterpError("a ratio's numbers are numbers, not below 0")
        if numerator > denominator:
            raise InterpError("a ratio's numerator is above its denominator")
        return V.normal(Fraction(numerator)), V.normal(Fraction(denominator))

    def firings(self, bind: dict, when: str | None, env) -> list[tuple[dict, tuple]]:
        """(bound events, evidence ids) of every combination of bound events for which `when` holds,
        the earliest evidence first."""
        pools = []
        for spec in bind.values():
            words = spec.split()
            of_type = env["\x00by_type"].get(words[-1], [])
            if words[0] in ("first", "last") and of_type:
                pick = min if words[0] == "first" else max
                of_type = [pick(of_type, key=timeline_key)]
            pools.append(of_type)
        node = parse(when) if when is not None else None
        found = []
        for combo in itertools.product(*pools):
            local = {**env, **dict(zip(bind, combo))}
            if node is not None and not V.truthy(self.ev(node, local)):
                continue
            evidence = list(combo)
            for part in conjuncts(node) if node is not None else []:
                if is_event_exists(part, local):
                    witnesses = [item for item, _ in self.ev.items(part.args[0], local)]
                    evidence.append(min(witnesses, key=timeline_key))
            ordered = sorted(evidence, key=timeline_key)
            ids = tuple(dict.fromkeys(r.fields["id"] for r in ordered))
            key = (tuple(timeline_key(r) for r in ordered), tuple(timeline_key(r) for r in combo))
            found.append((key, dict(zip(bind, combo)), ids))
        found.sort(key=lambda item: item[0])
        return [(bound, ids) for _, bound, ids in found]

    def rule_lines(self, criterion, env, otherwise: bool) -> list[dict]:
        lines = []
        for rule in criterion.rule:
            firings = self.firings(rule.bind, rule.when, env)
            if rule.once:
                firings = firings[:1]
            for bound, ids in firings:
                local = {**env, **bound}
                points = self.expr(rule.points, local)
                if V.kind(points) != "number":
                    raise InterpError(f"points must be a number, got {V.kind(points)}")
                lines.append(_line(criterion.id, rule.id, points, ids, self.text(rule.text, local)))
            if lines and criterion.hit == "first":
                break
        if not lines and otherwise:
            text = self.text(criterion.otherwise, env) if criterion.otherwise is not None else ""
            lines.append(_line(criterion.id, None, 0, (), text, "otherwise"))
        return lines

    def multiplier(self, criterion, lines, env) -> list[dict]:
        if criterion.multiply is None:
            return []
        points = _sum(lines)
        factor = self.expr(criterion.multiply.by, env)
        if V.kind(factor) != "number":
            raise InterpError("a multiplier must be a number")
        if factor == 1 or points == 0:
            return []
        text = self.text(criterion.multiply.text, {**env, "factor": factor, "points": points})
        return [_line(criterion.id, None, Fraction(points) * (factor - 1), (), text, "multiplier")]

    def base_lines(self, criterion) -> list[dict]:
        base = self.const(criterion.base)
        if base is None:
            return []
        text = self.texts["item_base"].format(criterion=criterion.title, points=V.format_value(base))
        return [_line(criterion.id, None, base, (), text, "base")]

    def cap_lines(self, criterion, lines) -> list[dict]:
        subtotal = _sum(lines)
        high, low = self.const(criterion.max), self.const(criterion.min)
        if high is not None and subtotal > high:
            text = self.texts["cap"].format(criterion=criterion.title, limit=V.format_value(high))
            return [_line(criterion.id, None, high - subtotal, (), text, "cap")]
        if low is not None and subtotal < low:
            text = self.texts["floor"].format(criterion=criterion.title, limit=V.format_value(low))
            return [_line(criterion.id, None, low - subtotal, (), text, "floor")]
        return []

    # -------------------------------------------------------------- departments
    def score(self, cases: list[Case], records: dict | None = None,
              as_of: dt.date | None = None) -> tuple[list[HandlerOut], list[dict]]:
        """Every handler's result, and every department's, for a case file (records: the declared fields),
        judged at as_of (what expressions read as `as_of`)."""
        self.as_of = as_of
        departments = self.department_records(cases, records or {})
        handlers = [h for case in cases for h in self.case_results(case, departments)]
        by_department: dict[str, list[HandlerOut]] = {}
        for out in handlers:
            by_department.setdefault(out.department, []).append(out)
        results = [self.department(name, sorted(mine, key=lambda h: natural_key(h.case)), departments[name])
                   for name, mine in by_department.items()]
        self.rank(results)
        if any(self.late_item(c) for c in self.spec.criterion) or any(self.late_gate(g) for g in self.spec.gate):
            self.after_ranking(results)
            self.rank(results)
        return handlers, results

    def department_records(self, cases: list[Case], records: dict) -> dict:
        found: dict[str, dict] = {}
        for case in cases:
            for handler in case.handlers:
                entry = found.setdefault(handler.department, {"name": handler.department, "cases": 0,
                                                              **dict.fromkeys(ROLES, 0)})
                entry["cases"] += 1
                entry[handler.role] += 1
        for name, entry in found.items():
            for field_name, spec in self.spec.department_fields.items():
                value = records.get(name, {}).get(field_name)
                entry[field_name] = [] if value is None and spec.kind in ("texts", "numbers") else V.from_data(value)
        return found

    def department(self, name: str, cases: list[HandlerOut], record: dict) -> dict:
        spec = self.spec.department
        env = {"department": V.Record("department", record), "category": None, "as_of": self.as_of}
        categories = []
        if self.spec.category:
            lines, items, categories = self.categories(cases, env)
            base = sum((c["weight"] * _base_of(lines, c["category"]) for c in categories), Fraction(0))
        else:
            lines, items = self.scored(cases, env, None)
            base = _base_of(lines, None)
        # items outside the total (in_total = false): their lines stand beside the total
        beside = [c.id for c in self.spec.criterion if not c.in_total]
        indicators = [line for line in lines if line["criterion"] in beside]
        lines = [line for line in lines if line["criterion"] not in beside]
        total = _sum(lines)
        low, high = self.const(spec.min), self.const(spec.max)
        if _clamp(total, low, high) != total:
            text = self.texts["department_clamp"].format(min=V.format_value(low), max=V.format_value(high))
            lines.append(_line(None, None, _clamp(total, low, high) - total, (), text, "clamp"))
        scorers = []
        if self.spec.scorer:
            computed = _sum(lines)
            lines.append(_line(None, None, -computed, (), self.texts["scorer_computed"].format(
                score=V.format_value(computed)), "scorer"))
            for scorer in self.spec.scorer:
                score = self.expr(scorer.score, {**env, "computed": computed})
                if V.kind(score) != "number":
                    raise InterpError("a score must be a number")
                weight = V.from_data(scorer.weight)
                text = self.texts["scorer"].format(scorer=scorer.title, score=V.format_value(score),
                                                   weight=V.format_value(weight))
                lines.append(_line(None, scorer.id, Fraction(score) * weight, (), text, "scorer"))
                scorers.append((scorer.id, V.normal(Fraction(score)), weight))
        gate_lines, limit = self.gates(lines, indicators, items, env, late=False)
        lines += gate_lines
        exact = V.normal(Fraction(_sum(lines)))
        rounded = V.round_half_up(exact, spec.decimals)
        group = None
        if self.spec.ranking.group is not None:
            group = self.expr(self.spec.ranking.group, env)
            group = None if group is None else V.format_value(group)
        # what the ranking compares: the rounded total, or the item it is by at the ledger's two places; ranked by a
        # rate, a department none of whose cases the rate counts is not ranked
        by = self.spec.ranking.by
        ranked_by = rounded if by is None else V.round_half_up(items[(None, by)], 2)
        by_rate = by is not None and next(c for c in self.spec.criterion if c.id == by).rate is not None
        counted = [c.rates[by] for c in cases if by in c.rates and c.rates[by][0]]
        by_ratio = by_rate and next(c for c in self.spec.criterion if c.id == by).rate.hit is None
        rankable = not by_rate or (sum(m[4] for m in counted) > 0 if by_ratio else bool(counted))
        return {"department": name, "exact_total": exact, "total": rounded, "grade": self.grade(rounded, limit),
                "rank": None, "base": V.normal(Fraction(base)), "rubrics": self.rubric_summaries(cases),
                "lines": lines, "criteria": items, "group": group, "categories": categories, "scorers": scorers,
                "cases": len(cases), "indicators": indicators, "_ranked_by": ranked_by, "_rankable": rankable,
                "_env": env, "_limit": limit}

    def reads_ranking(self, *sources) -> bool:
        """Whether any of these expressions (or sentence templates, with template=True pairs) names `ranking`."""
        nodes = []
        for source, template in sources:
            if not isinstance(source, str):
                continue
            nodes += [part[1][0] for part in parse_template(source) if part[0] == "expr"] if template else [parse(source)]
        return any(isinstance(n, Name) and n.id == "ranking" for node in nodes for n in node.walk())

    def late_item(self, criterion) -> bool:
        """A department item scored on the record that reads the ranking, or an item that does: scored after it."""
        if criterion.per != "department":
            return False
        if any(self.reads_ranking((r.when, False), (r.points, False), (r.each_parts()[1] if r.each else None, False),
                                  (r.text, True)) for r in criterion.rule):
            return True
        by_id = {c.id: c for c in self.spec.criterion}
        return any(self.late_item(by_id[i]) for i in self.reads(criterion) if i in by_id)

    @staticmethod
    def rule_reads(rule) -> set[str]:
        """The items a department rule reads: items.X (items["X"] too)."""
        sources = [parse(x) for x in (rule.when, rule.points, rule.each_parts()[1] if rule.each else None)
                   if isinstance(x, str)]
        sources += [part[1][0] for part in parse_template(rule.text) if part[0] == "expr"]
        found = set()
        for node in sources:
            for n in node.walk():
                if isinstance(n, Attr) and isinstance(n.obj, Name) and n.obj.id == "items":
                    found.add(n.name)
                elif (isinstance(n, Index) and isinstance(n.obj, Name) and n.obj.id == "items"
                      and isinstance(n.key, Const)):
                    found.add(n.key.value)
        return found

    def reads(self, criterion) -> set[str]:
        return set().union(*(self.rule_reads(r) for r in criterion.rule)) if criterion.per == "department" else set()

    def item_order(self) -> list:
        """The items, each after the ones it reads (depth first; the product refuses a cycle)."""
        by_id = {c.id: c for c in self.spec.criterion}
        order, placed = [], set()

        def place(criterion):
            if criterion.id in placed:
                return
            placed.add(criterion.id)
            for other in sorted(self.reads(criterion)):
                place(by_id[other])
            order.append(criterion)
        for criterion in self.spec.criterion:
            place(criterion)
        return order

    def late_gate(self, gate) -> bool:
        return self.reads_ranking((gate.when, False), (gate.text, True))

    def gates(self, lines, indicators, items, env, late: bool):
        """The gates read before the ranking (late=False) or those that read it (late=True)."""
        limit = None
        total = _sum(lines)
        item_points: dict[str, object] = {}
        for (_, criterion_id), points in items.items():
            item_points[criterion_id] = item_points.get(criterion_id, 0) + points
        gate_lines = []
        for gate in self.spec.gate:
            if self.late_gate(gate) != late:
                continue
            evidence: tuple = ()
            if gate.criterion is not None:
                fired = [line for line in lines + indicators
                         if line["criterion"] == gate.criterion and line["rule"] is not None]
                if not fired:
                    continue
                evidence = tuple(e for line in fired for e in line["evidence"])
            local = {**env, "total": total, "items": item_points}
            if gate.when is not None and not V.truthy(self.expr(gate.when, local)):
                continue
            change = 0
            cap = self.const(gate.total)
            if cap is not None and total > cap:
                change, total = cap - total, cap
            gate_lines.append(_line(None, gate.id, change, evidence, self.text(gate.text, local), "gate"))
            if gate.grade is not None:
                limit = self.lower_grade(limit, gate.grade)
        return gate_lines, limit

    def after_ranking(self, results: list[dict]) -> None:
        """Items and gates that read `ranking`, each department's place counted here from the ranks; then the total
        and grade again (the caller ranks again)."""
        for result in results:
            members = [m for m in results if m["group"] == result["group"] and m["rank"] is not None]
            place = {"rank": result["rank"], "of": len(members), "from_last": None, "percentile": None}
            if result["rank"] is not None:
                below = len([m for m in members if m["rank"] > result["rank"]])
                place["from_last"], place["percentile"] = below + 1, V.normal(Fraction(below, len(members)))
            env = {**result["_env"], "ranking": V.Record("ranking", place)}
            late = {}
            for criterion in self.item_order():
                if self.late_item(criterion):
                    points = {i: p for (_, i), p in result["criteria"].items()}
                    items = {c.id: points.get(c.id) for c in self.spec.criterion}
                    late[criterion.id] = self.record_lines(criterion, {**env, "items": items})
                    result["criteria"][(None, criterion.id)] = _sum(late[criterion.id])
            added = []
            for criterion in self.spec.criterion:  # in file order
                lines = late.get(criterion.id, [])
                if criterion.in_total:
                    added += lines
                else:
                    result["indicators"] = result["indicators"] + lines
            lines = result["lines"] + added
            gate_lines, limit = self.gates(lines, result["indicators"], result["criteria"], env, late=True)
            result["lines"] = lines + gate_lines
            result["exact_total"] = V.normal(Fraction(_sum(result["lines"])))
            result["total"] = V.round_half_up(result["exact_total"], self.spec.department.decimals)
            if limit is not None:
                result["_limit"] = limit if result["_limit"] is None else self.lower_grade(result["_limit"], limit)
            result["grade"] = self.grade(result["total"], result["_limit"])
            if self.spec.ranking.by is None:
                result["_ranked_by"] = result["total"]

    def rubric_summaries(self, cases) -> list[tuple]:
        found = []
        for rubric in self.spec.rubric:
            totals = [c.total for c in cases if c.rubric == rubric.id]
            mean = V.normal(Fraction(sum(totals), len(totals))) if totals else None
            weight = V.from_data(self.spec.department.weights.get(rubric.id)) \
                if self.spec.department.method == "weighted_mean" else None
            found.append((rubric.id, len(totals), mean, weight))
        return found

    def scored(self, cases, env, category):
        spec = self.spec.department
        lines: list[dict] = []
        if spec.method != "none":
            lines.append(self.base(spec.method, cases))
        if spec.base is not None:
            points = self.const(spec.base)
            lines.append(_line(None, None, points, (), self.texts["department_base"].format(points=V.format_value(points)),
                               "base"))
        points: dict = {}
        found: dict = {}
        for criterion in self.item_order():  # each item after those it reads; reported in file order below
            if criterion.category not in (None, category):
                continue
            if criterion.level == "case":
                subtotals = [_sum([line for line in c.lines if line["criterion"] == criterion.id])
                             for c in cases if c.rubric == criterion.rubric]
                if subtotals:
                    points[criterion.id] = V.normal(Fraction(sum(subtotals), len(subtotals)))
                continue
            if self.late_item(criterion):  # after the ranking (after_ranking); its place in the order kept
                points[criterion.id] = 0
                continue
            if criterion.rate is not None:
                item = self.rate_lines(criterion, cases, env)
            elif criterion.per == "department":
                known = {c.id: points.get(c.id) for c in self.spec.criterion}  # null: no points here
                item = self.record_lines(criterion, {**env, "items": known})
            else:
                item = [{**line, "evidence": tuple(f"{line['case']}/{e}" for e in line["evidence"])}
                        for c in cases for line in c.department_lines if line["criterion"] == criterion.id]
                item = self.item_lines(criterion, item, env)
            points[criterion.id] = _sum(item)
            found[criterion.id] = item
        items: dict = {}
        for criterion in self.spec.criterion:
            if criterion.id in points:
                items[(category, criterion.id)] = points[criterion.id]
            lines += found.get(criterion.id, [])
        if category is not None:
            lines = [{**line, "category": category} for line in lines]
        return lines, items

    def base(self, method, cases) -> dict:
        rubrics = [r for r in self.rubric_summaries(cases) if r[1]]
        titles = {r.id: r.title for r in self.spec.rubric}
        if not rubrics:
            return _line(None, None, 0, (), self.texts["no_cases"], "base")
        totals = [c.total for c in cases if c.total is not None]
        if method == "sum":
            parts = [self.texts["base_part_sum"].format(rubric=titles[r], count=n, sum=V.format_value(mean * n))
                     for r, n, mean, _ in rubrics]
            return _line(None, None, sum(totals, 0), (), self.texts["base"].format(parts="；".join(parts)), "base")
        if method == "mean":
            value = Fraction(sum(totals, 0), len(totals))
            parts = [self.texts["base_part"].format(rubric=titles[r], count=n, mean=V.format_value(mean), weight="—")
                     for r, n, mean, _ in rubrics]
            return _line(None, None, value, (), self.texts["base"].format(parts="；".join(parts)), "base")
        weight_sum = sum((w for _, _, _, w in rubrics), 0)
        weights = {r: Fraction(w) / weight_sum if weight_sum else Fraction(1, len(rubrics)) for r, _, _, w in rubrics}
        value = sum((weights[r] * mean for r, _, mean, _ in rubrics), Fraction(0))
        parts = [self.texts["base_part"].format(rubric=titles[r], count=n, mean=V.format_value(mean),
                                                weight=V.format_value(V.normal(weights[r]))) for r, n, mean, _ in rubrics]
        return _line(None, None, value, (), self.texts["base"].format(parts="；".join(parts)), "base")

    def item_lines(self, criterion, lines, env) -> list[dict]:
        if not lines:
            text = self.text(criterion.otherwise, env) if criterion.otherwise else ""
            lines = [_line(criterion.id, None, 0, (), text, "otherwise")]
        lines = self.base_lines(criterion) + lines
        return lines + self.cap_lines(criterion, lines)

    def record_lines(self, criterion, env) -> list[dict]:
        lines = []
        for rule in criterion.rule:
            elements = [None]
            var = None
            if rule.each is not None:
                var, source = rule.each_parts()
                elements = self.expr(source, env) or []
                if not isinstance(elements, list):
                    raise InterpError("each needs a list")
            for element in elements:
                local = env if var is None else {**env, var: element}
                if rule.when is not None and not V.truthy(self.expr(rule.when, local)):
                    continue
                points = self.expr(rule.points, local)
                if V.kind(points) != "number":
                    raise InterpError("points must be a number")
                read = sorted({n.name for s in (rule.when, rule.points, rule.each_parts()[1] if rule.each else None)
                               if isinstance(s, str) for n in parse(s).walk()
                               if isinstance(n, Attr) and isinstance(n.obj, Name) and n.obj.id == "department"})
                unlocked = tuple(f"items.{i}={V.format_value(local['items'].get(i))}" for i in sorted(self.rule_reads(rule)))
                lines.append(_line(criterion.id, rule.id, points, tuple(f"department.{n}" for n in read) + unlocked,
                                   self.text(rule.text, local)))
            if lines and criterion.hit == "first":
                break
        return self.item_lines(criterion, lines, env)

    def rate_lines(self, criterion, cases, env) -> list[dict]:
        rate = criterion.rate
        marks = [(c.case, c.rates[criterion.id]) for c in cases if criterion.id in c.rates]
        eligible = [(case_id, mark) for case_id, mark in marks if mark[0]]
        if rate.hit is None:  # a ratio of sums: pooled over the counted cases; no item counted reads as empty
            numerator = sum((mark[3] for _, mark in eligible), 0)
            denominator = sum((mark[4] for _, mark in eligible), 0)
            if denominator == 0:
                eligible = []
            else:
                local = {**env, "rate": V.normal(Fraction(numerator, 1) / denominator),
                         "numerator": V.normal(Fraction(numerator)), "denominator": V.normal(Fraction(denominator)),
                         "cases": len(eligible)}
                points = self.expr(rate.points, local)
                if V.kind(points) != "number":
                    raise InterpError("rate points must be a number")
                return self.item_lines(criterion, [_line(criterion.id, None, points, (), self.text(rate.text, local), "rate")],
                                       local)
        if not eligible:
            text = self.text(rate.empty, env) if rate.empty else ""
            return self.item_lines(criterion, [_line(criterion.id, None, 0, (), text, "rate")], env)
        hits = [(case_id, mark) for case_id, mark in eligible if mark[1]]
        local = {**env, "rate": V.normal(Fraction(len(hits), len(eligible))), "hits": len(hits), "cases": len(eligible)}
        points = self.expr(rate.points, local)
        if V.kind(points) != "number":
            raise InterpError("rate points must be a number")
        evidence = tuple(f"{case_id}/{e}" for case_id, mark in hits for e in mark[2])
        return self.item_lines(criterion, [_line(criterion.id, None, points, evidence, self.text(rate.text, local), "rate")],
                               local)

    def categories(self, cases, env):
        parts = []
        items: dict = {}
        for category in self.spec.category:
            mine = [c for c in cases if c.category == category.id]
            if not mine:
                continue
            lines, points = self.scored(mine, {**env, "category": category.id}, category.id)
            total = _sum(lines)
            low, high = self.const(category.min), self.const(category.max)
            if _clamp(total, low, high) != total:
                text = self.texts["category_clamp"].format(min=V.format_value(low), max=V.format_value(high),
                                                           category=category.title)
                lines.append(_line(None, None, _clamp(total, low, high) - total, (), text, "clamp", category=category.id))
            parts.append((category, mine, lines))
            items.update(points)
        weight_sum = sum((V.from_data(c.weight) for c, _, _ in parts), 0)
        present = {c.id for c, _, _ in parts}
        lines = [_line(None, None, 0, (), self.texts["category_empty"].format(category=c.title), "weight", category=c.id)
                 for c in self.spec.category if c.id not in present]
        summaries = []
        for category, mine, category_lines in parts:
            weight = V.normal(Fraction(V.from_data(category.weight)) / weight_sum if weight_sum else Fraction(1, len(parts)))
            subtotal = _sum(category_lines)
            text = self.texts["category_weight"].format(category=category.title, count=len(mine),
                                                        subtotal=V.format_value(V.normal(Fraction(subtotal))),
                                                        weight=V.format_value(weight))
            lines += category_lines
            lines.append(_line(None, None, subtotal * (weight - 1), (), text, "weight", category=category.id))
            summaries.append({"category": category.id, "count": len(mine), "subtotal": V.normal(Fraction(subtotal)),
                              "weight": weight})
        return lines, items, summaries

    def grade(self, total, limit):
        bands = sorted(self.spec.grade, key=lambda g: g.min, reverse=True)
        found = next((b for b in bands if total >= b.min and (b.max is None or total <= b.max)), None)
        if found is None or limit is None:
            return found.name if found else None
        return self.lower_grade(found.name, limit)

    def lower_grade(self, current, other):
        order = {g.name: g.min for g in self.spec.grade}
        return other if current is None or order[other] < order[current] else current

    def rank(self, results: list[dict]) -> None:
        spec = self.spec.ranking
        groups: dict = {}
        for result in results:
            result["rank"] = None
            if result["cases"] >= self.const(spec.min_cases) and result["_rankable"]:
                groups.setdefault(result["group"], []).append(result)
        for members in groups.values():
            distinct = sorted({m["_ranked_by"] for m in members}, reverse=spec.order == "desc")
            for member in members:
                value = member["_ranked_by"]
                better = sum(1 for m in members if (m["_ranked_by"] > value if spec.order == "desc"
                                                    else m["_ranked_by"] < value))
                member["rank"] = better + 1 if spec.ties == "shared" else distinct.index(value) + 1


def _sum(lines) -> object:
    return V.normal(Fraction(sum((line["points"] for line in lines), 0)))


def _clamp(total, low, high):
    if low is not None:
        total = max(total, low)
    if high is not None:
        total = min(total, high)
    return total


def _base_of(lines, category) -> object:
    return sum((line["points"] for line in lines
                if line["kind"] == "base" and line["criterion"] is None and line["category"] == category), 0)


# ------------------------------------------------------------------ the product's results in the same shape

def product_handler_view(result) -> tuple:
    """A product HandlerResult as the interpreter's HandlerOut compares."""
    lines = [_line(x.criterion, x.rule, x.points, x.evidence, x.text, x.kind) for x in result.lines]
    department_lines = [_line(x.criterion, x.rule, x.points, x.evidence, x.text, x.kind, x.case)
                        for x in result.department_lines]
    rates = {k: (m.eligible, m.hit, tuple(m.evidence), m.numerator, m.denominator) for k, m in result.rates.items()}
    total = None if result.total is None else V.normal(Fraction(result.total))
    return (result.case, result.department, result.role, result.rubric, result.category, total, lines,
            department_lines, rates)


def handler_view(out: HandlerOut) -> tuple:
    return (out.case, out.department, out.role, out.rubric, out.category, out.total, out.lines, out.department_lines,
            out.rates)


def product_department_view(result) -> dict:
    lines = [_line(x.criterion, x.rule, x.points, x.evidence, x.text, x.kind, x.case, x.category) for x in result.lines]
    return {"department": result.department, "exact_total": V.normal(Fraction(result.exact_total)), "total": result.total,
            "grade": result.grade, "rank": result.rank, "base": V.normal(Fraction(result.base)),
            "rubrics": [(r.rubric, r.count, r.mean, r.weight) for r in result.rubrics], "lines": lines,
            "criteria": {k: V.normal(Fraction(v)) for k, v in result.criteria.items()}, "group": result.group,
            "categories": [{"category": c.category, "count": c.count, "subtotal": V.normal(Fraction(c.subtotal)),
                            "weight": c.weight} for c in result.categories],
            "scorers": [(s.scorer, s.score, s.weight) for s in result.scorers], "cases": len(result.cases),
            "indicators": [_line(x.criterion, x.rule, x.points, x.evidence, x.text, x.kind, x.case, x.category)
                           for x in result.indicators]}


def department_view(result: dict) -> dict:
    return {**{k: v for k, v in result.items() if not k.startswith("_")},
            "criteria": {k: V.normal(Fraction(v)) for k, v in result["criteria"].items()}}
